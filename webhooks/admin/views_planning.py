"""The planning settings form of the overview: holidays' country and region, late discovery, bench, default owners."""
from __future__ import annotations

from flask import redirect, request, url_for
from pydantic import ValidationError

from config import tenants
from webhooks.admin import bp
from webhooks.admin.auth import current_admin
from webhooks.admin.planning_card import ROLES
from webhooks.admin.i18n import word
from webhooks.admin.render import lang_for, page
from webhooks.admin.validation import one_line

@bp.post("/planning")
def planning():
    """Save the planning settings; a bad value is shown next to its field, nothing saved."""
    admin = current_admin()
    form, tenant = request.form, admin.tenant
    lang = lang_for(tenant)
    country, subdivision = form.get("country", "FR").strip().upper(), form.get("subdivision", "").strip() or None
    try:
        settings = tenants.PlanningSettings(
            stale_after_days=_number(form, "stale_after_days"), bench_threshold=_number(form, "bench_threshold"),
            daily_cap=_number(form, "daily_cap"), chain_by=form.get("chain_by", "project"),
            default_owners={r: form.get(f"owner_{r}", tenant.planning.default_owners.get(r, "")) for r in ROLES})
        tenants.check_region(country, subdivision)
    except (ValidationError, tenants.TenantError) as exc:
        message = one_line(exc, lang) if isinstance(exc, ValidationError) else word("bad_region", lang)
        from webhooks.admin.views_main import overview_context  # the page this card sits on

        return page("overview.html", **overview_context(tenant), flash=None, planning_error=message), 400
    old = tenant.planning
    names = {r: n for r, n in old.default_owner_names.items() if settings.default_owners.get(r) == old.default_owners.get(r)}
    settings = settings.model_copy(update={"default_owner_names": names})  # a name only for an owner unchanged
    tenants.save(tenant.model_copy(update={"planning": settings, "country": country, "subdivision": subdivision}))
    return redirect(url_for(".overview", a=admin.token, lang=form.get("lang"), flash="saved"))


def _number(form, name: str) -> str:
    """The field as typed (pydantic reads a whole number and says when it is not one, in words: `one_line`)."""
    return (form.get(name) or "").strip()[:20]


@bp.get("/regions")
def regions():
    """The regions of a country as [code, name] pairs in the page's language (the overview's region select asks
    when the admin picks another country)."""
    from flask import jsonify

    from webhooks.admin.setup_flow import region_choices

    admin = current_admin()
    country = (request.args.get("country") or "").strip().upper()[:3]
    return jsonify(regions=[list(r) for r in region_choices(country, lang_for(admin.tenant))])
