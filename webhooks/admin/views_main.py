"""Overview (connection, test, kill switch, the host's set-up card), activity, failures, surveys, login.

What differs per host (the connection line, the set-up card and form, disconnect) comes from the host's part of
the admin pages (`host_pages.pages_for`)."""
from __future__ import annotations

import secrets
from functools import lru_cache

from flask import abort, make_response, redirect, render_template, request, url_for
from rq.registry import FailedJobRegistry
from werkzeug.security import check_password_hash, generate_password_hash

from config import tenants
from config.infra import crypto
from config.infra.redis_conn import get_redis
from handlers.sync.holds import held
from handlers.state.ledger import ActivityLog
from handlers.intake.queues import get_queue
from webhooks.admin import bp
from webhooks.admin.auth import (admin_token, browser_form_ok, browser_form_token, current_admin, login_failed,
                                  login_refused, set_browser_cookie)
from webhooks import intake_failures
from webhooks.admin.host_pages import pages_for
from webhooks.admin.i18n import label, say, word
from webhooks.admin.attention import failures_of
from webhooks.admin.planning_card import planning_card
from webhooks.admin.render import error_page, error_words, lang_for, page, tenant_page


@bp.get("/")
def overview():
    """Connection status, test, kill switch, and configuration when the tenant still needs it."""
    admin = current_admin()
    return page("overview.html", **overview_context(admin.tenant), flash=request.args.get("flash"))


def overview_context(tenant) -> dict:
    """What the overview shows besides the flash message (the planning card included)."""
    pages = pages_for(tenant)
    from handlers.sync.setup import check
    from webhooks.admin.attention import items as attention_items

    return {"status": pages.status(tenant), "held": len(held(get_redis(), tenant.id)),
            "configure": pages.configure_card(tenant), "test_result": None, "planning": planning_card(tenant),
            "disconnect": pages.disconnect_form(tenant), "connect": pages.connect_form(tenant),
            "delivery": pages.delivery_card(tenant),
            "setup_missing": None if tenant.setup_complete else check(tenant).missing,
            "attention": attention_items(tenant, lang_for(tenant))}


@bp.post("/test")
def test_connection():
    """Call the host once with the tenant's credentials."""
    admin = current_admin()
    from webhooks.admin.connection_check import check

    result = check(admin.tenant, lang_for(admin.tenant))
    return page("overview.html", **{**overview_context(admin.tenant), "test_result": result}, flash=None)


@bp.post("/toggle")
def toggle():
    """The kill switch: pause or resume all of the tenant's work."""
    admin = current_admin()
    lang = lang_for(admin.tenant)
    if not admin.tenant.enabled and not _configured(admin.tenant):
        return redirect(url_for(".overview", a=admin.token, lang=lang, u=request.form.get("u") or None,
                                flash=say("resume_refused", lang, tenant=admin.tenant.name or admin.tenant.id)))
    tenant = admin.tenant.model_copy(update={"enabled": not admin.tenant.enabled})
    tenants.save(tenant)
    return redirect(url_for(".overview", a=admin.token, lang=lang, u=request.form.get("u") or None,
                            flash=word("flash_paused" if not tenant.enabled else "flash_enabled", lang)))


@bp.post("/configure")
def configure():
    """The host's set-up card's form (Boond: use the admin who opened the iframe as the technical user)."""
    admin = current_admin()
    answer = pages_for(admin.tenant).configure(admin)
    return answer if answer is not None else abort(404)


