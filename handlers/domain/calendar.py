"""Business-day arithmetic in a tenant's country and optional region (French public holidays by default)."""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=128)
def _holidays(country: str, year: int, subdivision: str | None = None) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdivision or None, years=year).keys())


def warm(country: str = "FR", today: date | None = None, subdivision: str | None = None) -> None:
    """Load the holiday calendars around this year (a forking worker does it once, before its work horses)."""
    year = (today or date.today()).year
    for around in (year - 1, year, year + 1):
        _holidays(country, around, subdivision)


def is_business_day(day: date, country: str = "FR", subdivision: str | None = None) -> bool:
    """True for Monday–Friday that is not a public holiday (of the region too, when one is given)."""
    return day.weekday() < 5 and day not in _holidays(country, day.year, subdivision)


def add_business_days(day: date, n: int, country: str = "FR", *, subdivision: str | None = None) -> date:
    """Move `n` business days from `day` (negative goes back); n=0 rolls forward to a business day."""
    if n == 0:
        return next_business_day_on_or_after(day, country, subdivision)
    step = 1 if n > 0 else -1
    remaining = abs(n)
    current = day
    while remaining:
        current += timedelta(days=step)
        if is_business_day(current, country, subdivision):
            remaining -= 1
    return current


def next_business_day_on_or_after(day: date, country: str = "FR", subdivision: str | None = None) -> date:
    """`day` itself if it is a business day, otherwise the next one."""
    while not is_business_day(day, country, subdivision):
        day += timedelta(days=1)
    return day


def last_business_day_on_or_before(day: date, country: str = "FR", subdivision: str | None = None) -> date:
    """`day` itself if it is a business day, otherwise the one before."""
    while not is_business_day(day, country, subdivision):
        day -= timedelta(days=1)
    return day


def next_business_day_after(day: date, country: str = "FR", subdivision: str | None = None) -> date:
    """The first business day strictly after `day`."""
    return next_business_day_on_or_after(day + timedelta(days=1), country, subdivision)


def shift(day: date, days: int, unit: str, *, country: str = "FR", subdivision: str | None = None) -> date:
    """Apply a playbook offset: calendar days land where they land, business days skip weekends and holidays."""
    if unit == "calendar":
        return day + timedelta(days=days)
    return add_business_days(day, days, country, subdivision=subdivision)
