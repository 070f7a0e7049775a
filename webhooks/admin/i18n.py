"""The admin pages' words in French and English."""
from __future__ import annotations

WORDS = {
    "admin": ("Administration Intermission", "Intermission admin"),
    "overview": ("Vue d'ensemble", "Overview"), "playbook": ("Playbook", "Playbook"),
    "mapping": ("Correspondances", "Mapping"), "preview": ("Aperçu", "Preview"),
    "activity": ("Journal", "Activity"), "surveys": ("Questionnaires", "Surveys"),
    "connection": ("Connexion", "Connection"), "test_connection": ("Tester la connexion", "Test connection"),
    "connected": ("Connecté", "Connected"), "not_connected": ("Non connecté", "Not connected"),
    "enabled": ("Actif", "Enabled"), "paused": ("En pause", "Paused"),
    "pause": ("Mettre en pause (coupe-circuit)", "Pause (kill switch)"), "resume": ("Réactiver", "Resume"),
    "save": ("Enregistrer", "Save"), "saved": ("Enregistré.", "Saved."), "edit": ("Modifier", "Edit"),
    "add_step": ("Ajouter une étape", "Add a step"), "step": ("Étape", "Step"), "cases": ("Cas", "Cases"),
    "kind": ("Type", "Kind"), "assignee": ("Responsable", "Assignee"), "offset": ("Décalage", "Offset"),
    "days": ("jours", "days"), "unit": ("Unité", "Unit"), "anchor": ("Référence", "Anchor"),
    "priority": ("Priorité", "Priority"), "title_fr": ("Titre (français)", "Title (French)"),
    "title_en": ("Titre (anglais)", "Title (English)"), "text_fr": ("Texte (français)", "Text (French)"),
    "text_en": ("Texte (anglais)", "Text (English)"), "enabled_step": ("Étape active", "Step enabled"),
    "reset_step": ("Revenir au texte par défaut", "Back to the default"),
    "mission": ("Mission", "Mission"), "show": ("Afficher", "Show"), "due": ("Échéance", "Due"),
    "case": ("Cas", "Case"), "why": ("Pourquoi", "Why"), "op": ("Opération", "Operation"),
    "no_missions": ("Aucune mission reçue pour l'instant.", "No mission received yet."),
    "failures": ("Échecs", "Failures"),
    "refused_deliveries": ("Envois refusés (rien n'a été mis en file)", "Refused deliveries (nothing was queued)"),
    "last_seen": ("Dernier", "Last"), "first_seen": ("Premier", "First"), "count": ("Nombre", "Count"),
    "retry": ("Relancer", "Retry"), "none": ("Rien à signaler.", "Nothing to report."),
    "when": ("Quand", "When"), "change": ("Changement", "Change"), "trigger": ("Déclencheur", "Trigger"),
    "answers": ("Réponses", "Answers"), "average": ("Moyenne", "Average"),
    "satisfaction": ("Satisfaction", "Satisfaction"), "recommendation": ("Recommandation", "Recommendation"),
    "errors": ("Corrigez les champs signalés.", "Please fix the fields marked below."),
    "why_gone": ("supprimée dans l'outil par quelqu'un : laissée supprimée, jamais recréée",
                 "deleted in the host by someone: left deleted, never recreated"),
    "why_done": ("close dans l'outil par quelqu'un : conservée telle quelle, jamais réécrite ni recréée",
                 "closed in the host by someone: kept as it is, never rewritten or recreated"),
    "why_edited": ("modifiée dans l'outil par quelqu'un : conservée telle quelle, jamais réécrite ni recréée",
                   "edited in the host by someone: kept as it is, never rewritten or recreated"),
    "why_closed": ("modifiée par quelqu'un puis plus prévue : close avec une note, pas supprimée",
                   "edited in the host by someone, then no longer planned: closed with a note, not deleted"),
    "why_unverified": ("impossible à vérifier dans l'outil (lectures refusées ou incomplètes) : en attente, réessayée, "
                       "ni tenue pour supprimée ni recréée",
                       "cannot be verified in the host (its answers were refused or incomplete): held and retried, "
                       "neither taken for deleted nor created again"),
    "late": ("en retard", "late"), "held": ("missions en attente", "missions on hold"),
    "configure": ("Configurer", "Configure"), "not_configured": ("À configurer", "Not configured"),
    "needs_connecting": ("À reconnecter", "Needs connecting"),
    "you": ("vous (l'administrateur qui a ouvert cette page)", "you (the admin who opened this page)"),
    "use_me": ("Utiliser mon compte et enregistrer le webhook", "Use my account and register the webhook"),
    "technical_user": ("Utilisateur technique", "Technical user"),
    "planning": ("Règles de planification", "Planning rules"),
    "no_manager": ("Ces missions ne nomment pas de manager : leurs étapes de manager vont au manager du consultant, "
                   "sinon au responsable par défaut.", "These missions name no manager: their manager steps go to "
                   "the consultant's own manager, else to the default owner."),
    "goes_to": ("étapes pour", "steps go to"),
    "default_or_technical": ("le manager par défaut (ou l'utilisateur technique)",
                             "the default manager (or the technical user)"),
    "country": ("Pays des jours fériés (code)", "Public holidays: country (code)"),
    "subdivision": ("Région (ex. 57 Moselle, 6AE Alsace)", "Region (e.g. 57 Moselle, 6AE Alsace)"),
    "stale_after_days": ("Mission découverte plus de N jours après sa fin : pas d'étapes de fin",
                         "Mission first seen over N days after its end: no end-of-mission steps"),
    "bench_threshold": ("Intercontrat sous ce taux d'occupation ailleurs (%)",
                        "On the bench below this occupation elsewhere (%)"),
    "default_owner": ("Responsable par défaut (id)", "Default owner (id)"),
    "daily_cap": ("Étapes en retard par personne et par jour, au plus", "Late steps per person and day, at most"),
    "chain_by": ("Une mission suivante qui démarre aussitôt la prolonge si elle est…",
                 "A next mission starting right after continues this one when it is…"),
    "chain_project": ("sur le même projet", "on the same project"),
    "chain_client": ("chez le même client", "for the same client"),
}

