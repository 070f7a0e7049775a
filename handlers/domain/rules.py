"""The tenant settings the planner reads (country, region, late discovery, bench threshold, default owners)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from handlers.domain import calendar
from handlers.domain.model import Person


@dataclass(frozen=True)
class Rules:
    """Everything tenant-specific the pure planner needs besides the playbook and the language."""

    country: str = "FR"
    subdivision: str | None = None
    stale_after_days: int = 30
    bench_threshold: int = 50
    chain_by: str = "project"  # "project" or "client": what a next mission must share to continue this one
    daily_cap: int = 5  # late steps per person and day, at most (handlers.plan.spread_late_steps)
    defaults: dict[str, Person] = field(default_factory=dict)

    @classmethod
    def of(cls, tenant, owner_type: str = "resource") -> "Rules":
        """The rules of one tenant (config.tenants.Tenant); default owners are people of `owner_type` (`Host.owner_type`)."""
        cfg, kind = tenant.planning, owner_type
        return cls(country=tenant.country, subdivision=tenant.subdivision, stale_after_days=cfg.stale_after_days,
                   bench_threshold=cfg.bench_threshold, chain_by=cfg.chain_by, daily_cap=cfg.daily_cap,
                   defaults={role: Person(id=ident, type=kind, name=cfg.default_owner_names.get(role, ""))
                             for role, ident in cfg.default_owners.items()})

    @classmethod
    def coerce(cls, rules: "Rules | None", country: str = "FR") -> "Rules":
        """`rules` as given, else the defaults for `country` (callers that only pass a country)."""
        return rules if rules is not None else cls(country=country)

    # calendar shortcuts in this tenant's country and region
    def business(self, day: date) -> bool:
        """Is `day` a business day here?"""
        return calendar.is_business_day(day, self.country, self.subdivision)

    def on_or_after(self, day: date) -> date:
        """`day`, or the next business day."""
        return calendar.next_business_day_on_or_after(day, self.country, self.subdivision)

    def on_or_before(self, day: date) -> date:
        """`day`, or the business day before it."""
        return calendar.last_business_day_on_or_before(day, self.country, self.subdivision)

    def after(self, day: date) -> date:
        """The first business day strictly after `day`."""
        return calendar.next_business_day_after(day, self.country, self.subdivision)

    def add(self, day: date, n: int) -> date:
        """`n` business days from `day`."""
        return calendar.add_business_days(day, n, self.country, subdivision=self.subdivision)

    def shift(self, day: date, days: int, unit: str) -> date:
        """A playbook offset from `day`."""
        return calendar.shift(day, days, unit, country=self.country, subdivision=self.subdivision)
