"""Survey e-mails: the invitation and one reminder sent through the tenant's SMTP server, from the worker only.

After each reconciliation round, `after_reconcile` queues an rq job for every survey whose day has come (and
asks for a wake-up on the day of one still ahead). The job finds the respondent's address in the host, skips
people who opted out for good and people already asked within the tenant's cap, sends plain text + HTML in the
respondent's language with the signed link and an opt-out link, records what happened on the survey, then queues
the mission's re-sync so the manager's action says to whom and when it went. SMTP errors are retried (rq Retry);
the last failure is kept for the admin page.
"""
from __future__ import annotations

import hashlib
import json
import logging
import smtplib
import ssl
import time
from datetime import date
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

import redis
from rq import get_current_job
from rq.exceptions import DuplicateJobError

from config import keys
from config import tenants
from config.infra import signing
from config.infra.redis_conn import get_redis
from config.settings import get_settings
from config.infra import clock
from handlers.surveys import records as surveys
from handlers.domain.calendar import add_business_days
from handlers.hosts.protocol import Contact
from handlers.intake.queues import get_queue, retry_policy
from handlers.state.store import schedule_wakeup
from handlers.surveys.mail_texts import render

log = logging.getLogger(__name__)
OPTOUT_PURPOSE = "survey-optout"
FAILURES_KEPT = 100
SENDING_TTL = 600


class NoAddress(Exception):
    """The host holds no e-mail address for this respondent."""


def uses_email(tenant: tenants.Tenant) -> bool:
    """True when surveys go by e-mail: an SMTP server is set and the host has no survey tool for the tenant."""
    from handlers.hosts.registry import host_of

    return tenant.surveys.email is not None and not host_of(tenant).survey_tool(tenant)


def person_hash(tenant_id: str, address: str) -> str:
    """A stable, non-reversible id for an address (opt-outs and caps never store it in clear)."""
    return hashlib.sha256(f"{tenant_id}:{address.strip().lower()}".encode()).hexdigest()[:32]


def _optout_key(tenant_id: str) -> str:
    return keys.survey_optout(tenant_id)


def _cap_key(tenant_id: str, digest: str) -> str:
    return keys.survey_cap(tenant_id, digest)


def failures_key(tenant_id: str) -> str:
    """The survey e-mails that could not be delivered, newest first (for the admin page)."""
    return keys.survey_mail_failures(tenant_id)


def failures(conn: redis.Redis, tenant_id: str) -> list[dict]:
    """The last undelivered survey e-mails."""
    return [json.loads(x) for x in conn.lrange(failures_key(tenant_id), 0, FAILURES_KEPT - 1)]


def opted_out(conn: redis.Redis, tenant_id: str, address: str) -> bool:
    """True once this address asked for no more survey e-mails."""
    return bool(conn.sismember(_optout_key(tenant_id), person_hash(tenant_id, address)))


def optout_token(tenant_id: str, address: str, language: str = "fr") -> str:
    """The signed opt-out link's token (it names the person by hash only, and the page's language)."""
    return signing.sign(OPTOUT_PURPOSE, {"t": tenant_id, "h": person_hash(tenant_id, address), "l": language})


def optout_language(token: str) -> str:
    """The language an opt-out link's page speaks (French unless the link says English)."""
    try:
        payload = signing.unsign(OPTOUT_PURPOSE, token, max_age=surveys.TOKEN_CEILING)
    except signing.BadSignature:
        return "fr"
    return "en" if isinstance(payload, dict) and payload.get("l") == "en" else "fr"


def opt_out(conn: redis.Redis, token: str) -> str | None:
    """Honour an opt-out link for good; the tenant id, or None when the link is not genuine."""
    try:
        payload = signing.unsign(OPTOUT_PURPOSE, token, max_age=surveys.TOKEN_CEILING)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict):
        return None
    tenant_id, digest = str(payload.get("t", "")), str(payload.get("h", ""))
    if tenants.get(tenant_id) is None or len(digest) != 32:
        return None
    conn.sadd(_optout_key(tenant_id), digest)
    return tenant_id


# --- after each round: what is due --------------------------------------------------------------

def after_reconcile(conn: redis.Redis, tenant: tenants.Tenant, plans: list) -> None:
    """Queue the invitations and reminders whose day has come; wake the mission on the day of one ahead."""
    if not uses_email(tenant):
        return
    for plan in plans:
        if not any(a.kind == "survey" for a in plan.desired):
            continue
        ahead = []
        for state in plan.surveys.states.values():
            kind, day = _due(tenant, state, plan.today)
            if kind and day <= plan.today:
                _enqueue(conn, tenant.id, state, kind)
            elif kind:
                ahead.append(day)
        wake = plan.wake()
        if ahead and (wake is None or min(ahead) < wake):
            schedule_wakeup(conn, tenant.id, plan.mission_id, day=min(ahead))


