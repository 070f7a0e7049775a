"""A Redis lock whose holder is known (host, process), so a lock left by a killed worker on this machine is taken
over: `held` waits for a live holder, `held_if_free` never waits."""
from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any, TypeVar

import redis

T = TypeVar("T")
_NOT_YET = object()  # the lock's first try found it held: what it read is dropped
_RELEASE_IF = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end"


class LockTimeout(RuntimeError):
    """Another live worker kept the lock too long; the job will be retried."""


@contextmanager
def held(conn: redis.Redis, name: str, *, ttl: int, wait: float = 60.0,
         reading: Callable[[Any], Callable[[list], T]] | None = None):
    """Hold `name` for at most `ttl` seconds; wait up to `wait` seconds for it (yields True, as `held_if_free` does
    when it holds it; LockTimeout when a live holder kept it).

    `reading(pipe)` queues reads on a pipeline and returns what turns their answers into a value: they are sent in
    the lock's own round trip, after it, and that value is yielded instead of True. A first try that finds the lock
    held drops what it read and reads again once the lock is ours: what is yielded was always read under it."""
    token, answers = _token(), _NOT_YET
    if reading is not None:
        pipe = conn.pipeline(transaction=False)
        pipe.set(name, token, nx=True, ex=ttl)
        decoded = reading(pipe)
        try:
            taken, *read = pipe.execute()
        except BaseException:  # the lock may be ours though a read failed: never left behind
            conn.eval(_RELEASE_IF, 1, name, token)
            raise
        answers = read if taken else _NOT_YET
    if answers is _NOT_YET:
        holder = _take(conn, name, token, ttl=ttl, wait=wait)
        if holder is not None:
            raise LockTimeout(f"{name} is still held by {holder!r}")
    try:
        if reading is None:
            yield True
        else:
            if answers is _NOT_YET:
                pipe = conn.pipeline(transaction=False)
                decoded = reading(pipe)
                answers = pipe.execute()
            yield decoded(answers)
    finally:
        conn.eval(_RELEASE_IF, 1, name, token)


@contextmanager
def held_if_free(conn: redis.Redis, name: str, *, ttl: int):
    """Hold `name` for at most `ttl` seconds if no live holder has it (a dead holder's lock on this machine is taken
    over): yields True. Yields False at once, holding nothing, while a live holder (or one on another machine) has it."""
    token = _token()
    if _take(conn, name, token, ttl=ttl, wait=0) is not None:
        yield False
        return
    try:
        yield True
    finally:
        conn.eval(_RELEASE_IF, 1, name, token)


def _token() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"


def _take(conn: redis.Redis, name: str, token: str, *, ttl: int, wait: float) -> bytes | None:
    """Set `name` to `token`, waiting up to `wait` seconds: None once it is ours, else who still holds it."""
    deadline = time.monotonic() + wait
    while not conn.set(name, token, nx=True, ex=ttl):
        holder = conn.get(name)
        if holder is None:  # released (or expired) between the two calls: try again at once
            continue
        if _holder_is_dead(holder.decode()):
            conn.eval(_RELEASE_IF, 1, name, holder)
            continue
        if time.monotonic() >= deadline:
            return holder
        time.sleep(0.05)
    return None


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