# Issue #16: the bench dashboard, the timeline, labels for codes, messages (additive: new keys only)
WORDS.update({
    "bench": ("Intercontrat", "Bench"), "timeline": ("Frise", "Timeline"),
    "case_natural": ("Fin naturelle", "Natural end"), "case_client": ("Fin anticipée par le client", "Ended early by the client"),
    "case_consultant": ("Départ anticipé du consultant", "Ended early by the consultant"),
    "case_extension": ("Prolongation", "Extension"), "case_cancellation": ("Annulation", "Cancellation"),
    "case_restaffed": ("Nouvelle mission", "Restaffed"),
    "case_continued": ("Mission reconduite", "Mission continues"),
    "case_staffed_elsewhere": ("Encore en mission ailleurs", "Still staffed elsewhere"),
    "role_manager": ("Manager", "Manager"), "role_consultant": ("Consultant", "Consultant"),
    "role_business_engineer": ("Ingénieur d'affaires", "Business engineer"), "role_hr": ("RH", "HR"),
    "role_client_contact": ("Contact client", "Client contact"),
    "kind_task": ("Tâche", "Task"), "kind_reminder": ("Rappel", "Reminder"), "kind_survey": ("Questionnaire", "Survey"),
    "kind_bench": ("Intercontrat", "Bench"),
    "op_create": ("à créer", "to create"), "op_update": ("à mettre à jour", "to update"),
    "op_unchanged": ("inchangée", "unchanged"), "op_cancel": ("à annuler", "to cancel"),
    "op_kept": ("conservée (travail d'une personne)", "kept (someone's work)"),
    "op_held": ("en attente (impossible à vérifier)", "held (cannot verify)"),
    "state_done": ("faite", "done"), "state_late": ("en retard", "late"), "state_planned": ("prévue", "planned"),
    "state_written": ("écrite dans l'outil", "in the host"), "state_dismissed": ("supprimée par quelqu'un", "deleted by someone"),
    "state_kept": ("modifiée par quelqu'un", "edited by someone"), "state_closed": ("close avec une note", "closed with a note"),
    "state_intent": ("en cours d'écriture", "being written"),
    "activity_training": ("Formation", "Training"), "activity_internal_project": ("Projet interne", "Internal project"),
    "activity_mission_search": ("Recherche de mission", "Mission search"),
    "activity_mecenat": ("Mécénat de compétences", "Skills volunteering"),
    "activity_unrecorded": ("Sans activité relevée", "No activity recorded"),
    "on_bench_now": ("En intercontrat aujourd'hui", "On the bench today"), "since": ("Depuis", "Since"),
    "until": ("Jusqu'au", "Until"), "unknown_yet": ("pas de mission prévue", "no next mission yet"),
    "consultant": ("Consultant", "Consultant"), "bench_days": ("Jours d'intercontrat", "Bench days"),
    "this_month": ("Ce mois-ci", "This month"), "this_quarter": ("Ce trimestre", "This quarter"),
    "cost": ("Coût", "Cost"), "daily_cost": ("Coût journalier", "Daily cost"), "rate": ("Taux d'intercontrat", "Bench rate"),
    "rate_now": ("Taux aujourd'hui", "Rate today"), "benchmark": ("Repère du secteur : 10 à 15 %", "Industry benchmark: 10–15 %"),
    "bench_below": ("sous le repère", "below the benchmark"), "bench_within": ("dans le repère", "within the benchmark"),
    "bench_above": ("au-dessus du repère", "above the benchmark"),
    "source_host": ("outil", "host"), "source_default": ("défaut", "default"), "source_unknown": ("inconnu", "unknown"),
    "shares": ("À quoi a servi l'intercontrat (ce trimestre)", "What the bench went to (this quarter)"),
    "mecenat_saving": ("Économie du mécénat de compétences", "Skills-volunteering (mécénat) tax saving"),
    "margin_of": ("L'intercontrat de ce mois coûte la marge de {n} consultants en mission",
                  "This month's bench costs the margin of {n} consultants on mission"),
    "margin_source_tenant": ("marge journalière du paramétrage : {m}", "daily margin from the settings: {m}"),
    "margin_source_one_in_five": ("repère : 5 consultants en mission financent 1 intercontrat (marge = coût / 5 = {m})",
                                  "benchmark: 5 consultants on mission pay for 1 on the bench (margin = cost / 5 = {m})"),
    "cost_unknown": ("{n} jours sans coût connu : renseignez un coût journalier par défaut ci-dessous.",
                     "{n} days without a known cost: set a default daily cost below."),
    "months_chart": ("Jours d'intercontrat par mois (12 mois)", "Bench days per month (12 months)"),
    "filter": ("Filtrer", "Filter"), "only_now": ("Seulement aujourd'hui", "Only today"),
    "page": ("Page", "Page"), "previous": ("Précédente", "Previous"), "next": ("Suivante", "Next"),
    "csv": ("Exporter en CSV", "Export as CSV"), "settings": ("Paramètres", "Settings"),
    "default_daily_cost": ("Coût journalier par défaut (€)", "Default daily cost (€)"),
    "daily_margin": ("Marge journalière d'un consultant en mission (€)", "Daily margin of a consultant on mission (€)"),
    "gross_daily_salary": ("Salaire brut journalier (€, sinon coût / 1,5)", "Gross daily salary (€, else cost / 1.5)"),
    "bad_amount": ("Saisissez un montant positif en euros (par exemple 450), ou laissez vide.",
                   "Enter a positive amount in euros (for example 450), or leave it empty."),
    "no_bench": ("Personne n'est en intercontrat.", "Nobody is on the bench."),
    "today": ("Aujourd'hui", "Today"), "end": ("Fin", "End"), "start": ("Début", "Start"),
    "owner": ("Responsable", "Owner"), "open_in_host": ("Ouvrir", "Open"), "state": ("État", "State"),
    "no_actions": ("Aucune action pour cette mission.", "No action for this mission."),
    "not_found": ("Page introuvable", "Page not found"),
    "not_found_text": ("Cette page d'administration n'existe pas. Revenez à la vue d'ensemble.",
                       "This admin page does not exist. Go back to the overview."),
    "access_denied": ("Accès refusé", "Access denied"),
    "access_denied_text": ("Ce lien d'administration est invalide ou a expiré. Rouvrez Intermission depuis votre "
                           "outil, ou connectez-vous sur /admin/login.",
                           "This admin link is invalid or expired: open Intermission again from your tool, or sign "
                           "in at /admin/login."),
    "form_refused": ("Formulaire refusé", "Form refused"),
    "form_refused_text": ("Ce formulaire ne vient pas de la page d'administration (jeton manquant ou invalide) : rien "
                          "n'a été modifié.", "This form did not come from the admin page (missing or invalid "
                          "token): nothing was changed."),
    "flash_paused": ("En pause : les webhooks sont ignorés et le travail en attente est sauté.",
                     "Paused: webhooks are ignored and queued work is skipped."),
    "flash_enabled": ("Réactivé.", "Resumed."),
    "flash_not_configured": ("Configuration impossible : {reason}", "Not configured: {reason}"),
    "failure_not_found": ("Échec introuvable", "Failure not found"),
    "failure_not_found_text": ("Cet échec n'appartient pas à cet espace.", "This failure is not one of this workspace's."),
    "test_ok": ("La connexion fonctionne : {host} répond.", "The connection works: {host} answers."),
    "test_auth": ("{host} refuse les identifiants {of_tenant} : reconnectez l'application ou vérifiez ses jetons.",
                  "{host} refuses {tenant}'s credentials: reconnect the app or check its tokens."),
    "test_unreachable": ("{host} ne répond pas pour le moment ({detail}) : réessayez dans quelques minutes.",
                         "{host} does not answer right now ({detail}): try again in a few minutes."),
    "test_url_refused": ("Aucun appel n'est parti : {detail}.", "No call was made: {detail}."),
    "test_refused": ("{host} a refusé l'appel de test : {detail}", "{host} refused the test call: {detail}"),
    "test_config": ("La configuration {of_tenant} est incomplète : {detail}", "{tenant}'s set-up is incomplete: {detail}"),
    "test_mapping_ok": ("La correspondance est valide : {detail}.", "The mapping is valid: {detail}."),
    "test_mapping_ko": ("La correspondance ne correspond pas à l'outil : {detail}.",
                        "The mapping does not match the host: {detail}."),
})

