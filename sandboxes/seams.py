"""Test-only behaviour, loaded by config.infra.hooks only when a test setting is on (never in production).

- the crash point: SIGKILL the worker after the N-th host create (INTERMISSION_CRASH_AFTER_HOST_WRITE=N);
- the pinned clock: `today` read from Redis (INTERMISSION_ALLOW_CLOCK_OVERRIDE, the demo and the tests).
"""

from __future__ import annotations

import os
import signal
from datetime import date

from config import keys
from config.infra.redis_conn import get_redis


def hooks(settings) -> dict:
    """The hooks the settings ask for, by hook point (config.infra.hooks registers them)."""
    return {
        "clock": pinned_day if settings.allow_clock_override else None,
        "after_host_create": maybe_crash if settings.crash_after_host_write else None,
    }


def pinned_day() -> date | None:
    """The day pinned in Redis (config.infra.clock.pin), if any."""
    pinned = get_redis().get(keys.CLOCK)
    return date.fromisoformat(pinned.decode()) if pinned else None


def maybe_crash() -> None:
    """SIGKILL this process after the N-th host create."""
    from config.settings import get_settings

    limit = get_settings().crash_after_host_write
    if limit and get_redis().incr(keys.CRASH_COUNTER) == int(limit):
        os.kill(os.getpid(), signal.SIGKILL)
