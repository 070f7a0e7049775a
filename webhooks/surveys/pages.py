"""The respondent's survey page behind a signed link: no account, works on a phone, answered once."""
from __future__ import annotations

import hashlib
import hmac
import logging

from flask import Blueprint, render_template, request

from config import tenants
from config.infra import signing
from config.infra.redis_conn import get_redis
from config.infra import clock
from handlers.surveys import records as surveys
from handlers.intake.ingest import enqueue_sync
from handlers.state.store import SnapshotStore, schedule_wakeup
from webhooks.surveys.texts import texts

bp = Blueprint("surveys", __name__, template_folder="templates")
log = logging.getLogger(__name__)
FORM_PURPOSE = "survey-form"
FORM_MAX_AGE = 7 * 24 * 3600  # a page left open longer must be reloaded
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the link is the respondent's credential: never leak it in a Referer
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
}


@bp.after_request
def _headers(response):
    response.headers.update(HEADERS)
    return response


@bp.get("/survey/<token>")
def show(token: str):
    """The survey form, or a page saying why it cannot be answered."""
    state, tenant = _open(token)
    if state is None:
        return _message("invalid", 404, request.args.get("lang"))
    lang = _lang(state)
    if state.status == "answered":
        return _message("already", 200, lang, tenant)
    if state.expired(clock.today(tenant.timezone), tenant.surveys.link_max_age_days):
        return _message("expired", 410, lang, tenant)
    return _form(token, state, tenant, lang, {}, {}, 200)


@bp.post("/survey/<token>")
def submit(token: str):
    """Check the link, the form token and the scores, store the answer once, queue the write-back."""
    lang = request.form.get("lang") or request.args.get("lang")
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return _message("forbidden", 403, lang)
    state, tenant = _open(token)
    if state is None:
        return _message("invalid", 404, lang)
    lang = _lang(state)
    if not _form_token_ok(token, request.form.get("form_token", "")):
        return _message("forbidden", 403, lang, tenant)
    if state.status == "answered":
        return _message("already", 409, lang, tenant)
    today = clock.today(tenant.timezone)
    if state.expired(today, tenant.surveys.link_max_age_days):
        return _message("expired", 410, lang, tenant)
    values = {k: request.form.get(k, "") for k in ("satisfaction", "nps", "comment")}
    values["comment"] = values["comment"].replace("\r\n", "\n").strip()
    scores = _score(values["satisfaction"]), _score(values["nps"])
    errors = surveys.validate(*scores, values["comment"])
    if errors:
        return _form(token, state, tenant, lang, values, errors, 400)
    if surveys.answer(get_redis(), tenant, token, satisfaction=scores[0], nps=scores[1], comment=values["comment"],
                      today=today) != "answered":
        return _message("already", 409, lang, tenant)
    _resync(tenant.id, state, today)
    return _message("thanks", 200, lang, tenant)


def _open(token: str):
    """(survey, tenant) for a genuine link of an enabled tenant, else (None, None)."""
    state = surveys.find(get_redis(), token) if len(token) < 1024 else None
    tenant = tenants.get(state.tenant) if state else None
    if tenant is None or not tenant.enabled:
        return None, None
    return state, tenant


def _lang(state) -> str:
    """The language asked for by the switch link, else the respondent's."""
    asked = request.values.get("lang")
    return asked if asked in ("fr", "en") else ("en" if state.language.startswith("en") else "fr")


def _score(raw: str):
    """An integer when the field holds one; the raw text otherwise (refused by validation)."""
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 4 else (raw or None)


def form_token(token: str) -> str:
    """The anti-forgery field of the form served for this link."""
    return signing.sign(FORM_PURPOSE, {"s": _digest(token)})


def _form_token_ok(token: str, value: str) -> bool:
    try:
        payload = signing.unsign(FORM_PURPOSE, value, max_age=FORM_MAX_AGE)
    except signing.BadSignature:
        return False
    return isinstance(payload, dict) and hmac.compare_digest(str(payload.get("s", "")), _digest(token))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def _resync(tenant_id: str, state, today) -> None:
    """Queue the mission's re-sync so the answer is written back; the scheduler catches up if queueing fails."""
    conn = get_redis()
    try:
        enqueue_sync(conn, tenant_id, state.mission, trigger={"kind": "survey", "step": state.step_id, "role": state.role})
    except Exception:  # noqa: BLE001 - the answer is safe; the next tick re-reads the mission
        log.exception("survey answer stored for %s/%s but the re-sync could not be queued", tenant_id, state.mission)
        schedule_wakeup(conn, tenant_id, state.mission, day=today)


def _page(lang: str, tenant) -> dict:
    other = "en" if lang == "fr" else "fr"
    return {"lang": lang, "t": texts(lang), "switch_lang": other, "company": tenant.name if tenant else ""}


def _form(token: str, state, tenant, lang: str, values: dict, errors: dict, status: int):
    snap = SnapshotStore(get_redis(), tenant.id).get(state.mission)
    page, company = _page(lang, tenant), tenant.name or "—"
    names = {"mission": (snap.title if snap else "") or state.mission, "client": snap.client_name if snap else "",
             "consultant": (snap.consultant.name if snap and snap.consultant else ""), "company": company}
    t = page["t"]
    return render_template("survey/form.html", **page, values=values, errors=errors, form_token=form_token(token),
                           intro=t[f"intro_{state.role}"].format(**names), privacy=t["privacy"].format(**names),
                           nps_question=t["nps"].format(**names)), status


def _message(kind: str, status: int, lang: str | None, tenant=None):
    lang = "en" if (lang or "").startswith("en") else "fr"
    page = _page(lang, tenant)
    page["switch_lang"] = None  # a message page has nothing to switch
    return render_template("survey/message.html", **page, kind=kind), status
