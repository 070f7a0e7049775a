"""A per-consultant Redis lock whose holder is known, so a lock left by a killed worker is taken over."""
from __future__ import annotations

import os
import socket
import time
import uuid
from contextlib import contextmanager

import redis

_RELEASE_IF = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end"


class LockTimeout(RuntimeError):
    """Another live worker kept the lock too long; the job will be retried."""


@contextmanager
def held(conn: redis.Redis, name: str, *, ttl: int, wait: float = 60.0):
    """Hold `name` for at most `ttl` seconds; wait up to `wait` seconds for it."""
    token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
    deadline = time.monotonic() + wait
    while not conn.set(name, token, nx=True, ex=ttl):
        holder = conn.get(name)
        if holder and _holder_is_dead(holder.decode()):
            conn.eval(_RELEASE_IF, 1, name, holder)
            continue
        if time.monotonic() > deadline:
            raise LockTimeout(f"{name} is still held by {holder!r}")
        time.sleep(0.05)
    try:
        yield
    finally:
        conn.eval(_RELEASE_IF, 1, name, token)


def _holder_is_dead(holder: str) -> bool:
    """True when the holder ran on this machine and its process is gone."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
