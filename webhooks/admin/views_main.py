"""Overview (connection, test, kill switch), Boond configuration, activity, failures, surveys, login."""
from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timezone
from functools import lru_cache

from flask import Blueprint, redirect, render_template, request, url_for
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer
from werkzeug.security import check_password_hash, generate_password_hash

from config import keys
from config import crypto, tenants
from config.redis_conn import get_redis
from config.signing import BadSignature, sign, unsign
from handlers.holds import held
from handlers.ledger import ActivityLog
from handlers.queues import get_queue
from webhooks.admin import bp
from webhooks.admin.auth import admin_token, current_admin
from webhooks import intake_failures
from webhooks.admin.i18n import label, say, word
from webhooks.admin.planning_card import planning_card
from webhooks.admin.render import error_page, error_words, lang_for, page

entry = Blueprint("admin_entry", __name__)
LOGIN_LIMIT = 5


@bp.get("/")
def overview():
    """Connection status, test, kill switch, and configuration when the tenant still needs it."""
    admin = current_admin()
    return page("overview.html", **overview_context(admin.tenant), flash=request.args.get("flash"))


def overview_context(tenant) -> dict:
    """What the overview shows besides the flash message (the planning card included)."""
    return {"status": _status(tenant), "held": len(held(get_redis(), tenant.id)),
            "configure": _configure_card(tenant), "test_result": None, "planning": planning_card(tenant),
            "disconnect": _disconnect_form(tenant)}


@bp.post("/test")
def test_connection():
    """Call the host once with the tenant's credentials."""
    admin = current_admin()
    from webhooks.admin.connection_check import check

    result = check(admin.tenant, lang_for(admin.tenant))
    return page("overview.html", **{**overview_context(admin.tenant), "test_result": result}, flash=None)


def _disconnect_form(tenant) -> dict | None:
    """A connected Salesforce tenant's disconnect button: its own 15-minute token and the CSRF token bound to it."""
    if tenant.host != "salesforce" or not tenant.salesforce or not tenant.salesforce.org_id:
        return None
    from webhooks.admin.auth import csrf_token
    from webhooks.salesforce_links import disconnect_token

    token = disconnect_token(tenant)
    return {"token": token, "csrf": csrf_token(token)}


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
    """Use the admin who opened the iframe as the technical user, and register the webhook."""
    admin = current_admin()
    raw = get_redis().getdel(keys.pending_user(admin.tenant.id, request.form.get("user_token", "")))
    if raw is None:
        return error_words(400, "config_expired")
    from handlers.marketplace import configure_boond_tenant

    result = configure_boond_tenant(admin.tenant.id, crypto.decrypt(raw).decode(), base_url=_public_base())
    lang = lang_for(admin.tenant)
    if not result.get("configured"):
        message = say("flash_not_configured", lang, reason=result.get("reason", ""))
    elif result.get("registered"):
        message = say("flash_configured", lang, user=result.get("user") or word("you", lang))
    else:
        message = say("flash_configured_paste", lang, url=result.get("url")) + f" ({result.get('reason', '')})"
    return redirect(url_for(".overview", a=admin.token, lang=lang, flash=message))


@bp.get("/activity")
def activity():
    """What was done for each mission and why, and the failures with a retry button."""
    admin = current_admin()
    mission = request.args.get("mission") or None
    rows = [_row(r) for r in ActivityLog(get_redis(), admin.tenant.id).recent(2000, mission)]
    op = request.args.get("op") or None
    rows = [r for r in rows if op is None or r.get("op") == op]
    number, pages = _page_number(len(rows))
    lang = lang_for(admin.tenant)
    return page("activity.html", rows=rows[(number - 1) * ACTIVITY_PAGE:number * ACTIVITY_PAGE], mission=mission,
                failures=_failures(admin.tenant.id), op=op, number=number, pages=pages, total=len(rows),
                refused=intake_failures.recent(get_redis(), admin.tenant.id, lang),
                label=lambda prefix, code: label(prefix, code, lang))


ACTIVITY_PAGE = 50


