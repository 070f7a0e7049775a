"""`intermission subscribe`: Change Data Capture through the Pub/Sub API, for every tenant whose trigger is `cdc`.

One process for the deployment; one stream (a thread) per tenant and topic (`/data/Mission__ChangeEvent`, …). A change
event goes through the same admission as the webhooks (`ingest.enqueue_batch`, deduplicated by its replay id and
record) only when it concerns a mapped date, status or consultant field; its replay id is stored for the tenant
only after that admission, so a restart resumes from the last admitted event and a crash in between re-admits it
as a duplicate, never loses it. A replay id the org no longer accepts (invalid, or older than the 72 h retention)
starts the stream from the latest event and queues a sweep of the gap. A dropped stream reconnects with back-off;
an expired token is refreshed once (UNAUTHENTICATED) and the stream resumes. A Redis lock per tenant keeps two
subscriber processes from streaming the same tenant. See docs/SALESFORCE.md, "Change Data Capture".
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import redis

from config import keys, tenants
from config.infra import metrics
from config.infra.redis_conn import get_redis
from config.settings import get_settings
from connectors.errors import HostAuthError, HostError, HostNotFound
from connectors.salesforce.pubsub.client import ChangeEvent, PubSubAuthError, PubSubClient, ReplayInvalid, topic_for
from handlers.hosts.salesforce.adapter import tokens_for
from handlers.intake.ingest import enqueue_batch
from handlers.intake.queues import get_queue, retry_policy
from connectors.salesforce.settings import salesforce_env, salesforce_settings

log = logging.getLogger(__name__)
BACKOFF = (0.5, 1, 2, 5, 10, 30)  # seconds before reconnecting a dropped stream, then the last value
RETENTION = timedelta(hours=72)  # how far back Salesforce keeps change events: the widest gap a sweep repairs
ALWAYS = ("CREATE", "DELETE", "UNDELETE", "GAP_CREATE", "GAP_DELETE", "GAP_UNDELETE")
# a lock is renewed, or released, only by the process holding it
_RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


def cdc_tenants() -> list[tenants.Tenant]:
    """Tenants whose trigger is Change Data Capture and that may run jobs."""
    found = (tenants.get(t) for t in tenants.list_ids())
    return [t for t in found if tenants.may_run_jobs(t) and salesforce_settings(t) is not None and salesforce_settings(t).trigger == "cdc"]


def watched_fields(tenant: tenants.Tenant) -> set[str]:
    """The mission object's own fields whose change matters: dates, status, end reason, consultant."""
    m = salesforce_settings(tenant).mapping
    return {f for f in (m.start_date, m.end_date, m.status, m.end_reason, m.consultant_contact) if f and "." not in f}


def relevant(event: ChangeEvent, watched: set[str]) -> bool:
    """Whether a change event may change a plan: creations, deletions, gaps, or an update of a watched field."""
    if event.change_type in ALWAYS:
        return True
    return event.change_type in ("UPDATE", "GAP_UPDATE") and bool(event.changed_fields & watched)


def client_for(tenant: tenants.Tenant, conn: redis.Redis) -> PubSubClient:
    """A Pub/Sub client for the tenant's org (plain gRPC only for a loopback sandbox, with sandbox hosts allowed)."""
    settings, store = get_settings(), tokens_for(tenant, conn)
    record = store.load() or {}
    endpoint = salesforce_env().sf_pubsub_endpoint
    from config.infra.urls import BadHostUrl, checked_host_url

    try:  # the org's access token goes there (config/infra/urls.py)
        checked_host_url(f"https://{endpoint}", "INTERMISSION_SF_PUBSUB_ENDPOINT")
    except BadHostUrl as exc:
        raise HostError(str(exc), host="salesforce") from exc
    loopback = urlsplit(f"//{endpoint}").hostname in ("127.0.0.1", "localhost", "::1")
    return PubSubClient(endpoint, store, instance_url=store.instance_url(), org_id=record.get("org_id") or
                        salesforce_settings(tenant).org_id or "", secure=not (loopback and settings.allow_sandbox_hosts),
                        timeout=settings.http_timeout_seconds)


def check_topic(tenant: tenants.Tenant, conn: redis.Redis | None = None) -> dict:
    """GetTopic for the tenant's mission object: {"topic", "enabled", "message_en", "message_fr"} for the set-up."""
    conn = conn or get_redis()
    sobject = salesforce_settings(tenant).mapping.object
    topic, client = topic_for(sobject), client_for(tenant, conn)
    try:
        info = client.get_topic(topic)
        enabled = bool(info.can_subscribe)
    except HostNotFound:
        enabled = False
    finally:
        client.close()
    if enabled:
        return {"topic": topic, "enabled": True, "message_en": f"Change Data Capture is on for {sobject}.",
                "message_fr": f"La capture des modifications (Change Data Capture) est active pour {sobject}."}
    return {"topic": topic, "enabled": False,
            "message_en": f"Change Data Capture is off for {sobject}: in Salesforce, Setup > Integrations > Change "
                          f"Data Capture, move {sobject} to Selected Entities and save.",
            "message_fr": f"La capture des modifications est désactivée pour {sobject} : dans Salesforce, "
                          f"Configuration > Intégrations > Change Data Capture, placez {sobject} dans les entités "
                          "sélectionnées et enregistrez."}


