"""Rendering helpers shared by the admin views: context, headers, error pages."""
from __future__ import annotations

from flask import g, make_response, render_template, request

from webhooks.admin import bp
from config.infra.redis_conn import get_redis
from webhooks.admin.auth import csrf_token, current_admin
from webhooks.admin.i18n import known, label, offset_label, placeholders_in_words, say, word
from webhooks.admin.reasons import reason_in


def frame_ancestors(tenant=None) -> str:
    """Who may frame an admin page: this server, and the tenant's own host origin (issue #30: no list of wildcards
    serving every tenant); a page that opens no tenant (sign-in, refusals) only this server."""
    if tenant is None:
        return "'self'"
    from webhooks.admin.host_pages import pages_for

    return " ".join(dict.fromkeys(["'self'", *pages_for(tenant).frame_origins(tenant)]))


def origin_of(url: str | None) -> str | None:
    """`scheme://host[:port]` of an http(s) URL, or None."""
    from urllib.parse import urlsplit

    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c in parts.netloc for c in " ;,'\"*"):
        return None
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def lang_for(tenant) -> str:
    """The page language: ?lang=, else the tenant's."""
    wanted = request.values.get("lang")
    return wanted if wanted in ("fr", "en") else (tenant.language if tenant else "fr")


def page(template: str, **context):
    """Render an admin page with the tenant, the tokens and the words."""
    admin = g.admin
    lang = lang_for(admin.tenant)
    context.setdefault("label", lambda prefix, code: label(prefix, code, lang))  # codes in words (issue #27)
    context.setdefault("offset", lambda o: offset_label(o.days, o.unit, o.anchor, lang=lang))
    context.setdefault("in_words", lambda text: placeholders_in_words(text, lang))
    return render_template(f"admin/{template}", tenant=admin.tenant, token=admin.token, csrf=csrf_token(admin.token),
                           lang=lang, w=lambda key: word(key, lang), reason_in=reason_in, **context)


def tenant_page(template: str, **reads):
    """An admin page showing what each read (`read(conn, tenant_id)`) finds for the signed-in admin's tenant."""
    admin, conn = current_admin(), get_redis()
    return page(template, **{name: read(conn, admin.tenant.id) for name, read in reads.items()})


def error_page(status: int, title: str, message: str):
    """A clear page for refusals (also inside the iframe)."""
    return make_response(render_template("admin/error.html", title=title, message=message,
                                         lang=request.values.get("lang", "fr")), status)


def error_lang() -> str | None:
    """The language of an error page: ?lang=, else the admin's tenant's, else the browser's; None: say both."""
    wanted = request.values.get("lang")
    if wanted in ("fr", "en"):
        return wanted
    admin = g.get("admin")
    if admin is not None:
        return admin.tenant.language
    return request.accept_languages.best_match(["fr", "en"]) if request.accept_languages else None


def error_words(status: int, key: str, **values):
    """An error page from the words `key` (title) and `key_text` (message), in the admin's language."""
    lang = error_lang()
    if lang is None:
        title = " / ".join(dict.fromkeys(word(key, x) for x in ("fr", "en")))
        message = " — ".join(say(f"{key}_text", x, **values) for x in ("fr", "en"))
        return make_response(render_template("admin/error.html", title=title, message=message, lang="fr"), status)
    text = say(f"{key}_text", lang, **values) if known(f"{key}_text") else ""
    return make_response(render_template("admin/error.html", title=word(key, lang), message=text, lang=lang,
                                         back=_back_link(lang)), status)


def _back_link(lang: str) -> str | None:
    admin = g.get("admin")
    if admin is None:
        return None
    from flask import url_for

    return url_for("admin.overview", a=admin.token, lang=lang)


@bp.after_request
def _headers(response):
    admin = g.get("admin")
    response.headers["Content-Security-Policy"] = f"frame-ancestors {frame_ancestors(admin.tenant if admin else None)}"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.errorhandler(401)
def _unauthorized(_exc):
    return error_words(401, "access_denied")


@bp.errorhandler(403)
def _forbidden(_exc):
    return error_words(403, "form_refused")


@bp.errorhandler(404)
def _not_found(_exc):
    return error_words(404, "not_found")


@bp.route("/<path:_unknown>", methods=["GET", "POST"])
def unknown_page(_unknown: str):
    """An unknown admin URL: a page in the admin's language (not the API's JSON)."""
    from werkzeug.exceptions import HTTPException

    from webhooks.admin.auth import current_admin

    try:
        current_admin()  # the tenant's language (and a way back) when the link is valid
    except HTTPException:
        pass
    return error_words(404, "not_found")