def _page_number(total: int) -> tuple[int, int]:
    """The page asked for (?p=), within range, and the page count."""
    pages = max(1, (total + ACTIVITY_PAGE - 1) // ACTIVITY_PAGE)
    asked = request.args.get("p", "1")
    return min(max(1, int(asked) if asked.isdigit() else 1), pages), pages


@bp.post("/retry/<job_id>")
def retry(job_id: str):
    """Requeue one of this tenant's dead letters."""
    admin = current_admin()
    if job_id not in {f["id"] for f in _failures(admin.tenant.id)}:
        return error_words(404, "failure_not_found")
    FailedJobRegistry(queue=get_queue()).requeue(job_id)
    return redirect(url_for(".activity", a=admin.token, lang=request.form.get("lang")))


@bp.get("/surveys")
def surveys():
    """Survey answers and the tenant's averages."""
    admin = current_admin()
    from handlers import surveys as survey_store

    conn = get_redis()
    return page("surveys.html", answers=survey_store.answers(conn, admin.tenant.id),
                averages=survey_store.averages(conn, admin.tenant.id))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Standalone access: workspace id and the password set with `intermission tenant admin-password`."""
    lang = request.values.get("lang", "fr")
    if request.method == "GET":
        return render_template("admin/login.html", lang=lang, csrf=sign("login", {}), error=None, tenant_id="")
    tenant_id = request.form.get("tenant", "").strip()[:64]
    try:
        unsign("login", request.form.get("csrf", ""), max_age=3600)
    except BadSignature:
        return error_page(403, "Formulaire refusé / Form refused", "Reload the sign-in page and try again.")
    tenant = tenants.get(tenant_id)
    if _too_many_attempts(tenant):
        return error_page(429, "Trop d'essais / Too many attempts", "Wait 15 minutes before trying again.")
    if not _password_ok(tenant, request.form.get("password", "")[:1024]):
        return render_template("admin/login.html", lang=lang, csrf=sign("login", {}), tenant_id=tenant_id,
                               error="Identifiants incorrects." if lang == "fr" else "Wrong workspace or password."), 401
    return redirect(url_for(".overview", a=admin_token(tenant.id, "login"), lang=lang))


@entry.get("/boond/configure")
def boond_configure():
    """The Boond iframe: verify the signedRequest, open the tenant's admin pages (and offer configuration)."""
    from config.settings import get_settings
    from connectors.boond.marketplace import BadSignedRequest, claim_once, decode_signed_request
    from webhooks.boond_marketplace import DEFAULT_MAX_AGE

    key = get_settings().boond_app_key
    if not key:
        return error_page(503, "Marketplace not configured", "INTERMISSION_BOOND_APP_KEY is not set on this server.")
    max_age = get_settings().boond_signed_request_max_age or DEFAULT_MAX_AGE
    try:
        value = request.values.get("signedRequest", "")
        payload = decode_signed_request(value, key, max_age=max_age)
        claim_once(value, max_age)
    except BadSignedRequest as exc:
        return error_page(401, "Requête refusée / Request refused", f"signedRequest: {exc}")
    tenant = tenants.tenant_for_client_token(str(payload.get("clientToken", "")))
    if tenant is None or tenant.status == "uninstalled":
        return error_page(404, "Application non installée / App not installed",
                          "Install Intermission from the Boond marketplace first.")
    if payload.get("userToken"):
        nonce = secrets.token_urlsafe(16)
        get_redis().set(keys.pending_user(tenant.id, nonce), crypto.encrypt(str(payload["userToken"]).encode()), ex=3600)
        return redirect(url_for("admin.overview", a=admin_token(tenant.id, "boond-iframe"), u=nonce))
    return redirect(url_for("admin.overview", a=admin_token(tenant.id, "boond-iframe")))


def _public_base() -> str:
    """Where hosts reach us: INTERMISSION_PUBLIC_BASE_URL when set, else the address this page was opened at."""
    from config.settings import get_settings

    settings = get_settings()
    return settings.public_base_url if "public_base_url" in settings.model_fields_set else request.host_url.rstrip("/")


def _configured(tenant) -> bool:
    """Whether the tenant may run: installed, and (Boond) with the technical user its writes need."""
    if tenant.status != "active":
        return False
    return tenant.host != "boond" or bool(tenant.boond and tenant.boond.user_token)


def _status(tenant) -> dict:
    if tenant.host == "boond":
        ok = bool(tenant.boond and tenant.boond.user_token and (tenant.boond.app_token or tenant.boond.client_token))
        return {"connected": ok, "label": "connected" if ok else "not_configured",
                "detail": tenant.boond.base_url if tenant.boond else ""}
    from handlers.hosts.salesforce import tokens_for

    store = tokens_for(tenant, get_redis())
    reason = store.needs_reconsent()
    ok = store.load() is not None and not reason
    usage = get_redis().get(keys.sf_usage(tenant.id))
    detail = f"org {tenant.salesforce.org_id or '?'}" + (f", API usage {usage.decode()}" if usage else "")
    return {"connected": ok, "label": "connected" if ok else "needs_connecting",
            "detail": detail + (f" — {reason}" if reason else "")}


def _configure_card(tenant) -> dict | None:
    if tenant.host != "boond" or (tenant.boond and tenant.boond.user_token):
        return None
    nonce = request.values.get("u")  # kept across the language switch, the connection test and the kill switch
    if nonce and get_redis().exists(keys.pending_user(tenant.id, nonce)):
        return {"message": "choose_user", "form": True, "user_token": nonce, "user_label": "you", "button": "use_me"}
    return {"message": "open_from_boond", "form": False}


def _failures(tenant_id: str) -> list[dict]:
    queue = get_queue()
    registry = FailedJobRegistry(queue=queue)
    jobs = Job.fetch_many(registry.get_job_ids(), connection=queue.connection, serializer=JSONSerializer)
    out = []
    for job in (j for j in jobs if j is not None):
        if job.args and job.args[0] == tenant_id:
            last = (job.exc_info or "").strip().splitlines()[-1:] or [""]
            out.append({"id": job.id, "mission": job.args[1] if len(job.args) > 1 else "", "error": last[0][:300]})
    return out


def _row(record: dict) -> dict:
    trigger = record.get("trigger") or {}
    label = " ".join(str(trigger.get(k)) for k in ("kind", "via", "type", "event") if trigger.get(k))
    when = datetime.fromtimestamp(record.get("at", 0), tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return {**record, "when": when, "trigger": label or json.dumps(trigger)[:80]}


def _too_many_attempts(tenant) -> bool:
    """Count one sign-in attempt per workspace and address for 15 minutes (in the workspace's namespace).

    Attempts at unknown workspaces share one counter per address: no Redis key per name an attacker makes up."""
    addr = request.remote_addr or ""
    if tenant is not None:
        key = keys.login_attempts(tenant.id, addr)
    else:
        key = keys.login_unknown(hashlib.sha256(addr.encode()).hexdigest()[:16])
    conn = get_redis()
    count = conn.incr(key)
    if count == 1:
        conn.expire(key, 900)
    return count > LOGIN_LIMIT


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
