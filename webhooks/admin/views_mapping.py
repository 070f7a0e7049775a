"""The mapping page: what the tenant's host needs mapped (Boond: action types and states; Salesforce: object, fields
and values → cases), from the host's part of the admin pages, with errors next to their field."""

from __future__ import annotations

from flask import redirect, request, url_for

from config import tenants
from webhooks.admin import bp, host_choices
from webhooks.admin.auth import current_admin
from webhooks.admin.host_pages import HostPages, pages_for
from webhooks.admin.render import page


@bp.route("/mapping", methods=["GET", "POST"])
def mapping():
    """Show and save the tenant's mapping, with errors next to their field."""
    admin = current_admin()
    tenant, errors, pages = admin.tenant, {}, pages_for(admin.tenant)
    if request.method == "POST":
        updated, errors = pages.mapping_update(tenant, request.form)
        if not errors:
            tenants.save(updated)
            return redirect(url_for(".mapping", a=admin.token, lang=request.form.get("lang"), flash="saved"))
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
        problem="Corrigez les champs signalés. — Please fix the fields marked below." if errors else None,
    ), 400 if errors else 200


def _with_choices(tenant, pages: HostPages, fields: list[dict]) -> list[dict]:
    """The fields with what the host offers for each (Boond action types, Salesforce field names), when it answers."""
    try:
        offered = pages.mapping_choices(tenant, fields)
    except host_choices.HostUnreadable:
        return fields
    return [{**f, "choices": offered.get(f["name"])} for f in fields]
