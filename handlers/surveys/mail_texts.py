"""The survey e-mails' words in French and English: the invitation and its one reminder, plain text and HTML."""
from __future__ import annotations

from typing import NamedTuple

import html

TEXTS = {
    "fr": {
        "invite_subject": "Votre avis sur la mission qui se termine{company_part}",
        "reminder_subject": "Rappel : votre avis sur la mission qui se termine{company_part}",
        "hello": "Bonjour {name},",
        "invite_body": "La mission se termine bientôt. Pouvez-vous nous dire en deux minutes comment elle s'est "
                       "passée ? Le lien ci-dessous est personnel : pas de compte à créer, une seule réponse.",
        "reminder_body": "Nous n'avons pas encore reçu votre avis sur la mission qui se termine. Il ne vous "
                         "faudra que deux minutes, et c'est le seul rappel que vous recevrez.",
        "button": "Donner mon avis",
        "thanks": "Merci,\n{company}",
        "optout": "Vous ne souhaitez plus recevoir ces questionnaires ? Désinscrivez-vous : {optout}",
        "optout_html": "Vous ne souhaitez plus recevoir ces questionnaires ?",
        "optout_link": "Se désinscrire",
    },
    "en": {
        "invite_subject": "Your view on the mission that is ending{company_part}",
        "reminder_subject": "Reminder: your view on the mission that is ending{company_part}",
        "hello": "Hello {name},",
        "invite_body": "The mission ends soon. Could you tell us in two minutes how it went? The link below is "
                       "yours alone: no account needed, one answer.",
        "reminder_body": "We have not received your view on the mission that is ending yet. It only takes two "
                         "minutes, and this is the only reminder you will get.",
        "button": "Give my view",
        "thanks": "Thank you,\n{company}",
        "optout": "Rather not receive these surveys any more? Unsubscribe: {optout}",
        "optout_html": "Rather not receive these surveys any more?",
        "optout_link": "Unsubscribe",
    },
}


class Mail(NamedTuple):
    """One e-mail's subject, plain text and HTML."""

    subject: str
    plain: str
    markup: str


def render(language: str, kind: str, *, name: str, company: str, link: str, optout: str) -> Mail:
    """(subject, plain text, HTML) of one e-mail in the respondent's language (French unless English)."""
    t = TEXTS["en" if (language or "").lower().startswith("en") else "fr"]
    company_part = f" — {company}" if company else ""
    values = {"name": name or "", "company": company or "", "link": link, "optout": optout}
    subject = t[f"{kind}_subject"].format(company_part=company_part)
    hello, body = t["hello"].format(**values).replace(" ,", ","), t[f"{kind}_body"]
    thanks = t["thanks"].format(**values).strip()
    plain = f"{hello}\n\n{body}\n\n{link}\n\n{thanks}\n\n--\n{t['optout'].format(**values)}\n"
    e = {k: html.escape(v) for k, v in {"hello": hello, "body": body, "link": link, "optout": optout,
                                         "button": t["button"], "o": t["optout_html"], "ol": t["optout_link"]}.items()}
    signature = "<br>".join(html.escape(line) for line in thanks.split("\n"))
    markup = (f'<!doctype html><html lang="{"en" if t is TEXTS["en"] else "fr"}"><body style="font-family:sans-serif">'
              f"<p>{e['hello']}</p><p>{e['body']}</p>"
              f'<p><a href="{e["link"]}" style="background:#1f6feb;color:#fff;padding:.6em 1em;border-radius:4px;'
              f'text-decoration:none">{e["button"]}</a></p><p style="font-size:.9em">{e["link"]}</p>'
              f"<p>{signature}</p><hr><p style=\"font-size:.8em;color:#5b6875\">{e['o']} "
              f'<a href="{e["optout"]}">{e["ol"]}</a></p></body></html>')
    return Mail(subject, plain, markup)
