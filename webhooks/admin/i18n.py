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
    "failures": ("Échecs", "Failures"), "retry": ("Relancer", "Retry"), "none": ("Aucun.", "None."),
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
    "late": ("en retard", "late"), "held": ("missions en attente", "missions on hold"),
    "configure": ("Configurer", "Configure"), "not_configured": ("À configurer", "Not configured"),
    "needs_connecting": ("À reconnecter", "Needs connecting"),
    "choose_user": ("Choisissez l'utilisateur Boond dont les droits serviront aux rappels d'Intermission.",
                    "Choose the Boond user whose rights Intermission's reminders will use."),
    "you": ("vous (l'administrateur qui a ouvert cette page)", "you (the admin who opened this page)"),
    "use_me": ("Utiliser mon compte et enregistrer le webhook", "Use my account and register the webhook"),
    "open_from_boond": ("Ouvrez Intermission depuis Boond (Administration > Apps) pour terminer l'installation.",
                        "Open Intermission from Boond (Administration > Apps) to finish the set-up."), "technical_user": ("Utilisateur technique", "Technical user"),
}


def word(key: str, lang: str) -> str:
    """One UI word in `lang` (French by default)."""
    fr, en = WORDS.get(key, (key, key))
    return en if lang == "en" else fr

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
    "run_listing": ("liste des missions en cours", "listing the missions"), "run_running": ("en cours", "running"),
    "run_done": ("terminé", "done"), "run_stopped": ("arrêté", "stopped"),
    "no_run": ("Aucune reprise lancée pour l'instant.", "No backfill has run yet."),
    "missions_read": ("missions lues", "missions read"), "missions_planned": ("planifiées", "planned"),
    "missions_failed": ("en échec", "failed"), "missions_held": ("en attente", "on hold"),
    "mail_failures": ("E-mails de questionnaire non remis", "Survey e-mails not delivered"),
    "recipient": ("Destinataire", "Recipient"), "error": ("Erreur", "Error"),
})
