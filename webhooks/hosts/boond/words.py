"""Boond's words on the admin pages, in French and English (its registry line's `web.words`; the admin pages' i18n
adds them)."""

from __future__ import annotations

WORDS = {
    "choose_user": (
        "Choisissez l'utilisateur Boond dont les droits serviront aux rappels d'Intermission.",
        "Choose the Boond user whose rights Intermission's reminders will use.",
    ),
    "open_from_boond": (
        "Ouvrez Intermission depuis Boond (Administration > Apps) pour terminer l'installation.",
        "Open Intermission from Boond (Administration > Apps) to finish the set-up.",
    ),
    "resume_refused": (
        "Impossible de réactiver {tenant} : la configuration n'est pas terminée (utilisateur "
        "technique manquant). Ouvrez Intermission depuis Boond pour la terminer.",
        "{tenant} cannot be resumed: its set-up is not finished (no technical user yet). Open Intermission from Boond to finish it.",
    ),
    "flash_configured": ("Configuré avec {user} ; webhook enregistré dans Boond.", "Configured with {user}; webhook registered in Boond."),
    "flash_configured_paste": (
        "Configuré ; collez cette adresse de webhook dans Boond : {url}",
        "Configured; paste this webhook URL in Boond: {url}",
    ),
    "config_expired": ("Configuration expirée", "Configuration expired"),
    "config_expired_text": ("Rouvrez Intermission depuis Boond.", "Open Intermission again from Boond."),
    "test_ok_boond": (
        "La connexion fonctionne : Boond répond, au nom de {who}.",
        "The connection works: Boond answers, on behalf of {who}.",
    ),
    "boond_action_type": ("Type d'action Boond", "Boond action type"),
    "boond_action_type_help": (
        "Choisissez dans la liste des types de votre Boond ; vide : le type « Rappel » est pris dans votre dictionnaire.",
        "Pick from your Boond's types; empty: the reminder type is taken from your dictionary.",
    ),
    "boond_done_types": ("Types d'action qui veulent dire « fait »", "Action types that mean done"),
    "boond_done_types_help": (
        "Une action qu'une personne passe à l'un de ces types est conservée telle quelle.",
        "An action someone moves to one of these types is kept as it is.",
    ),
    "boond_delivery_states": ("États des prestations et leur sens", "Delivery states and their meaning"),
    "boond_delivery_states_help": (
        "Chaque état : en cours, fin prévue, fin par le client, départ du consultant ou "
        "annulée. Le plus simple : l'étape « États » de la mise en route.",
        "Each state: running, planned end, ended by the client, ended by the consultant or cancelled. Easiest: the set-up's States screen.",
    ),
    "boond_resource_states": ("États des ressources et leur sens", "Resource states and their meaning"),
    "boond_resource_states_help": (
        "Chaque état : présent, en intercontrat ou a quitté l'entreprise.",
        "Each state: present, on the bench or left the firm.",
    ),
    "positionings": (
        "Boond : positionner aussi les consultants proposés (état « Positionné », sans e-mail)",
        'Boond: also position the suggested consultants (state "Positionné", no e-mail)',
    ),
}
