"""The planning settings card of the overview: the form's values and the missions without a manager."""

from __future__ import annotations

from config.infra.redis_conn import get_redis
from handlers.reports.unmanaged import missions_without_manager

ROLES = ("manager", "business_engineer", "hr")


def planning_card(tenant) -> dict:
    """The form's values (the countries and the country's regions as choices, named in the page's language) and the
    missions whose manager steps fall back."""
    from webhooks.admin.render import lang_for
    from webhooks.admin.setup_flow import country_choices, region_choices

    cfg, lang = tenant.planning, lang_for(tenant)
    return {
        "countries": country_choices(lang),
        "regions": region_choices(tenant.country, lang),
        "country": tenant.country,
        "subdivision": tenant.subdivision or "",
        "stale_after_days": cfg.stale_after_days,
        "bench_threshold": cfg.bench_threshold,
        "daily_cap": cfg.daily_cap,
        "chain_by": cfg.chain_by,
        **{f"owner_{r}": cfg.default_owners.get(r, "") for r in ROLES},
        **{f"owner_name_{r}": cfg.default_owner_names.get(r, "") for r in ROLES},
        "unmanaged": missions_without_manager(get_redis(), tenant.id),
    }