UNITS = {("business", "fr"): ("jour ouvré", "jours ouvrés"), ("business", "en"): ("working day", "working days"),
         ("calendar", "fr"): ("jour", "jours"), ("calendar", "en"): ("day", "days")}
ANCHORS = {"end": ("la fin", "the end"), "notice": ("l'annonce de la fin", "the early-end notice"),
           "bench": ("le premier jour d'intercontrat", "the first bench day")}

ZERO = {"end": ("le jour de la fin", "on the end day"), "notice": ("le jour de l'annonce", "on the day of the notice"),
        "bench": ("le premier jour d'intercontrat", "on the first bench day")}


def label(prefix: str, code: str | None, lang: str) -> str:
    """The admin's word for a code (`label('case', 'natural', 'fr')` → 'Fin naturelle'); the code if unknown."""
    key = f"{prefix}_{code}"
    return word(key, lang) if known(key) else (code or "")


def offset_label(days: int, unit: str, anchor: str, *, lang: str) -> str:
    """'30 jours ouvrés avant la fin', 'on the first bench day', '2 days after the early-end notice'."""
    fr_anchor, en_anchor = ANCHORS.get(anchor, (anchor, anchor))
    if days == 0:
        fr, en = ZERO.get(anchor, (anchor, anchor))
        return en if lang == "en" else fr
    one, many = UNITS.get((unit, "en" if lang == "en" else "fr"), (unit, unit))
    count = f"{abs(days)} {one if abs(days) == 1 else many}"
    if lang == "en":
        return f"{count} {'before' if days < 0 else 'after'} {en_anchor}"
    return f"{count} {'avant' if days < 0 else 'après'} {fr_anchor}"


