"""Today in a tenant's time zone; the demo and the tests may pin it (config.infra.hooks, when their setting allows)."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from config import keys
from config.infra.redis_conn import get_redis
from config.infra import hooks

CLOCK_KEY = keys.CLOCK


def today(timezone: str = "Europe/Paris") -> date:
    """The tenant's current date (a pinned date when the test seam is loaded and one is set)."""
    return hooks.pinned_today() or datetime.now(ZoneInfo(timezone)).date()


def pin(day: date) -> None:
    """Pin today's date (demo and tests only; read only where `allow_clock_override` loaded the seam)."""
    get_redis().set(CLOCK_KEY, day.isoformat())