# --- the replay id, stored per tenant and topic -----------------------------------------------------------------

def stored_replay(conn: redis.Redis, tenant_id: str, topic: str) -> dict | None:
    """{"replay": hex, "at": epoch seconds} of the last admitted event of a topic, or None."""
    raw = conn.hget(keys.sf_cdc_replay(tenant_id), topic)
    return json.loads(raw) if raw else None


def store_replay(conn: redis.Redis, tenant_id: str, topic: str, *, replay_id: bytes, at: float) -> None:
    conn.hset(keys.sf_cdc_replay(tenant_id), topic, json.dumps({"replay": replay_id.hex(), "at": at}))


def admit(conn: redis.Redis, tenant: tenants.Tenant, topic: str, *, event: ChangeEvent, watched: set[str]) -> str:
    """Admit one change event like a webhook (deduplicated by replay id and record), then store its replay id."""
    outcome = "ignored"
    if event.change_type == "GAP_OVERFLOW" or (event.change_type.startswith("GAP_") and not event.record_ids):
        queue_sweep(conn, tenant.id, since=event.commit_timestamp / 1000 - 60, reason="gap overflow")
        outcome = "sweep"
    elif relevant(event, watched):
        trigger = {"kind": "webhook", "host": "salesforce", "via": "cdc", "event": event.replay_id.hex()}
        ids = [r for r in event.record_ids if "*" not in r]
        outcome = enqueue_batch(conn, tenant.id, {r: trigger for r in ids},
                                event_ids={r: f"cdc:{event.replay_id.hex()}:{r}" for r in ids}) if ids else "ignored"
    store_replay(conn, tenant.id, topic, replay_id=event.replay_id, at=time.time())
    metrics.incr("intermission_cdc_events", {"outcome": outcome}, conn=conn)
    return outcome


def queue_sweep(conn: redis.Redis, tenant_id: str, *, since: float, reason: str) -> None:
    """Re-read what changed since `since` (epoch seconds, at most the retention back): the gap a stream missed."""
    start = max(datetime.fromtimestamp(since, tz=timezone.utc), datetime.now(timezone.utc) - RETENTION)
    log.warning("cdc: sweeping %s since %s (%s)", tenant_id, start.isoformat(), reason)
    get_queue(conn).enqueue("handlers.sync.sweep.sweep_job", tenant_id, start.isoformat(), retry=retry_policy(),
                            job_id=f"sweep-cdc-{tenant_id}-{uuid.uuid4().hex[:8]}", result_ttl=3600,
                            description=f"sweep {tenant_id} (cdc {reason})")


# --- health ------------------------------------------------------------------------------------------------------

def report(conn: redis.Redis, tenant_id: str, topic: str, *, state: str, **fields) -> None:
    """Record a stream's state for `status`, `/readyz` and the metrics."""
    entry = {"tenant": tenant_id, "topic": topic, "state": state, "at": time.time(), "owner": OWNER, **fields}
    conn.hset(keys.cdc_streams(), f"{tenant_id} {topic}", json.dumps(entry))


# --- the streams -------------------------------------------------------------------------------------------------

