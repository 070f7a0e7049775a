"""The admin pages' words in French and English."""
from __future__ import annotations

WORDS = {
    "admin": ("Administration Intermission", "Intermission admin"),
    "overview": ("Vue d'ensemble", "Overview"), "playbook": ("Playbook", "Playbook"),
    "mapping": ("Correspondances", "Mapping"), "preview": ("Aperçu", "Preview"),
    "activity": ("Journal", "Activity"), "surveys": ("Questionnaires", "Surveys"),
    "connection": ("Connexion", "Connection"), "test_connection": ("Tester la connexion", "Test connection"),
    "disconnect": ("Déconnecter Salesforce", "Disconnect Salesforce"),
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
