"""Salesforce's words on the admin pages, in French and English (its registry line's `web.words`; the admin pages'
i18n adds them)."""

from __future__ import annotations

WORDS = {
    "disconnect": ("Déconnecter Salesforce", "Disconnect Salesforce"),
    "connect_salesforce": ("Connecter (ou reconnecter) Salesforce", "Connect (or reconnect) Salesforce"),
    "test_ok_salesforce": ("La connexion fonctionne : Salesforce répond ({usage}).", "The connection works: Salesforce answers ({usage})."),
    "sf_object": ("Objet de la mission", "Mission object"),
    "sf_name": ("Nom de la mission", "Mission name"),
    "sf_start_date": ("Date de début", "Start date"),
    "sf_end_date": ("Date de fin", "End date"),
    "sf_consultant_contact": ("Consultant (contact)", "Consultant (contact)"),
    "sf_consultant_user": ("Consultant (utilisateur)", "Consultant (user)"),
    "sf_manager_user": ("Manager", "Manager"),
    "sf_business_engineer_user": ("Ingénieur d'affaires", "Business engineer"),
    "sf_hr_user": ("RH", "HR"),
    "sf_account": ("Compte client", "Client account"),
    "sf_client_contact": ("Contact client", "Client contact"),
    "sf_status": ("Statut", "Status"),
    "sf_end_reason": ("Motif de fin", "End reason"),
    "sf_consultant_manager_user": ("Manager du consultant (sur sa fiche)", "The consultant's own manager"),
    "sf_consultant_left": ("A quitté l'entreprise (case ou valeur)", "Left the firm (checkbox or value)"),
    "sf_contract_end": ("Fin du contrat du consultant", "The consultant's contract end"),
    "sf_occupation": ("Taux d'occupation de la mission (%)", "The mission's occupation (%)"),
    "sf_daily_cost": ("Coût journalier du consultant", "The consultant's daily cost"),
    "sf_status_values": ("Statuts qui veulent dire « annulée »", "Status values meaning cancelled"),
    "sf_status_values_help": ("valeur=cancelled, par exemple Cancelled=cancelled", "value=cancelled, e.g. Cancelled=cancelled"),
    "sf_reason_values": ("Motifs de fin et leur cas", "End reasons and their case"),
    "sf_reason_values_help": (
        "valeur=client ou valeur=consultant, par exemple Client=client",
        "value=client or value=consultant, e.g. Client=client",
    ),
    "sf_usage": ("{used} appels d'API utilisés sur {limit} aujourd'hui", "{used} of {limit} API calls used today"),
    "sf_usage_unknown": ("consommation d'API inconnue", "API usage unknown"),
    "sf_trigger_outbound_message": ("déclenché par un message sortant (Outbound Message)", "triggered by an Outbound Message"),
    "sf_trigger_flow": ("déclenché par un appel HTTP de Flow", "triggered by a Flow HTTP callout"),
    # issue #30: where the org sends its changes, the secret in a header where Salesforce can add one
    "delivery_flow": (
        "Appel HTTP de Flow : l'URL du Named Credential (sans secret) et l'en-tête personnalisé que son "
        "External Credential ajoute à chaque appel :",
        "Flow HTTP callout: the Named Credential's URL (no secret in it) and the custom header its External Credential adds to every call:",
    ),
    "delivery_outbound": (
        "Message sortant (Outbound Message) : Salesforce n'y accepte qu'une URL, le secret en fait donc partie :",
        "Outbound Message: Salesforce takes a URL only there, so the secret is part of it:",
    ),
}
