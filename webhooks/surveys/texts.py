"""What the survey pages say, in French and English."""
from __future__ import annotations

TEXTS = {
    "fr": {
        "switch": "English",
        "title": "Votre avis sur la mission",
        "intro_consultant": "Votre mission « {mission} » chez {client} touche à sa fin. Trois questions, une minute : "
                            "votre regard nous aide à mieux accompagner les prochaines.",
        "intro_client_contact": "La mission « {mission} » de {consultant} touche à sa fin. Trois questions, une "
                                "minute : votre avis nous aide à améliorer notre travail avec vous.",
        "privacy": "Aucun compte n'est nécessaire. Ce lien est personnel et ne sert qu'une fois ; votre réponse est "
                   "transmise à votre interlocuteur chez {company}.",
        "satisfaction": "Dans l'ensemble, êtes-vous satisfait(e) de la mission ?",
        "satisfaction_hint": "1 = pas du tout satisfait(e), 5 = très satisfait(e)",
        "nps": "Recommanderiez-vous {company} à un proche ou à un collègue ?",
        "nps_hint": "0 = certainement pas, 10 = sans hésiter",
        "comment": "Un mot à ajouter ? (facultatif)",
        "comment_hint": "2 000 caractères au plus.",
        "submit": "Envoyer ma réponse",
        "error_summary": "Votre réponse n'a pas été enregistrée : corrigez les champs signalés.",
        "required": "Choisissez une note.",
        "range": "Cette note n'est pas valable : choisissez-en une dans la liste.",
        "too_long": "Votre commentaire dépasse 2 000 caractères : raccourcissez-le.",
        "thanks_title": "Merci !",
        "thanks": "Votre réponse est bien enregistrée. Merci d'avoir pris ce temps.",
        "already_title": "Merci, nous avons déjà votre réponse",
        "already": "Ce questionnaire a déjà reçu une réponse ; rien n'a été modifié.",
        "expired_title": "Ce lien a expiré",
        "expired": "Ce questionnaire n'accepte plus de réponse. Si vous souhaitez tout de même donner votre avis, "
                   "écrivez à votre interlocuteur habituel.",
        "invalid_title": "Lien non valable",
        "invalid": "Ce lien de questionnaire est incomplet ou a été modifié. Ouvrez-le de nouveau depuis le message "
                   "reçu, en le copiant en entier.",
        "forbidden_title": "Envoi refusé",
        "forbidden": "Cette réponse ne vient pas de la page du questionnaire (ou la page est trop ancienne). Rien "
                     "n'a été enregistré : rouvrez votre lien et répondez de nouveau.",
    },
    "en": {
        "switch": "Français",
        "title": "Your view of the mission",
        "intro_consultant": "Your mission \u201c{mission}\u201d at {client} is coming to an end. Three questions, one "
                            "minute: your view helps us support the next ones better.",
        "intro_client_contact": "{consultant}'s mission \u201c{mission}\u201d is coming to an end. Three questions, "
                                "one minute: your opinion helps us improve the way we work with you.",
        "privacy": "No account needed. This link is personal and works once; your answer goes to your contact at "
                   "{company}.",
        "satisfaction": "Overall, how satisfied are you with the mission?",
        "satisfaction_hint": "1 = not satisfied at all, 5 = very satisfied",
        "nps": "Would you recommend {company} to a friend or a colleague?",
        "nps_hint": "0 = certainly not, 10 = without hesitation",
        "comment": "Anything to add? (optional)",
        "comment_hint": "2,000 characters at most.",
        "submit": "Send my answer",
        "error_summary": "Your answer was not saved: please fix the fields marked below.",
        "required": "Please pick a score.",
        "range": "That score is not valid: please pick one from the list.",
        "too_long": "Your comment is over 2,000 characters: please shorten it.",
        "thanks_title": "Thank you!",
        "thanks": "Your answer is saved. Thank you for your time.",
        "already_title": "Thank you, we already have your answer",
        "already": "This survey has already been answered; nothing was changed.",
        "expired_title": "This link has expired",
        "expired": "This survey no longer takes answers. If you would still like to share your view, write to "
                   "your usual contact.",
        "invalid_title": "Invalid link",
        "invalid": "This survey link is incomplete or was altered. Open it again from the message you received, "
                   "copying it whole.",
        "forbidden_title": "Submission refused",
        "forbidden": "This answer did not come from the survey page (or the page is too old). Nothing was saved: "
                     "open your link again and answer once more.",
    },
}


def texts(language: str | None) -> dict[str, str]:
    """The texts of a language (French unless English is asked for)."""
    return TEXTS["en" if (language or "").lower().startswith("en") else "fr"]