def of(name: str, lang: str) -> str:
    """'de Boond' / "d'Acme" in French (elision before a vowel or a mute h), 'of Acme' in English."""
    if lang == "en":
        return f"of {name}"
    return f"d'{name}" if name[:1].lower() in "aeiouyhàâéèêëîïôûü" else f"de {name}"


def say(key: str, lang: str, **values) -> str:
    """A message with its values filled in (`say('resume_refused', 'fr', tenant=of('Acme', 'fr'))`)."""
    return word(key, lang).format(**values)


def word(key: str, lang: str) -> str:
    """One UI word in `lang` (French by default)."""
    fr, en = _words().get(key, (key, key))
    return en if lang == "en" else fr


def known(key: str) -> bool:
    """Whether `key` is a word (the generic ones or a registered host's)."""
    return key in _words()


_HOSTS_ADDED: set[str] = set()  # the hosts' `web.words` already added


def _words() -> dict:
    """WORDS with each registered host's own added, once per host (its registry line's `web.words`)."""
    from handlers.hosts.registry import HOSTS, load

    for host in list(HOSTS.values()):
        if host.web.words and host.web.words not in _HOSTS_ADDED:
            _HOSTS_ADDED.add(host.web.words)
            WORDS.update(load(host.web.words))
    return WORDS

