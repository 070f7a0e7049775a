"""The set-up flow's routes: `GET /admin/setup` shows the first screen not confirmed (or `?step=`), each screen's
form posts to `/admin/setup/<step>`, which saves, confirms it and goes on to the next (webhooks/admin/setup_flow.py)."""
from __future__ import annotations

from flask import abort, redirect, request, url_for

from config import tenants
from config.infra.redis_conn import get_redis
from handlers.sync import setup
from webhooks.admin import bp, setup_flow
from webhooks.admin.auth import current_admin
from webhooks.admin.host_pages import pages_for
from webhooks.admin.i18n import label, word
from webhooks.admin.render import lang_for, page


@bp.get("/setup")
def setup_page():
    """One screen of the set-up flow, resumed where the admin left it."""
    admin = current_admin()
    pages = pages_for(admin.tenant)
    steps = setup_flow.steps_for(pages, admin.tenant)
    step = request.args.get("step") or setup_flow.current_step(pages, admin.tenant)
    if step not in steps:
        abort(404)
    return _screen(admin, pages, steps, step, error=request.args.get("error"))


def _screen(admin, pages, steps, step: str, *, error: str | None = None, status: int = 200):
    tenant, lang = admin.tenant, lang_for(admin.tenant)
    context = {"connection": _connection, "states": lambda t, p: {"states": p.setup_states(t)},
               "owners": lambda t, p: {"pickers": setup_flow.people_pickers(t, request.args)},
               "place": lambda t, p: setup_flow.place_choices(t), "preview": _preview,
               "activate": _activate}[step](tenant, pages)
    return page("setup.html", step=step, steps=steps, number=steps.index(step) + 1, done=setup_flow.confirmed(tenant.id),
                error=error, label=lambda prefix, code: label(prefix, code, lang), flash=request.args.get("flash"),
                **context), status


def _connection(tenant, pages) -> dict:
    from webhooks.admin.connection_check import check

    card = pages.configure_card(tenant)
    if card is not None or not pages.ready(tenant):
        return {"configure": card, "result": None}
    return {"configure": None, "result": check(tenant, lang_for(tenant))}


def _preview(tenant, pages) -> dict:
    from connectors.errors import HostError

    try:
        return {"ends": setup_flow.next_ends(tenant), "preview_error": None}
    except HostError as exc:
        return {"ends": [], "preview_error": str(exc)[:200]}


def _activate(tenant, pages) -> dict:
    from connectors.errors import HostError
    from handlers.sync.holds import held

    missing = setup.check(tenant).missing
    try:
        forecast = None if missing or tenant.setup_complete else setup_flow.install_forecast(tenant)
    except HostError:
        forecast = None
    return {"missing": missing, "held_count": len(held(get_redis(), tenant.id)), "forecast": forecast}


@bp.post("/setup/<step>")
def setup_save(step: str):
    """Save one screen, confirm it, and go on to the next one (or show it again with what is wrong)."""
    admin = current_admin()
    tenant, pages = admin.tenant, pages_for(admin.tenant)
    steps = setup_flow.steps_for(pages, tenant)
    if step not in steps:
        abort(404)
    error = None
    if step == "connection":
        result = _connection(tenant, pages)["result"]
        error = None if result and result["ok"] else "setup_connection_first"
    elif step == "states":
        tenants.save(pages.setup_states_save(tenant, request.form))
    elif step == "owners":
        updated, missing = setup_flow.save_owners(tenant, request.form)
        tenants.save(updated)
        error = "setup_owner_missing" if missing else None
    elif step == "place":
        updated, error = setup_flow.save_place(tenant, request.form)
        if error is None:
            tenants.save(updated)
    elif step == "activate":
        return _activate_now(admin)
    lang = request.form.get("lang") or lang_for(tenant)
    if error:
        return redirect(url_for(".setup_page", a=admin.token, lang=lang, step=step, error=error))
    setup_flow.confirm(tenant.id, step)
    following = steps[steps.index(step) + 1]
    return redirect(url_for(".setup_page", a=admin.token, lang=lang, step=following))


def _activate_now(admin):
    """End the set-up: refused in words while something is missing; else the held work and the backfill start."""
    lang = request.form.get("lang") or lang_for(admin.tenant)
    fresh = tenants.require(admin.tenant.id)
    if setup.check(fresh).missing:
        return redirect(url_for(".setup_page", a=admin.token, lang=lang, step="activate", error="setup_not_ready"))
    done = setup.finish(get_redis(), fresh)
    setup_flow.confirm(fresh.id, "activate")
    flash = word("setup_done", lang).format(resumed=len(done["resumed"]))
    return redirect(url_for(".overview", a=admin.token, lang=lang, flash=flash))