@bp.get("/activity")
def activity():
    """What was done for each mission and why, and the failures with a retry button."""
    admin = current_admin()
    mission = request.args.get("mission") or None
    from webhooks.admin import activity_view as view

    records = ActivityLog(get_redis(), admin.tenant.id).recent(2000, mission)
    op = request.args.get("op") or None
    groups = [g for g in view.changes(records) if op is None or any(r.get("op") == op for r in g)]
    number, pages = _page_number(len(groups))
    lang = lang_for(admin.tenant)
    page_groups = groups[(number - 1) * ACTIVITY_PAGE:number * ACTIVITY_PAGE]
    names = view.mission_names(get_redis(), admin.tenant.id, {str(g[0].get("mission") or "") for g in page_groups})
    shown = [view.change_row([r for r in g if op is None or r.get("op") == op], admin.tenant, lang, known=names)
             for g in page_groups]
    from webhooks.admin.attention import failure_reason

    failures = [{**f, "why": failure_reason(f["error"], lang)} for f in failures_of(admin.tenant.id)]
    return page("activity.html", rows=shown, mission=mission, ops=view.OPS,
                failures=failures, op=op, number=number, pages=pages, total=len(groups),
                refused=intake_failures.recent(get_redis(), admin.tenant.id, lang),
                label=lambda prefix, code: label(prefix, code, lang))


ACTIVITY_PAGE = 20  # changes a page (each with its actions)


def _page_number(total: int) -> tuple[int, int]:
    """The page asked for (?p=), within range, and the page count."""
    pages = max(1, (total + ACTIVITY_PAGE - 1) // ACTIVITY_PAGE)
    asked = request.args.get("p", "1")
    return min(max(1, int(asked) if asked.isdigit() else 1), pages), pages


@bp.post("/retry/<job_id>")
def retry(job_id: str):
    """Requeue one of this tenant's dead letters."""
    admin = current_admin()
    if job_id not in {f["id"] for f in failures_of(admin.tenant.id)}:
        return error_words(404, "failure_not_found")
    FailedJobRegistry(queue=get_queue()).requeue(job_id)
    back = ".overview" if request.form.get("back") == "overview" else ".activity"
    return redirect(url_for(back, a=admin.token, lang=request.form.get("lang")))


@bp.get("/surveys")
def surveys():
    """Survey answers and the tenant's averages."""
    from handlers.surveys import records as survey_store

    return tenant_page("surveys.html", answers=survey_store.answers, averages=survey_store.averages)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Standalone access: workspace id and the password set with `intermission tenant admin-password`."""
    lang = request.values.get("lang", "fr")
    if request.method == "GET":
        return _login_form(lang, "", None, 200)
    tenant_id = request.form.get("tenant", "").strip()[:64]
    # bound to this browser's cookie: a cross-site post cannot sign a victim into the attacker's workspace
    if not browser_form_ok("login", request.form.get("csrf", "")):
        return error_page(403, "Formulaire refusé / Form refused", "Reload the sign-in page and try again.")
    tenant = tenants.get(tenant_id)
    if login_refused(tenant, tenant_id):
        return error_page(429, "Trop d'essais / Too many attempts", "Wait 15 minutes before trying again.")
    if not _password_ok(tenant, request.form.get("password", "")[:1024]):
        login_failed(tenant, tenant_id)
        return _login_form(lang, tenant_id, "Identifiants incorrects." if lang == "fr" else "Wrong workspace or password.",
                           401)
    return redirect(url_for(".overview", a=admin_token(tenant.id, "login"), lang=lang))


def _login_form(lang: str, tenant_id: str, error: str | None, status: int):
    body = render_template("admin/login.html", lang=lang, csrf=browser_form_token("login"), error=error,
                           tenant_id=tenant_id)
    return set_browser_cookie(make_response(body, status))


def _configured(tenant) -> bool:
    """Whether the tenant may run: installed, and set up as its host needs (Boond: the technical user)."""
    return tenant.status == "active" and pages_for(tenant).ready(tenant)




def _password_ok(tenant, password: str) -> bool:
    """Check the password; without a tenant or a password set, the same work against a dummy (no timing tell)."""
    if tenant is not None and tenant.admin_password_hash:
        return check_password_hash(tenant.admin_password_hash, password)
    crypto.decrypt(crypto.encrypt(_DUMMY_TENANT))  # about what reading a stored tenant costs
    check_password_hash(_dummy_hash(), password)
    return False


_DUMMY_TENANT = b"x" * 1200


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A password hash made with the same method as real ones, of a password nobody knows."""
    return generate_password_hash(secrets.token_urlsafe(24))
