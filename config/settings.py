"""Process settings, read from the environment (and a `.env` file) with pydantic-settings."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from typing import TypeVar

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator can set but a host's own (its `HostSettings`, below); names are `INTERMISSION_<FIELD>`
    except `REDIS_URL`."""

    model_config = SettingsConfigDict(env_prefix="INTERMISSION_", env_file=".env", extra="ignore")

    redis_url: str | None = Field(default=None, validation_alias=AliasChoices("REDIS_URL", "INTERMISSION_REDIS_URL"))
    redis_sentinels: str | None = None  # "host:port,host:port": find the master through Redis Sentinel instead
    redis_sentinel_master: str = "mymaster"
    redis_password: str | None = None  # the master's password when found through Sentinel (REDIS_URL carries its own)
    redis_retry_seconds: float = 15.0  # workers only: a failed Redis call is retried this long (failover, restart)
    redis_connect_timeout_seconds: float = 0.5  # web, probes, CLI: give up connecting to Redis after this long
    redis_socket_timeout_seconds: float = 1.0  # web, probes, CLI: give up waiting for an answer after this long
    worker_heartbeat_seconds: int = 30  # an idle worker refreshes its registration at least this often
    scheduler_check_seconds: float = 10.0  # how often a worker restarts a dead rq scheduler (after a Redis outage)
    tick_interval_seconds: int = 900  # the scheduler's tick (time-based steps, sweeps, resumes) runs every this long
    redis_wait_replicas: int = 0  # >0: a webhook is acknowledged only once this many replicas hold it (WAIT)
    redis_wait_timeout_ms: int = 1000  # how long to wait for them; past it the webhook answers 503 (the host resends)
    log_format: Literal["json", "text"] = "json"  # one JSON object per line, or plain lines for a terminal
    ready_max_queue_age_seconds: float = 300.0  # /readyz answers 503 when the oldest queued job waited longer
    data_dir: Path = Path(".intermission")
    secret_keys: str | None = None  # comma-separated Fernet keys, newest first; generated under data_dir if unset
    public_base_url: str = "http://127.0.0.1:8000"
    max_webhook_bytes: int = 1_048_576
    default_timezone: str = "Europe/Paris"
    default_language: str = "fr"
    dedupe_ttl_seconds: int = 7 * 24 * 3600
    pending_ttl_seconds: int = 600
    job_timeout_seconds: int = 300
    retry_intervals: str = "5,30,120,600"  # seconds between attempts of a failed job
    http_timeout_seconds: float = 10.0
    http_max_attempts: int = 4
    in_flight_margin_seconds: float = 2.0  # how long past the HTTP timeout a dead worker's create may still land
    http_backoff_seconds: float = 0.2  # first pause before retrying a 5xx or timeout in place (then doubled, ≤ 5 s)
    max_retry_after_seconds: float = 60.0
    sf_limit_pause_seconds: float = 3600.0  # how long a tenant's writes pause after REQUEST_LIMIT_EXCEEDED
    sweep_interval_seconds: int = 900  # the scheduler re-reads what each host says changed in twice this window
    orphan_check_seconds: float = 5.0  # how often a running worker requeues the jobs of dead workers
    allow_clock_override: bool = False  # demo/tests only: lets `today` be pinned in Redis
    # security (docs/OPERATIONS.md, "Exposure"): who may send X-Forwarded-*, who may scrape, which hosts are real
    trusted_proxies: str = ""  # comma-separated addresses/networks whose X-Forwarded-For/-Proto are believed
    behind_proxy: bool = False  # the web process may listen on a public address: a proxy reads whole requests
    metrics_token: str | None = None  # bearer token for /metrics and the detailed /readyz; None: both answer 404
    cdc_batch_size: int = 100  # change events a subscriber stream asks for at once (FetchRequest.num_requested, ≤ 100)
    cdc_lock_seconds: float = 30.0  # a subscriber's per-tenant lock lives this long unrenewed (takeover after a crash)
    cdc_max_silence_seconds: float = 600.0  # /readyz: a stream that heard nothing (not even a keepalive) this long
    allow_sandbox_hosts: bool = False  # demo/tests only: accept a loopback http instance_url (the local sandbox)
    allow_private_hosts: bool = False  # operator-set URLs may name private addresses (an internal Boond, SMTP relay)
    crash_after_host_write: str | None = None  # fault injection for tests: "<n>" kills the worker after the n-th create

    def retry_schedule(self) -> list[int]:
        """Intervals between retries, as rq's Retry expects them."""
        return [int(x) for x in self.retry_intervals.split(",") if x.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call `get_settings.cache_clear()`)."""
    return Settings()


class HostSettings(BaseSettings):
    """A host's own operator settings, named like the others (`INTERMISSION_<FIELD>`): its package subclasses this and
    reads them with `host_settings(Model)` (connectors/boond/settings.py), so this module names no host."""

    model_config = Settings.model_config

    def operator_urls(self) -> list[tuple[str, str]]:
        """The addresses the operator set for this host, as (URL, setting name): checked when a process starts
        (config/infra/urls.py). None by default."""
        return []


HostModel = TypeVar("HostModel", bound=HostSettings)
_HOST_SETTINGS: dict[type, tuple[Settings, HostSettings]] = {}


def host_settings(model: type[HostModel]) -> HostModel:
    """A host's settings, read from the environment once per `get_settings()` (its cache_clear() renews them too)."""
    current = get_settings()
    found = _HOST_SETTINGS.get(model)
    if found is None or found[0] is not current:
        found = _HOST_SETTINGS[model] = (current, model())
    return found[1]  # type: ignore[return-value]
