"""Rendering helpers shared by the admin views: context, headers, error pages."""
from __future__ import annotations

from flask import g, render_template, request

from webhooks.admin import bp
from webhooks.admin.auth import csrf_token
from webhooks.admin.i18n import word

FRAME_ANCESTORS = ("'self' https://ui.boondmanager.com https://*.boondmanager.com https://*.lightning.force.com "
                   "https://*.my.salesforce.com https://*.visualforce.com")


def lang_for(tenant) -> str:
    """The page language: ?lang=, else the tenant's."""
    wanted = request.values.get("lang")
    return wanted if wanted in ("fr", "en") else (tenant.language if tenant else "fr")


def page(template: str, **context):
    """Render an admin page with the tenant, the tokens and the words."""
    admin = g.admin
    lang = lang_for(admin.tenant)
    return render_template(f"admin/{template}", tenant=admin.tenant, token=admin.token, csrf=csrf_token(admin.token),
                           lang=lang, w=lambda key: word(key, lang), **context)


def error_page(status: int, title: str, message: str):
    """A clear page for refusals (also inside the iframe)."""
    return render_template("admin/error.html", title=title, message=message,
                           lang=request.values.get("lang", "fr")), status


@bp.after_request
def _headers(response):
    response.headers["Content-Security-Policy"] = f"frame-ancestors {FRAME_ANCESTORS}"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.errorhandler(401)
def _unauthorized(_exc):
    return error_page(401, "Accès refusé / Access denied",
                      "Ce lien d'administration est invalide ou a expiré. Rouvrez Intermission depuis votre outil, "
                      "ou connectez-vous sur /admin/login. — This admin link is invalid or expired: open Intermission "
                      "again from your tool, or sign in at /admin/login.")


@bp.errorhandler(403)
def _forbidden(_exc):
    return error_page(403, "Formulaire refusé / Form refused",
                      "Ce formulaire ne vient pas de la page d'administration (jeton manquant ou invalide) : rien n'a "
                      "été modifié. — This form did not come from the admin page (missing or invalid token): nothing "
                      "was changed.")