WORDS.update({  # issue #17: playbook changes applied, backfill progress, survey e-mails
    "progress": ("Avancement", "Progress"),
    "confirm_change": ("Confirmer la modification", "Confirm the change"),
    "cancel": ("Annuler", "Cancel"),
    "replan_count": ("{changing} mission(s) ouverte(s) sur {open} vont changer dans l'outil : {create} action(s) "
                     "créée(s), {update} modifiée(s), {cancel} annulée(s). Ce que quelqu'un a modifié ou clos est "
                     "conservé.",
                     "{changing} of {open} open mission(s) will change in the host: {create} action(s) created, "
                     "{update} updated, {cancel} cancelled. What someone edited or closed is kept."),
    "replan_none": ("Aucune mission ouverte ne change avec cette modification.",
                    "No open mission changes with this edit."),
    "replan_queued": ("missions ouvertes en cours de re-planification (voir Avancement)",
                      "open missions being re-planned (see Progress)"),
    "run_kind_install": ("Reprise à l'installation", "Backfill at install"),
    "run_kind_cli": ("Reprise (ligne de commande)", "Backfill (command line)"),
    "run_kind_playbook": ("Application du playbook", "Playbook applied"),
    "run_kind_mapping": ("Application des correspondances", "Mapping applied"),
    "run_listing": ("liste des missions en cours", "listing the missions"), "run_running": ("en cours", "running"),
    "run_counting": ("lecture des échéances de chacun (pour ne pas surcharger une journée)",
                     "reading everyone's due days (so that no day is overloaded)"),
    "run_done": ("terminé", "done"), "run_stopped": ("arrêté", "stopped"),
    "no_run": ("Aucune reprise lancée pour l'instant.", "No backfill has run yet."),
    "missions_read": ("missions lues", "missions read"), "missions_planned": ("planifiées", "planned"),
    "missions_failed": ("en échec", "failed"), "missions_held": ("en attente", "on hold"),
    "mail_failures": ("E-mails de questionnaire non remis", "Survey e-mails not delivered"),
    "recipient": ("Destinataire", "Recipient"), "error": ("Erreur", "Error"),
})

WORDS.update({  # issue #27: the set-up flow
    "setup": ("Mise en route", "Set-up"),
    "setup_step_of": ("étape %d sur %d", "step %d of %d"),
    "setup_step_connection": ("Connexion", "Connection"), "setup_step_states": ("États", "States"),
    "setup_step_owners": ("Responsables", "Owners"), "setup_step_place": ("Calendrier", "Calendar"),
    "setup_step_preview": ("Prochaines fins", "Next ends"), "setup_step_activate": ("Activation", "Activate"),
    "setup_continue": ("Continuer", "Continue"),
    "setup_connection_first": ("La connexion ne fonctionne pas encore : réglez-la avant de continuer.",
                               "The connection does not work yet: fix it before going on."),
    "setup_states_intro": ("Voici vos propres états, avec ce qu'ils veulent dire pour Intermission. La proposition "
                           "vient de vos libellés : vérifiez-la, puis confirmez.",
                           "Here are your own states, with what they mean to Intermission. The proposal comes from "
                           "your labels: check it, then confirm."),
    "setup_states_none": ("Vos états n'ont pas pu être lus pour l'instant : revenez à cette étape plus tard.",
                          "Your states could not be read yet: come back to this step later."),
    "setup_states_delivery": ("États des prestations", "Delivery states"),
    "setup_states_resource": ("États des ressources", "Resource states"),
    "setup_host_label": ("Votre libellé", "Your label"), "setup_means": ("Signifie", "Means"),
    "setup_not_mapped": ("sans signification (fin prévue)", "no meaning (a planned end)"),
    "setup_delivery_active": ("mission en cours", "mission running"),
    "setup_delivery_natural": ("fin prévue", "planned end"),
    "setup_delivery_client": ("fin anticipée par le client", "ended early by the client"),
    "setup_delivery_consultant": ("départ anticipé du consultant", "ended early by the consultant"),
    "setup_delivery_cancelled": ("mission annulée", "mission cancelled"),
    "setup_resource_active": ("présent", "present"), "setup_resource_bench": ("en intercontrat", "on the bench"),
    "setup_resource_left": ("a quitté l'entreprise", "left the firm"),
    "setup_resource_leaving": ("sur le départ (à sa date de sortie)", "leaving (on their exit date)"),
    "setup_confirm_states": ("Confirmer ces états", "Confirm these states"),
    "setup_owners_intro": ("Quand ni la mission ni la fiche du consultant ne nomment la personne, l'étape va à ces "
                           "responsables par défaut. Cherchez-les par leur nom.",
                           "When neither the mission nor the consultant's record names the person, the step goes to "
                           "these default owners. Search them by name."),
    "setup_search": ("Rechercher", "Search"), "setup_find": ("Chercher", "Find"),
    "setup_default_owner": ("Responsable par défaut", "Default owner"), "setup_choose": ("— choisir —", "— choose —"),
    "setup_people_unreadable": ("La liste des personnes n'a pas pu être lue : réessayez.",
                                "The list of people could not be read: try again."),
    "setup_owner_missing": ("Choisissez une personne pour chaque rôle.", "Choose a person for each role."),
    "setup_place_intro": ("Les échéances tombent les jours ouvrés de ce pays, à l'heure de ce fuseau.",
                          "Due dates fall on this country's working days, in this time zone."),
    "setup_place_proposed": ("La proposition vient des réglages de votre outil.", "The proposal comes from your tool's settings."),
    "setup_country": ("Pays (jours fériés)", "Country (public holidays)"),
    "setup_region": ("Région aux jours fériés propres", "Region with its own holidays"),
    "setup_no_region": ("aucune", "none"), "setup_zone": ("Fuseau horaire", "Time zone"),
    "bad_zone": ("Choisissez un fuseau horaire de la liste.", "Choose a time zone from the list."),
    "bad_region": ("Cette région n'existe pas dans ce pays : choisissez-en une de la liste, ou aucune.",
                   "This region is not one of this country's: choose one from the list, or none."),
    "setup_preview_intro": ("Voici les cinq prochaines fins de mission telles que votre outil les recevra : le cas, "
                            "chaque étape, sa date et la personne qui l'aura.",
                            "Here are the next five mission ends as your tool will get them: the case, each step, "
                            "its date and the person who will get it."),
    "setup_preview_unreadable": ("Les missions n'ont pas pu être lues pour l'instant.",
                                 "The missions could not be read right now."),
    "setup_no_ends": ("Aucune fin de mission dans les prochains mois.", "No mission ends in the coming months."),
    "setup_nobody": ("personne", "nobody"),
    "setup_still_missing": ("Il manque encore :", "Still missing:"),
    "setup_missing_connection": ("la connexion", "the connection"), "setup_missing_states": ("les états", "the states"),
    "setup_missing_owner_manager": ("un manager par défaut", "a default manager"),
    "setup_missing_owner_business_engineer": ("un ingénieur d'affaires par défaut", "a default business engineer"),
    "setup_missing_owner_hr": ("une personne RH par défaut", "a default HR person"),
    "setup_activate_intro": ("En activant, Intermission écrit les étapes des missions en attente et de celles qui "
                             "existent déjà.", "Once activated, Intermission writes the steps of the waiting missions "
                             "and of those that exist already."),
    "setup_held": ("%d changement(s) attendent la fin de la mise en route.", "%d change(s) wait for the set-up to end."),
    "setup_activate": ("Activer", "Activate"),
    "setup_not_ready": ("La mise en route n'est pas terminée : complétez les étapes signalées.",
                        "The set-up is not finished: complete the steps listed."),
    "setup_done": ("Mise en route terminée : {resumed} changement(s) en attente repris.",
                   "Set-up finished: {resumed} waiting change(s) resumed."),
    "setup_incomplete": ("Mise en route incomplète", "Set-up incomplete"),
    "setup_incomplete_text": ("Tant qu'elle n'est pas terminée, les changements sont gardés en attente, jamais perdus.",
                              "Until it is finished, changes are kept waiting, never lost."),
    "setup_resume": ("Reprendre la mise en route", "Continue the set-up"),
})

