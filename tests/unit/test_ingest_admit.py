"""The admit step: dedupe key, pending flag and rq job in one Lua script, one round trip."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
import redis
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

from config.settings import get_settings
from handlers.intake import queues
from handlers.sync.batch import batch_pending_key, dirty_key
from handlers.intake.ingest import enqueue_batch, enqueue_resource_sync, enqueue_sync, mark_dirty, pending_key
from handlers.intake.queues import get_queue, retry_policy
from connectors.salesforce.settings import SalesforceConfig
from connectors.boond.settings import BoondConfig

TIMES = (b"created_at", b"enqueued_at")  # the only fields two jobs made a moment apart may differ in


class Trips(list):
    """Each round trip as the list of its command names; `keyed`, the same with each command's first argument."""

    def __init__(self):
        super().__init__()
        self.keyed: list[list[tuple[str, str]]] = []


@contextmanager
def conversation():
    """The Redis round trips made inside the block, each as the list of its command names (`Trips`)."""
    trips = Trips()
    packed: list[tuple[str, str]] = []
    cls = redis.connection.AbstractConnection
    send_one, pack_many, send = cls.send_command, cls.pack_commands, cls.send_packed_command

    def named(args) -> tuple[str, str]:
        first = args[1] if len(args) > 1 else b""
        return str(args[0]).upper(), first.decode(errors="replace") if isinstance(first, bytes) else str(first)

    def send_command(self, *args, **kwargs):
        packed.append(named(args))
        return send_one(self, *args, **kwargs)

    def pack_commands(self, commands):
        packed.extend(named(c) for c in commands)
        return pack_many(self, commands)

    def send_packed_command(self, command, check_health=True):
        trips.append([name for name, _ in packed])
        trips.keyed.append(packed[:])
        packed.clear()
        return send(self, command, check_health)

    cls.send_command, cls.pack_commands, cls.send_packed_command = send_command, pack_commands, send_packed_command
    try:
        yield trips
    finally:
        cls.send_command, cls.pack_commands, cls.send_packed_command = send_one, pack_many, send


@pytest.fixture(autouse=True)
def _tenants(redis_conn):
    """A Boond tenant `acme` (one job per mission) and a Salesforce tenant `sf` (per-tenant batches)."""
    from config import tenants

    tenants.save(tenants.Tenant(id="acme", host="boond", host_settings=BoondConfig(app_token="a" * 16,
                                                                                   app_key="k" * 16)))
    tenants.save(tenants.Tenant(id="sf", host="salesforce", host_settings=SalesforceConfig(
        client_id="c" * 16, client_secret="s" * 16, org_id="00D000000000001AAA")))


def stored(conn, job_id: str) -> dict:
    """The job's hash without its two timestamps."""
    return {k: v for k, v in conn.hgetall(f"rq:job:{job_id}").items() if k not in TIMES}


def rq_twin(conn, job: Job) -> str:
    """rq's own `enqueue_call` of the same call (what `_admit` used to run in its MULTI/EXEC); returns its id."""
    twin = f"twin-{job.id}"
    get_queue(conn).enqueue_call(job.func_name, args=job.args, job_id=twin, description=job.description,
                                 retry=retry_policy(), result_ttl=3600, failure_ttl=30 * 24 * 3600,
                                 meta=job.meta or None)
    return twin


def only_job(conn) -> Job:
    [job_id] = get_queue(conn).get_job_ids()
    return Job.fetch(job_id, connection=conn, serializer=JSONSerializer)


@pytest.mark.parametrize("enqueue, func, description", [
    (enqueue_sync, "handlers.sync.jobs.sync_mission", "sync acme/42"),
    (enqueue_resource_sync, "handlers.sync.jobs.sync_resource", "resource acme/42"),
])
def test_the_admitted_job_is_stored_exactly_as_rq_stores_it(redis_conn, enqueue, func, description):
    assert enqueue(redis_conn, "acme", "42", trigger={"kind": "webhook"}, event_id="e1") == "queued"
    job = only_job(redis_conn)
    assert job.func_name == func and job.args[:2] == ["acme", "42"] and job.args[2]["kind"] == "webhook"
    assert job.get_status() == JobStatus.QUEUED and job.origin == "intermission"
    assert job.description == (description or job.get_call_string())
    assert job.meta == {"request_id": job.args[2]["request_id"]}
    assert (job.result_ttl, job.failure_ttl, job.timeout) == (3600, 30 * 24 * 3600, get_settings().job_timeout_seconds)
    assert (job.retries_left, job.retry_intervals) == (retry_policy().max, retry_policy().intervals)
    assert job.created_at and job.enqueued_at
    twin = rq_twin(redis_conn, job)
    assert stored(redis_conn, job.id) == stored(redis_conn, twin)
    assert set(redis_conn.hkeys(f"rq:job:{job.id}")) == set(redis_conn.hkeys(f"rq:job:{twin}"))
    assert redis_conn.ttl(f"rq:job:{job.id}") == redis_conn.ttl(f"rq:job:{twin}") == -1
    assert get_queue(redis_conn).get_job_ids() == [job.id, twin]
    assert redis_conn.smembers("rq:queues") == {b"rq:queue:intermission"}


