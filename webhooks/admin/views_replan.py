"""Playbook changes applied: how many open missions a change would touch, the confirmation, the re-plan's progress."""
from __future__ import annotations

from flask import redirect, request, url_for

from config import tenants
from config.infra.redis_conn import get_redis
from handlers.sync import backfill, pipeline
from config.infra import clock
from handlers.state.store import SnapshotStore
from webhooks.admin import bp
from webhooks.admin.i18n import word
from webhooks.admin.render import lang_for, page, tenant_page

CHANGING = ("create", "update", "cancel")
SKIPPED_FIELDS = ("a", "csrf", "lang", "confirm")


def impact(tenant: tenants.Tenant, overrides: dict) -> dict:
    """The dry run of a playbook change on every open mission we know: how many would change, and how."""
    return impact_of(tenant, tenant.model_copy(update={"playbook_overrides": overrides}))


def impact_of(tenant: tenants.Tenant, candidate: tenants.Tenant, restate=None) -> dict:
    """The dry run of `candidate` (the tenant changed) on every open mission we know; `restate` re-reads a
    snapshot's host facts with the candidate's mapping (a mapping change: webhooks/admin/host_pages.py)."""
    conn, today = get_redis(), clock.today(tenant.timezone)
    store, ops, changing = SnapshotStore(conn, tenant.id), dict.fromkeys(CHANGING, 0), 0
    missions = backfill.open_missions(conn, tenant, today)
    for mission_id in missions:
        snap = store.get(mission_id)
        now = restate(candidate, snap) if restate and snap else snap
        plan = pipeline.prepare(conn, candidate, snap, current=now, trigger={"kind": "playbook-preview"}, today=today, write=False)
        rows = [r for r in pipeline.dry_run(conn, plan) if r["op"] in CHANGING] if plan else []
        changing += bool(rows)
        for row in rows:
            ops[row["op"]] += 1
    return {"open": len(missions), "changing": changing, "ops": ops}


def confirm_or_apply(admin, overrides: dict, step: str, *, flash: str):
    """Without `confirm`: the page saying how many missions will change; with it: save and queue the re-plan."""
    if request.form.get("confirm") != "1":
        fields = [(k, v) for k, v in request.form.items(multi=True) if k not in SKIPPED_FIELDS]
        return page("playbook_confirm.html", step=step, impact=impact(admin.tenant, overrides), fields=fields,
                    action=request.path, back=url_for(".playbook", a=admin.token, lang=lang_for(admin.tenant)))
    tenants.save(admin.tenant.model_copy(update={"playbook_overrides": overrides}))
    run = backfill.start_quietly(get_redis(), admin.tenant.id, "playbook")
    flash += " — " + word("replan_queued", lang_for(admin.tenant)) if run else ""
    return redirect(url_for(".playbook", a=admin.token, lang=request.form.get("lang"), flash=flash))


@bp.get("/progress")
def progress():
    """The tenant's backfill or re-plan run (missions read / planned / failed) and the survey e-mails that failed."""
    from handlers.surveys import mail as survey_mail

    return tenant_page("progress.html", run=backfill.progress, mail_failures=survey_mail.failures)