WORDS.update({  # issue #27: no code on any page
    "details": ("détails", "details"), "step_off": ("désactivée", "off"), "step_edited": ("modifiée", "edited"),
    "step_id": ("Identifiant de l'étape (lettres, chiffres, points)", "Step identifier (letters, digits, dots)"),
    "unit_business": ("jours ouvrés", "working days"), "unit_calendar": ("jours calendaires", "calendar days"),
    "anchor_end": ("la fin de mission", "the mission's end"), "anchor_notice": ("l'annonce de la fin", "the early-end notice"),
    "anchor_bench": ("le premier jour d'intercontrat", "the first bench day"),
    "priority_normal": ("normale", "normal"), "priority_high": ("haute", "high"),
    "respondent": ("Répondant", "Respondent"), "comment": ("Commentaire", "Comment"),
    "default_owner_of": ("Responsable par défaut", "Default owner"),
    "owner_unset": ("personne (à choisir dans la mise en route)", "nobody (choose them in the set-up)"),
    "choose_owners": ("Choisir les responsables par défaut", "Choose the default owners"),
    "run": ("Passage", "Run"), "actions_done": ("actions", "actions"),
    "trigger_webhook": ("changement reçu de l'outil", "change received from the host"),
    "trigger_tick": ("échéance du jour", "day's schedule"), "trigger_sweep": ("rattrapage", "catch-up"),
    "trigger_backfill": ("reprise à l'installation", "install backfill"), "trigger_playbook": ("playbook appliqué", "playbook applied"),
    "trigger_mapping": ("correspondances appliquées", "mapping applied"),
    "trigger_resume": ("reprise après attente", "resumed after a hold"),
    "trigger_sibling": ("autre mission du consultant", "the consultant's other mission"),
    "trigger_marketplace": ("installation", "installation"), "trigger_preview": ("aperçu", "preview"),
    "trigger_other": ("autre", "other"), "no_end_date": ("pas de date de fin", "no end date"),
})