def test_outcomes_duplicate_coalesced_queued(redis_conn):
    first = enqueue_sync(redis_conn, "acme", "42", trigger={"kind": "webhook"}, event_id="e1")
    again = enqueue_sync(redis_conn, "acme", "42", trigger={"kind": "webhook"}, event_id="e1")
    other_event = enqueue_sync(redis_conn, "acme", "42", trigger={"kind": "webhook"}, event_id="e2")
    other_mission = enqueue_sync(redis_conn, "acme", "43", trigger={"kind": "webhook"}, event_id="e3")
    assert (first, again, other_event, other_mission) == ("queued", "duplicate", "coalesced", "queued")
    assert get_queue(redis_conn).count == 2
    settings = get_settings()
    assert 0 < redis_conn.ttl("im:t:acme:seen:e2") <= settings.dedupe_ttl_seconds
    assert 0 < redis_conn.ttl(pending_key("acme", "42")) <= settings.pending_ttl_seconds
    redis_conn.delete(pending_key("acme", "42"))  # what the worker does when it starts the job
    assert enqueue_sync(redis_conn, "acme", "42", trigger={"kind": "webhook"}, event_id="e4") == "queued"
    assert enqueue_sync(redis_conn, "acme", "42", trigger={"kind": "sweep"}) == "coalesced"  # no event id: no dedupe key
    assert get_queue(redis_conn).count == 3


def test_a_resource_event_is_never_coalesced(redis_conn):
    outcomes = [enqueue_resource_sync(redis_conn, "acme", "7", trigger={"kind": "webhook"}, event_id=e) for e in "ab"]
    assert outcomes == ["queued", "queued"] and get_queue(redis_conn).count == 2


def test_admit_is_one_round_trip(redis_conn):
    enqueue_sync(redis_conn, "acme", "1", trigger={"kind": "webhook"}, event_id="warm")  # the script loaded, tenant looked up
    with conversation() as trips:
        outcomes = [enqueue_sync(redis_conn, "acme", "2", trigger={"kind": "webhook"}, event_id=e) for e in ("e1", "e1", "e2")]
    assert outcomes == ["queued", "duplicate", "coalesced"]
    assert trips == [["EVALSHA"]] * 3


def test_a_server_without_the_script_gets_it_loaded(redis_conn):
    from handlers.intake import ingest

    enqueue_sync(redis_conn, "acme", "1", trigger={"kind": "webhook"}, event_id="e1")
    # as a restarted Redis answers: NOSCRIPT (not SCRIPT FLUSH: the script cache is the whole server's, and the
    # suite's other workers count their round trips on the same server)
    admits = [registered for source, registered in ingest._SCRIPTS.items() if "local function counted" in source]
    known = {id(registered): registered.sha for registered in admits}
    for registered in admits:
        registered.sha = "0" * 40
    try:
        assert enqueue_sync(redis_conn, "acme", "2", trigger={"kind": "webhook"}, event_id="e2") == "queued"
        assert get_queue(redis_conn).count == 2
        assert any(registered.sha == known[id(registered)] for registered in admits)  # loaded again, by its digest
    finally:
        for registered in admits:
            registered.sha = known[id(registered)]


def test_an_admitted_job_fails_into_the_dead_letters_and_replays(redis_conn):
    # no such function: the job fails at once; its retries run and it lands in rq's failed registry
    enqueue_sync(redis_conn, "acme", "9", trigger={"kind": "webhook"}, event_id="e1")
    job = only_job(redis_conn)
    redis_conn.hset(job.key, "data", Job.create("tests.unit.test_ingest_admit.no_such_function", args=job.args,
                                                connection=redis_conn, serializer=JSONSerializer).to_dict()["data"])
    queues.run_burst(conn=redis_conn)
    assert [j.id for j in queues.dead_letters(get_queue(redis_conn))] == [job.id]
    assert Job.fetch(job.id, connection=redis_conn, serializer=JSONSerializer).retries_left == 0
    assert queues.replay(get_queue(redis_conn)) == [job.id]
    assert get_queue(redis_conn).get_job_ids() == [job.id]
    assert FailedJobRegistry(queue=get_queue(redis_conn)).count == 0


