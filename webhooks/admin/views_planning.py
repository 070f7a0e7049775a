"""The planning settings form of the overview: holidays' country and region, late discovery, bench, default owners."""
from __future__ import annotations

from flask import redirect, request, url_for
from pydantic import ValidationError

from config import tenants
from webhooks.admin import bp
from webhooks.admin.auth import current_admin
from webhooks.admin.planning_card import ROLES
from webhooks.admin.render import page

@bp.post("/planning")
def planning():
    """Save the planning settings; a bad value is shown next to its field, nothing saved."""
    admin = current_admin()
    form, tenant = request.form, admin.tenant
    try:
        settings = tenants.PlanningSettings(
            stale_after_days=_number(form, "stale_after_days"), bench_threshold=_number(form, "bench_threshold"),
            daily_cap=_number(form, "daily_cap"), chain_by=form.get("chain_by", "project"),
            default_owners={r: form.get(f"owner_{r}", tenant.planning.default_owners.get(r, "")) for r in ROLES})
        country, subdivision = form.get("country", "FR").strip().upper(), form.get("subdivision", "").strip() or None
        tenants.check_region(country, subdivision)
    except (ValidationError, ValueError) as exc:
        message = "; ".join(e["msg"] for e in exc.errors()) if isinstance(exc, ValidationError) else str(exc)
        from webhooks.admin.views_main import overview_context  # the page this card sits on

        return page("overview.html", **overview_context(tenant), flash=None, planning_error=message), 400
    old = tenant.planning
    names = {r: n for r, n in old.default_owner_names.items() if settings.default_owners.get(r) == old.default_owners.get(r)}
    settings = settings.model_copy(update={"default_owner_names": names})  # a name only for an owner unchanged
    tenants.save(tenant.model_copy(update={"planning": settings, "country": country, "subdivision": subdivision}))
    return redirect(url_for(".overview", a=admin.token, lang=form.get("lang"), flash="saved"))


def _number(form, name: str) -> int:
    raw = (form.get(name) or "").strip()
    if not raw.lstrip("-").isdigit():
        raise ValueError(f"{name}: a whole number, please / un nombre entier")
    return int(raw)