def _due(tenant: tenants.Tenant, state: surveys.SurveyState, today: date) -> tuple[str | None, date | None]:
    """The next e-mail this survey needs ("invite" or "reminder") and its day; (None, None) when none."""
    if state.status != "sent":
        return None, None
    if not state.mail_status:
        return "invite", state.sent_on
    if state.mail_status == "sent" and not state.reminder_status:
        return "reminder", add_business_days(state.sent_on, tenant.surveys.reminder_days, tenant.country)
    return None, None


def _enqueue(conn: redis.Redis, tenant_id: str, state: surveys.SurveyState, kind: str) -> None:
    job_id = f"survey-mail-{tenant_id}-{state.mission}-{state.role}-{kind}"
    try:
        get_queue(conn).enqueue("handlers.surveys.mail.send_job", tenant_id, state.mission, state.role, kind=kind,
                                job_id=job_id, unique=True, retry=retry_policy(), result_ttl=600,
                                failure_ttl=30 * 24 * 3600, description=f"survey e-mail {kind}")
    except DuplicateJobError:
        pass  # already queued (or just done: the job itself checks the survey again)


# --- the job ----------------------------------------------------------------------------------------

def send_job(tenant_id: str, mission_id: str, role: str, *, kind: str) -> dict:
    """rq job: send one invitation or reminder (at most once), or record why not."""
    conn = get_redis()
    tenant = tenants.get(tenant_id)
    state = surveys.states(conn, tenant_id, mission_id).get(role)
    if not tenants.may_run_jobs(tenant) or state is None or not uses_email(tenant):
        return {"skipped": "tenant, survey or e-mail settings gone"}
    today = clock.today(tenant.timezone)
    if _due(tenant, state, today)[0] != kind:
        return {"skipped": "not due"}
    if not conn.set(keys.survey_mail_sending(tenant_id, mission_id, role, kind=kind), "1", nx=True, ex=SENDING_TTL):
        return {"skipped": "being sent"}
    try:
        return _send(conn, tenant, state, kind, today)
    finally:
        conn.delete(keys.survey_mail_sending(tenant_id, mission_id, role, kind=kind))


def _send(conn: redis.Redis, tenant: tenants.Tenant, state: surveys.SurveyState, kind: str, today: date) -> dict:
    from config.infra.urls import BadHostUrl, checked_smtp_host

    try:  # its password is sent there: the rules of every operator-set address (config/infra/urls.py)
        checked_smtp_host(tenant.surveys.email.host, tenant.surveys.email.port)
    except BadHostUrl as exc:  # a setting to fix, not a failure to retry: kept for the admin page, in their words
        return _record(conn, tenant, state, kind, "failed", exc.say(tenant.language), today)
    try:
        address, language = state.email_to or "", state.language
        if not address:
            address, language = respondent_address(conn, tenant, state)
    except NoAddress as exc:
        return _record(conn, tenant, state, kind, "no_address", str(exc), today)
    if opted_out(conn, tenant.id, address):
        return _record(conn, tenant, state, kind, "opted_out", "", today, address=address)
    if kind == "invite" and not _claim_cap(conn, tenant, state, address):
        return _record(conn, tenant, state, kind, "capped", "", today, address=address)
    state = state.model_copy(update={"language": language})
    try:
        deliver(tenant, compose(tenant, state, address, kind=kind))
    except (smtplib.SMTPException, OSError) as exc:
        return _failed(conn, tenant, state, kind, address, exc, today)
    return _record(conn, tenant, state, kind, "sent", "", today, address=address, language=language)


def _claim_cap(conn: redis.Redis, tenant: tenants.Tenant, state: surveys.SurveyState, address: str) -> bool:
    """Take this person's survey slot for `cap_days` (True), unless another survey holds it (False)."""
    days = tenant.surveys.cap_days
    if days == 0:
        return True
    key, mine = _cap_key(tenant.id, person_hash(tenant.id, address)), f"{state.mission}/{state.role}"
    if conn.set(key, mine, nx=True, ex=days * 86400):
        return True
    held = conn.get(key)
    return held is not None and held.decode() == mine