WORDS.update({  # issue #27: the mapping page in words (Boond and Salesforce)
    "mapping_proposed": ("Proposition faite d'après vos libellés : vérifiez-la puis enregistrez pour la confirmer ; "
                         "d'ici là, un état sans signification compte comme une fin prévue.",
                         "Proposed from your labels: check it, then save to confirm it; until then a state without a "
                         "meaning counts as a planned end."),
    "mapping_entity": ("Fiche", "Record"), "mapping_proposal": ("Proposition", "Proposal"),
    "mapping_in_use": ("En usage", "In use"),
})


PLACEHOLDER_WORDS = {"consultant": ("le consultant", "the consultant"), "client": ("le client", "the client"),
                     "end_date": ("la date de fin", "the end date"), "mission": ("la mission", "the mission")}
WORDS.update({"new_step": ("Nouvelle étape", "New step")})


def placeholders_as_words(text: str, lang: str) -> str:
    """What the step editor shows: '{consultant}' → '{le consultant}' (the braces say it is replaced)."""
    out = text or ""
    for name, (fr, en) in PLACEHOLDER_WORDS.items():
        out = out.replace("{" + name + "}", "{" + (en if lang == "en" else fr) + "}")
    return out


def placeholders_from_words(text: str) -> str:
    """What the step editor saves: '{le consultant}' or '{the consultant}' → '{consultant}' (any case)."""
    import re

    out = text or ""
    for name, pair in PLACEHOLDER_WORDS.items():
        for said in pair:
            out = re.sub(r"\{\s*" + re.escape(said) + r"\s*\}", "{" + name + "}", out, flags=re.I)
    return out


def placeholders_in_words(text: str, lang: str) -> str:
    """A playbook text with its placeholders as words: '{consultant} libre le {end_date}' → 'le consultant libre le
    la date de fin' (what the admin reads; the host gets the values)."""
    out = text or ""
    for name, (fr, en) in PLACEHOLDER_WORDS.items():
        out = out.replace("{" + name + "}", en if lang == "en" else fr)
    return out

WORDS.update({  # issue #27: what needs attention
    "attention": ("À traiter", "Needs attention"), "attention_none": ("Rien à traiter.", "Nothing needs attention."),
    "attention_setup": ("La mise en route n'est pas terminée : les changements attendent.",
                        "The set-up is not finished: changes are waiting."),
    "attention_mapping": ("Les états proposés d'après vos libellés ne sont pas confirmés.",
                          "The states proposed from your labels are not confirmed."),
    "attention_paused": ("Intermission est en pause : rien n'est écrit.", "Intermission is paused: nothing is written."),
    "attention_held": ("{n} mission(s) en attente : {why}", "{n} mission(s) on hold: {why}"),
    "attention_failure": ("Une mise à jour a échoué : {why}", "An update failed: {why}"),
    "attention_open": ("Ouvrir", "Open"),
    "held_setup": ("mise en route à terminer", "set-up to finish"), "held_budget": ("quota d'appels épuisé", "API quota spent"),
    "held_consent": ("connexion à renouveler", "connection to renew"),
    "held_wait": ("l'outil demande d'attendre", "the host asked to wait"),
    "why_unavailable": ("l'outil ne répondait pas", "the host did not answer"),
    "why_auth": ("l'outil a refusé les identifiants", "the host refused the credentials"),
    "why_consent": ("la connexion doit être renouvelée", "the connection must be renewed"),
    "why_forbidden": ("l'utilisateur technique n'a pas les droits", "the technical user lacks the rights"),
    "why_not_found": ("la fiche n'existe plus dans l'outil", "the record no longer exists in the host"),
    "why_refused": ("l'outil a refusé une valeur", "the host refused a value"),
    "why_rate": ("l'outil a demandé d'attendre", "the host asked to wait"),
    "why_budget": ("le quota d'appels est épuisé", "the API quota is spent"),
    "why_timeout": ("le travail a pris trop de temps", "the work took too long"),
    "why_unexpected": ("erreur inattendue", "unexpected error"),
})

WORDS.update({  # issue #27: what the install backfill will write, before the admin activates
    "setup_forecast": ("Missions qui existent déjà : %d. Intermission y écrira %d action(s), dont %d en retard "
                       "(dues le prochain jour ouvré).", "Missions that exist already: %d. Intermission will write "
                       "%d action(s) for them, %d of them late (due the next working day)."),
    "setup_forecast_sample": ("Compté sur les %d premières missions.", "Counted on the first %d missions."),
    "setup_forecast_busiest": ("La personne la plus chargée : %s, %d action(s) le %s.",
                               "The busiest person: %s, %d action(s) on %s."),
})

