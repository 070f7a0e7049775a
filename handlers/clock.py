"""Today in a tenant's time zone; the demo and the tests may pin it in Redis when allowed."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from config import keys
from config.redis_conn import get_redis
from config.settings import get_settings

CLOCK_KEY = keys.CLOCK


def today(timezone: str = "Europe/Paris") -> date:
    """The tenant's current date (a pinned date when `allow_clock_override` is on and one is set)."""
    if get_settings().allow_clock_override:
        pinned = get_redis().get(CLOCK_KEY)
        if pinned:
            return date.fromisoformat(pinned.decode())
    return datetime.now(ZoneInfo(timezone)).date()


def pin(day: date) -> None:
    """Pin today's date (demo and tests only; ignored unless allowed by settings)."""
    get_redis().set(CLOCK_KEY, day.isoformat())