def _failed(conn, tenant, state, kind: str, address: str, exc: Exception, today: date) -> dict:
    """Retry through rq while attempts remain; on the last one keep the failure for the admin page."""
    error = f"{type(exc).__name__}: {exc}"[:300]
    job = get_current_job()
    if job is not None and (job.retries_left or 0) > 0:
        log.warning("survey e-mail to %s/%s failed, will retry: %s", state.mission, state.role, error)
        raise exc
    if kind == "invite":
        held = conn.get(_cap_key(tenant.id, person_hash(tenant.id, address)))
        if held is not None and held.decode() == f"{state.mission}/{state.role}":
            conn.delete(_cap_key(tenant.id, person_hash(tenant.id, address)))  # nothing reached them
    return _record(conn, tenant, state, kind, "failed", error, today, address=address)


def _record(conn: redis.Redis, tenant: tenants.Tenant, state: surveys.SurveyState, kind: str, status: str,
            error: str, today: date, *, address: str = "", language: str | None = None) -> dict:
    """Keep the outcome on the survey, list a failure for the admin, queue the mission's re-sync."""
    if kind == "reminder":  # one reminder: whatever became of it, it is not sent again
        update = {"reminder_status": status, "reminded_on": today if status == "sent" else None, "mail_error": error}
    else:
        update = {"mail_status": status, "mail_error": error, "emailed_on": today if status == "sent" else None}
    update |= ({"email_to": address} if address else {}) | ({"language": language} if language else {})
    surveys._update(conn, tenant.id, state.mission, state.role, lambda s: s.model_copy(update=update))
    if status in ("failed", "no_address"):
        row = {"at": time.strftime("%Y-%m-%d %H:%M"), "mission": state.mission, "role": state.role, "kind": kind,
               "to": address, "error": error or status}
        conn.lpush(failures_key(tenant.id), json.dumps(row))
        conn.ltrim(failures_key(tenant.id), 0, FAILURES_KEPT - 1)
    from handlers.intake.ingest import enqueue_sync

    enqueue_sync(conn, tenant.id, state.mission, trigger={"kind": "survey-mail", "role": state.role, "status": status})
    return {"status": status, "kind": kind, "error": error}


# --- the respondent, the message, the SMTP server ----------------------------------------------------

def respondent_address(conn: redis.Redis, tenant: tenants.Tenant, state: surveys.SurveyState) -> Contact:
    """(address, language) of the respondent as the host holds them; NoAddress when it has none."""
    from handlers.hosts.registry import adapter_for

    found = adapter_for(tenant, conn).contact(state.person_type, state.person_id, state.person_name)
    address = found.email.strip()
    if "@" not in address:
        raise NoAddress(f"no e-mail address for {state.person_name or state.person_id} in {tenant.host}")
    spoken = found.language.lower()[:2]
    return Contact(address, spoken if spoken in ("fr", "en") else state.language)


def compose(tenant: tenants.Tenant, state: surveys.SurveyState, address: str, *, kind: str) -> EmailMessage:
    """The invitation or reminder: plain text and HTML, the signed link, the opt-out link and headers."""
    cfg, base = tenant.surveys.email, get_settings().public_base_url.rstrip("/")
    link, optout = f"{base}/survey/{state.token}", f"{base}/survey/opt-out/{optout_token(tenant.id, address, state.language)}"
    subject, plain, html = render(state.language, kind, name=state.person_name, company=tenant.name or "",
                                  link=link, optout=optout)
    msg = EmailMessage()
    msg["Subject"], msg["To"] = subject, formataddr((state.person_name, address))
    msg["From"] = formataddr((cfg.sender_name or tenant.name or "", cfg.sender))
    msg["Message-ID"] = make_msgid(domain=cfg.sender.rsplit("@", 1)[1])
    msg["Content-Language"] = state.language
    msg["List-Unsubscribe"] = f"<{optout}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"
    if cfg.reply_to:
        msg["Reply-To"] = cfg.reply_to
    msg.set_content(plain)
    msg.add_alternative(html, subtype="html")
    return msg


def deliver(tenant: tenants.Tenant, msg: EmailMessage) -> None:
    """Send through the tenant's server: implicit TLS, STARTTLS or plain, with its login when set."""
    cfg = tenant.surveys.email
    context = ssl.create_default_context()
    if cfg.security == "tls":
        server = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_seconds, context=context)
    else:
        server = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
    with server:
        if cfg.security == "starttls":
            server.starttls(context=context)
        if cfg.username:
            server.login(cfg.username, cfg.password or "")
        refused = server.send_message(msg)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)