WORDS.update({  # issue #27: the Salesforce connection test's API usage in words
    "search_mission": ("Chercher par consultant ou client", "Search by consultant or client"),
})

WORDS.update({  # issue #27: validation errors in words (webhooks/admin/validation.py), the field named by its label
    "err_missing": ("« {field} » est à remplir.", "“{field}” is required."),
    "err_number": ("« {field} » : un nombre entier, par exemple 5.", "“{field}”: a whole number, such as 5."),
    "err_min": ("« {field} » : au moins {limit}.", "“{field}”: at least {limit}."),
    "err_max": ("« {field} » : au plus {limit}.", "“{field}”: at most {limit}."),
    "err_empty": ("« {field} » ne peut pas être vide.", "“{field}” cannot be empty."),
    "err_long": ("« {field} » : au plus {limit} caractères.", "“{field}”: at most {limit} characters."),
    "err_choice": ("« {field} » : choisissez une valeur de la liste.", "“{field}”: choose a value from the list."),
    "err_value": ("« {field} » : cette valeur n'est pas acceptée.", "“{field}”: this value is not accepted."),
    "err_unknown_field": ("« {field} » n'est pas un réglage connu.", "“{field}” is not a known setting."),
    "err_placeholder": ("« {field} » : {{{name}}} n'est pas un mot à remplacer ; ceux possibles : {allowed}.",
                        "“{field}”: {{{name}}} is not a word to replace; the possible ones: {allowed}."),
    "err_braces": ("« {field} » : accolades mal formées ; un mot à remplacer s'écrit par exemple {{consultant}}, "
                   "une accolade seule se double.", "“{field}”: malformed braces; a word to replace is written "
                   "like {{consultant}}, a lone brace is doubled."),
    "err_case_twice": ("« {field} » : chaque cas une seule fois.", "“{field}”: each case only once."),
    "err_bench_anchor": ("« {field} » : une étape d'intercontrat se compte depuis le début de l'intercontrat.",
                         "“{field}”: a bench step counts from the first bench day."),
    "err_bench_kind": ("« {field} » : seul une étape d'intercontrat se compte depuis le début de l'intercontrat.",
                       "“{field}”: only a bench step counts from the first bench day."),
    "err_recur": ("« {field} » : seules les étapes d'intercontrat se répètent.", "“{field}”: only bench steps repeat."),
    "err_notice": ("« {field} » : l'annonce de la fin n'existe que pour une fin anticipée (par le client ou le "
                   "consultant).", "“{field}”: the early-end notice exists only for an early end (by the client or "
                   "the consultant)."),
    "err_id_taken": ("Cet identifiant est déjà celui d'une autre étape.", "This identifier is another step's already."),
    "err_playbook": ("Le playbook ainsi modifié ne serait plus valable : rien n'a été enregistré.",
                     "The playbook changed this way would no longer be valid: nothing was saved."),
    "err_pair": ("« {part} » : écrivez valeur=cas, par exemple 2=client.", "“{part}”: write value=case, such as "
                 "2=client."),
    "done_created": ("créée", "created"), "done_rescheduled": ("mise à jour", "updated"),
    "done_cancelled": ("annulée", "cancelled"), "done_kept": ("conservée (travail d'une personne)", "kept (someone's work)"),
    "done_dismissed": ("laissée telle quelle (supprimée ou close par une personne)",
                       "left as it is (deleted or closed by someone)"),
    "done_held": ("en attente (impossible à vérifier)", "held (cannot verify)"),
    "done_recovered": ("retrouvée dans l'outil (déjà écrite)", "found in the host (already written)"),
    "mission_host_id": ("Identifiant de la mission dans l'outil", "Mission id in the host"),
    "all_ops": ("toutes", "all"), "end_moved": ("fin : %s", "end: %s"), "no_mission": ("(mission inconnue)", "(unknown mission)"),
    "placeholders_legend": ("Mots à remplacer dans les titres et les textes (chaque langue les siens) :",
                            "Words to replace in titles and texts (each language its own):"),
    "country_pick": ("Pays des jours fériés", "Public holidays: country"),
    "region_pick": ("Région", "Region"),
    "no_region": ("Aucune (tout le pays)", "No region (the whole country)"),
})

WORDS.update({  # issue #30: where the org sends its changes, the secret in a header where Salesforce can add one
    "delivery_address": ("Adresse de réception des changements", "Where the org sends its changes"),
})
