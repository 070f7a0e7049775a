"""The opt-out link of survey e-mails: a page with one button, honoured for good (and RFC 8058 one-click)."""
from __future__ import annotations

from flask import Blueprint, render_template_string

from config.infra.redis_conn import get_redis
from handlers.surveys import mail as survey_mail

bp = Blueprint("survey_optout", __name__)
WORDS = {
    "fr": {"title": "Questionnaires de fin de mission", "ask": "Ne plus recevoir aucun questionnaire par e-mail ?",
           "button": "Me désinscrire", "done": "C'est noté : vous ne recevrez plus de questionnaire par e-mail.",
           "invalid": "Ce lien de désinscription n'est pas valide."},
    "en": {"title": "End-of-mission surveys", "ask": "Stop receiving any survey by e-mail?",
           "button": "Unsubscribe me", "done": "Done: you will not receive any survey by e-mail again.",
           "invalid": "This unsubscribe link is not valid."},
}
PAGE = """<!doctype html><html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ t.title }}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}
button{padding:.5rem 1rem;border:0;border-radius:4px;background:#1f6feb;color:#fff;font:inherit}</style></head>
<body><h1>{{ t.title }}</h1>{% if form %}<p>{{ t.ask }}</p><form method="post"><button id="opt-out">{{ t.button }}</button>
</form>{% else %}<p id="outcome">{{ message }}</p>{% endif %}</body></html>"""
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                      "frame-ancestors 'none'"}


@bp.get("/survey/opt-out/<token>")
def ask(token: str):
    """The confirmation page (a mail scanner following the link opts nobody out)."""
    lang = survey_mail.optout_language(token)
    return render_template_string(PAGE, lang=lang, t=WORDS[lang], form=True), 200, HEADERS


@bp.post("/survey/opt-out/<token>")
def confirm(token: str):
    """Opt out for good: the button, or a mail client's one-click POST (List-Unsubscribe-Post)."""
    lang = survey_mail.optout_language(token)
    done = len(token) < 1024 and survey_mail.opt_out(get_redis(), token) is not None
    message = WORDS[lang]["done" if done else "invalid"]
    return render_template_string(PAGE, lang=lang, t=WORDS[lang], form=False, message=message), \
        (200 if done else 404), HEADERS
