"""Business-day arithmetic in a tenant's country (French public holidays by default)."""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, years=year).keys())


def warm(country: str = "FR", today: date | None = None) -> None:
    """Load the holiday calendars around this year (a forking worker does it once, before its work horses)."""
    year = (today or date.today()).year
    for around in (year - 1, year, year + 1):
        _holidays(country, around)


def is_business_day(day: date, country: str = "FR") -> bool:
    """True for Monday–Friday that is not a public holiday."""
    return day.weekday() < 5 and day not in _holidays(country, day.year)


def add_business_days(day: date, n: int, country: str = "FR") -> date:
    """Move `n` business days from `day` (negative goes back); n=0 rolls forward to a business day."""
    if n == 0:
        return next_business_day_on_or_after(day, country)
    step = 1 if n > 0 else -1
    remaining = abs(n)
    current = day
    while remaining:
        current += timedelta(days=step)
        if is_business_day(current, country):
            remaining -= 1
    return current


def next_business_day_on_or_after(day: date, country: str = "FR") -> date:
    """`day` itself if it is a business day, otherwise the next one."""
    while not is_business_day(day, country):
        day += timedelta(days=1)
    return day


def next_business_day_after(day: date, country: str = "FR") -> date:
    """The first business day strictly after `day`."""
    return next_business_day_on_or_after(day + timedelta(days=1), country)


def shift(day: date, days: int, unit: str, country: str = "FR") -> date:
    """Apply a playbook offset: calendar days land where they land, business days skip weekends and holidays."""
    if unit == "calendar":
        return day + timedelta(days=days)
    return add_business_days(day, days, country)
