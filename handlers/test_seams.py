"""Fault injection for the crash tests, inert unless INTERMISSION_CRASH_AFTER_HOST_WRITE is set."""
from __future__ import annotations

import os
import signal

from config import keys


def maybe_crash() -> None:
    """SIGKILL this process after the N-th host create (tests only; the setting is unset in production)."""
    from config.settings import get_settings

    limit = get_settings().crash_after_host_write
    if not limit:
        return
    from config.redis_conn import get_redis

    if get_redis().incr(keys.CRASH_COUNTER) == int(limit):
        os.kill(os.getpid(), signal.SIGKILL)
