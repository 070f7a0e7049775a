"""The mapping page: what the tenant's host needs mapped (Boond: action types and states; Salesforce: object, fields
and values → cases), from the host's part of the admin pages, with errors next to their field."""

from __future__ import annotations

from flask import redirect, request, url_for

from config import tenants
from webhooks.admin import bp, host_choices
from webhooks.admin.auth import current_admin
from webhooks.admin.host_pages import HostPages, pages_for
from webhooks.admin.i18n import word
from webhooks.admin.render import lang_for, page


@bp.route("/mapping", methods=["GET", "POST"])
def mapping():
    """Show and save the tenant's mapping, with errors next to their field."""
    admin = current_admin()
    tenant, errors, pages = admin.tenant, {}, pages_for(admin.tenant)
    if request.method == "POST":
        updated, errors = pages.mapping_update(tenant, request.form)
        if not errors:
            return _confirm_or_save(admin, pages, updated)
    fields = _with_choices(tenant, pages, pages.mapping_fields(tenant))
    if errors:
        fields = [{**f, "value": request.form.get(f["name"], f["value"])} for f in fields]
    states, proposed = pages.mapping_states(tenant)
    return page(
        "mapping.html",
        fields=fields,
        errors=errors,
        flash=request.args.get("flash"),
        states=states,
        proposed=proposed,
        problem=word("errors", lang_for(tenant)) if errors else None,
    ), 400 if errors else 200


def _confirm_or_save(admin, pages: HostPages, updated):
    """A mapping that changes open missions first shows what will be written; confirmed (or changing nothing), it is
    saved and every open mission is re-planned from the host (the missions' progress on *Progress*)."""
    from config.infra.redis_conn import get_redis
    from handlers.sync import backfill
    from webhooks.admin.views_replan import SKIPPED_FIELDS, impact_of

    lang = request.form.get("lang") or lang_for(admin.tenant)
    if request.form.get("confirm") != "1":
        found = impact_of(admin.tenant, updated, pages.restated)
        if found["changing"]:
            fields = [(k, v) for k, v in request.form.items(multi=True) if k not in SKIPPED_FIELDS]
            return page(
                "playbook_confirm.html",
                step=word("mapping", lang),
                impact=found,
                fields=fields,
                action=request.path,
                back=url_for(".mapping", a=admin.token, lang=lang),
            )
    tenants.save(updated)
    run = backfill.start_quietly(get_redis(), admin.tenant.id, "mapping") if updated.setup_complete else None
    flash = word("saved", lang) + (" — " + word("replan_queued", lang) if run else "")
    return redirect(url_for(".mapping", a=admin.token, lang=lang, flash=flash))


def _with_choices(tenant, pages: HostPages, fields: list[dict]) -> list[dict]:
    """The fields with what the host offers for each (Boond action types, Salesforce field names), when it answers."""
    try:
        offered = pages.mapping_choices(tenant, fields)
    except host_choices.HostUnreadable:
        return fields
    return [{**f, "choices": offered.get(f["name"])} for f in fields]
