"""Errors on the pages people open (admin, survey, connect): an HTML page in their language with no internal detail.

Hosts and scripts calling the webhooks and the API keep their JSON answers; a person never reads JSON, a Redis
address or an exception's name (issue #27, point 8). The language comes from `?lang=`, else the browser's.
"""
from __future__ import annotations

from flask import make_response, render_template_string, request

PEOPLE_PATHS = ("/admin", "/survey")  # and each host's pages a person opens (its registry line's `web.people_paths`)
TEXTS = {
    "unavailable": (("Service momentanément indisponible",
                     "Intermission ne peut pas répondre pour l'instant. Rien n'est perdu : réessayez dans quelques "
                     "minutes."),
                    ("Service briefly unavailable",
                     "Intermission cannot answer right now. Nothing is lost: try again in a few minutes.")),
    "error": (("Une erreur est survenue", "Cette page n'a pas pu s'afficher. Réessayez ; si cela continue, prévenez "
                                          "votre administrateur."),
              ("Something went wrong", "This page could not be shown. Try again; if it goes on, tell your "
                                       "administrator.")),
    "not_found": (("Page introuvable", "Cette adresse ne mène à aucune page."),
                  ("Page not found", "This address leads to no page.")),
}
PAGE = """<!doctype html><html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ title }}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1d2733}
h1{font-size:1.3rem;color:#b00020}</style></head><body><h1 id="error-title">{{ title }}</h1><p>{{ text }}</p></body></html>"""


def for_a_person() -> bool:
    """Whether this request comes from a page a person opened (not a host's webhook nor a script)."""
    from handlers.hosts.registry import HOSTS

    return request.path.startswith(PEOPLE_PATHS + tuple(p for host in HOSTS.values() for p in host.web.people_paths))


def person_language() -> str:
    """?lang=, else the browser's preferred of French and English (French by default)."""
    wanted = request.values.get("lang") if request.method == "GET" else request.args.get("lang")
    if wanted in ("fr", "en"):
        return wanted
    best = request.accept_languages.best_match(["fr", "en"]) if request.accept_languages else None
    return best or "fr"


def person_page(status: int, key: str):
    """The HTML answer for a person: a title and one sentence, in their language."""
    fr, en = TEXTS[key]
    lang = person_language()
    title, text = en if lang == "en" else fr
    return make_response(render_template_string(PAGE, lang=lang, title=title, text=text), status, {
        "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Retry-After": "60"})