def test_batch_marks_dirty_dedupes_and_queues_one_job_in_one_round_trip(redis_conn):
    missions = {"a": {"kind": "webhook"}, "b": {"kind": "webhook"}}
    enqueue_batch(redis_conn, "warm", {"x": {"kind": "webhook"}}, event_ids={})  # the script loaded
    with conversation() as trips:
        first = enqueue_batch(redis_conn, "sf", missions, event_ids={"a": "n1", "b": "n2"})
    assert first == "queued" and trips == [["EVALSHA"]]
    job = next(j for j in Job.fetch_many(get_queue(redis_conn).get_job_ids(), connection=redis_conn,
                                         serializer=JSONSerializer) if j.args == ["sf"])
    assert job.func_name == "handlers.sync.batch.sync_tenant" and job.description == "batch sf"
    twin = rq_twin(redis_conn, job)
    assert stored(redis_conn, job.id) == stored(redis_conn, twin)
    assert sorted(redis_conn.hkeys(dirty_key("sf"))) == [b"a", b"b"]
    assert redis_conn.exists(batch_pending_key("sf"), "im:t:sf:seen:n1", "im:t:sf:seen:n2") == 3
    b_before = redis_conn.hget(dirty_key("sf"), "b")
    assert enqueue_batch(redis_conn, "sf", missions, event_ids={"a": "n1", "b": "n2"}) == "duplicate"
    assert enqueue_batch(redis_conn, "sf", {"b": {"kind": "webhook"}, "c": {"kind": "webhook"}},
                         event_ids={"b": "n2", "c": "n3"}) == "coalesced"  # b seen (dropped), c new, a batch waits
    assert sorted(redis_conn.hkeys(dirty_key("sf"))) == [b"a", b"b", b"c"]
    assert redis_conn.hget(dirty_key("sf"), "b") == b_before
    assert enqueue_batch(redis_conn, "sf", {}, event_ids={}) == "coalesced"
    assert [j for j in get_queue(redis_conn).get_job_ids() if j.startswith("batch-sf-")] == [job.id]


def test_an_empty_mark_queues_the_batch_only_when_missions_wait_and_none_is_queued(redis_conn):
    """`mark_dirty(conn, tenant, {})`, what a batch job runs once it has released the tenant's lock: it marks
    nothing; it queues the tenant's batch when missions are dirty and no batch job waits, else answers coalesced."""
    from config import tenants

    def batches() -> list[str]:
        return [j for j in get_queue(redis_conn).get_job_ids() if j.startswith("batch-sf-")]

    assert mark_dirty(redis_conn, "sf", {}) == "coalesced"  # nothing dirty: nothing queued
    assert batches() == [] and redis_conn.exists(dirty_key("sf"), batch_pending_key("sf")) == 0
    assert enqueue_batch(redis_conn, "sf", {"a": {"kind": "webhook"}}, event_ids={}) == "queued"
    [first], marked = batches(), redis_conn.hgetall(dirty_key("sf"))
    assert mark_dirty(redis_conn, "sf", {}) == "coalesced"  # `a` dirty, but a batch job waits
    assert batches() == [first]
    tenants.get("sf", clearing=batch_pending_key("sf"))  # that job started (`sync_tenant` clears the flag)
    with conversation() as trips:
        assert mark_dirty(redis_conn, "sf", {}) == "queued"  # `a` dirty and no batch job waits
    assert trips == [["EVALSHA"]]
    [second] = [j for j in batches() if j != first]
    job = Job.fetch(second, connection=redis_conn, serializer=JSONSerializer)
    assert job.func_name == "handlers.sync.batch.sync_tenant" and job.args == ["sf"] and job.description == "batch sf"
    assert stored(redis_conn, job.id) == stored(redis_conn, rq_twin(redis_conn, job))
    assert redis_conn.exists(batch_pending_key("sf")) == 1 and redis_conn.hgetall(dirty_key("sf")) == marked
    assert mark_dirty(redis_conn, "sf", {}) == "coalesced"  # the new one waits
    assert [j for j in batches() if j != first] == [second]