OWNER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class TenantStream:
    """One tenant's topic, streamed until `stop` is set or the lock is lost."""

    def __init__(self, tenant: tenants.Tenant, topic: str, stop: threading.Event):
        self.tenant, self.topic, self.stop = tenant, topic, stop
        self.conn = get_redis()
        self.watched = watched_fields(tenant)
        self.sent_token = ""  # the access token the last stream was opened with (what a refresh replaces)

    def run(self) -> None:
        failures = 0
        while not self.stop.is_set():
            try:
                self._stream()
                failures = 0
            except PubSubAuthError as exc:
                failures = self._refresh(exc, failures)
            except ReplayInvalid as exc:
                self._restart_from_latest(exc)
            except (HostAuthError, HostError, OSError) as exc:
                failures += 1
                wait = BACKOFF[min(failures - 1, len(BACKOFF) - 1)]
                state = "needs re-consent" if isinstance(exc, HostAuthError) else "reconnecting"
                report(self.conn, self.tenant.id, self.topic, state=state, error=str(exc)[:300], retry_in=wait)
                log.warning("cdc %s %s: %s; retrying in %ss", self.tenant.id, self.topic, exc, wait)
                self.stop.wait(wait if state == "reconnecting" else max(wait, 30))
        report(self.conn, self.tenant.id, self.topic, state="stopped")

    def _stream(self) -> None:
        stored = stored_replay(self.conn, self.tenant.id, self.topic)
        replay = bytes.fromhex(stored["replay"]) if stored else None
        client = client_for(self.tenant, self.conn)
        try:
            report(self.conn, self.tenant.id, self.topic, state="connecting", heard_at=time.time())
            for events, latest in client.subscribe(self.topic, replay_id=replay, batch=get_settings().cdc_batch_size):
                for event in events:
                    admit(self.conn, self.tenant, self.topic, event=event, watched=self.watched)
                if events:
                    replay = events[-1].replay_id
                elif latest and latest != replay:  # an empty answer: every event up to `latest` was delivered
                    store_replay(self.conn, self.tenant.id, self.topic, replay_id=latest, at=time.time())
                    replay = latest
                report(self.conn, self.tenant.id, self.topic, state="streaming", heard_at=time.time(),
                       replay=(replay or b"").hex(), latest=(latest or b"").hex())
                if self.stop.is_set():
                    return
        finally:
            self.sent_token = client.sent_token
            client.close()

    def _refresh(self, exc: Exception, failures: int) -> int:
        """UNAUTHENTICATED: refresh the access token once, then subscribe again (a second refusal backs off)."""
        store = tokens_for(self.tenant, self.conn)
        try:
            store.refresh(self.sent_token)
        except HostError as refused:
            report(self.conn, self.tenant.id, self.topic, state="needs re-consent", error=str(refused)[:300])
            self.stop.wait(30)
            return failures + 1
        log.info("cdc %s %s: access token refreshed after %s", self.tenant.id, self.topic, exc)
        if failures:
            self.stop.wait(BACKOFF[min(failures, len(BACKOFF) - 1)])
        return failures + 1

    def _restart_from_latest(self, exc: Exception) -> None:
        """The stored replay id is refused: forget it, sweep the gap since it was stored, stream from the latest."""
        stored = stored_replay(self.conn, self.tenant.id, self.topic) or {}
        queue_sweep(self.conn, self.tenant.id, since=stored.get("at", time.time() - RETENTION.total_seconds()),
                    reason="replay id refused")
        self.conn.hdel(keys.sf_cdc_replay(self.tenant.id), self.topic)
        report(self.conn, self.tenant.id, self.topic, state="recovering", error=str(exc)[:300])


class Subscriber:
    """The process: finds the `cdc` tenants, takes each one's lock, runs a stream per topic, renews the locks."""

    def __init__(self, *, rescan_seconds: float = 10.0):
        self.conn, self.rescan = get_redis(), rescan_seconds
        self.stop = threading.Event()
        self.running: dict[str, tuple[threading.Event, list[threading.Thread]]] = {}

    def run(self) -> None:
        """Until `stop` is set (SIGTERM): rescan tenants, renew locks, start and stop streams."""
        renew, release = self.conn.register_script(_RENEW), self.conn.register_script(_RELEASE)
        try:
            while not self.stop.is_set():
                self._rescan(renew)
                self.stop.wait(min(self.rescan, get_settings().cdc_lock_seconds / 3))
        finally:
            for tenant_id, (stop, threads) in self.running.items():
                stop.set()
                for thread in threads:
                    thread.join(timeout=5)
                release(keys=[keys.sf_cdc_lock(tenant_id)], args=[OWNER])

    def _rescan(self, renew) -> None:
        wanted = {t.id: t for t in cdc_tenants()}
        ttl_ms = int(get_settings().cdc_lock_seconds * 1000)  # renewed every third of it
        for tenant_id in list(self.running):
            stop, threads = self.running[tenant_id]
            lost = not renew(keys=[keys.sf_cdc_lock(tenant_id)], args=[OWNER, ttl_ms])
            if tenant_id not in wanted or lost or not any(t.is_alive() for t in threads):
                stop.set()
                del self.running[tenant_id]
                if tenant_id not in wanted:  # removed, paused or another trigger: its streams leave the health hash
                    for field in self.conn.hkeys(keys.cdc_streams()):
                        if field.decode().startswith(f"{tenant_id} "):
                            self.conn.hdel(keys.cdc_streams(), field)
        for tenant_id, tenant in wanted.items():
            if tenant_id in self.running:
                continue
            if not self.conn.set(keys.sf_cdc_lock(tenant_id), OWNER, nx=True, px=ttl_ms):
                continue  # another subscriber process streams this tenant
            stop = threading.Event()
            topics = [topic_for(salesforce_settings(tenant).mapping.object)]
            threads = [threading.Thread(target=TenantStream(tenant, topic, stop).run, name=f"cdc-{tenant_id}",
                                        daemon=True) for topic in topics]
            for thread in threads:
                thread.start()
            self.running[tenant_id] = (stop, threads)
