"""What a Boond job's round costs in Redis round trips that write: under `appendfsync always` each one waits for the
disk (docs/PERFORMANCE.md), so a new mission's creates share one for their intents and one for their answers, the
second also carrying the mission's snapshot and wake-up."""
from __future__ import annotations

from datetime import date

from config.infra import clock
from handlers.state.ledger import ActivityLog, Ledger
from handlers.state.store import SnapshotStore
from tests.e2e.helpers import settle
from tests.unit.test_ingest_admit import conversation

T0 = date(2026, 3, 2)


def test_a_new_missions_creates_share_one_round_trip_for_intents_and_one_for_answers_and_snapshot(stack, redis_conn):
    clock.pin(T0)
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
    with conversation() as trips:
        settle()
    actions = stack.actions()
    assert len(actions) == 8
    entries = Ledger(redis_conn, "acme", mission).entries()
    assert {e.status for e in entries.values()} == {"written"}
    assert {e.host_id for e in entries.values()} == {a["id"] for a in actions}
    assert SnapshotStore(redis_conn, "acme").get(mission) is not None

    rounds = [trip for trip in trips if trip[:1] == ["MULTI"] and "EVAL" in trip]
    assert rounds[0] == ["MULTI", *["EVAL"] * 8, "EXEC"]  # the eight intents, before the first create
    assert len(rounds) == 2
    answers = rounds[1]  # each create's written entry, the round's activity records, the snapshot and its wake-up
    assert answers.count("EVAL") == 8 + 1 and "SET" in answers and "ZADD" in answers and answers[-1] == "EXEC"
    logged = ActivityLog(redis_conn, "acme").recent(mission=mission)  # the eight records, packed once
    assert sorted(r["key"] for r in logged if r["op"] == "created") == sorted(e for e in entries)


def test_a_boond_job_takes_its_consultants_lock_in_the_round_trip_that_reads_what_redis_keeps_of_the_mission(
        stack, redis_conn):
    clock.pin(T0)
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
    settle()
    before = {a["id"]: a["attributes"]["startDate"] for a in stack.actions()}
    stack.move_end(mission, date(2026, 5, 7))  # a move: the snapshot and the ledger are there to read
    with conversation() as trips:
        settle()
    after_move = {a["id"]: a["attributes"]["startDate"] for a in stack.actions()}
    assert after_move.keys() == before.keys() and after_move != before  # the same eight actions, moved
    # the lock, then the snapshot, ledger and surveys, then the consultant's other missions: one round trip
    locked = [trip for trip in trips if trip[:1] == ["SET"] and trip[1:] == ["GET", "HGETALL", "HGETALL", "HKEYS"]]
    assert len(locked) == 1
    later = trips[trips.index(locked[0]) + 1:]
    assert ["HKEYS"] not in later and ["HGETALL"] not in later  # neither read again once the lock is held
    entries = Ledger(redis_conn, "acme", mission).entries()
    assert len(entries) == 8 and {e.status for e in entries.values()} == {"written"}


def test_a_jobs_host_calls_actions_and_duration_ride_on_rqs_success_transaction(stack, redis_conn):
    from config.infra import metrics

    clock.pin(T0)
    stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))
    with conversation() as trips:
        settle()
    own = [trip for trip in trips if trip and set(trip) <= {"HINCRBY", "HINCRBYFLOAT"}]
    assert own == []  # no round trip of their own
    finished = [trip for trip in trips if trip[:1] == ["MULTI"] and "XADD" in trip and "HINCRBYFLOAT" in trip]
    assert finished and all(trip[-1] == "EXEC" for trip in finished)
    counted = {(name, tuple(sorted(labels.items()))): value for name, labels, value in metrics.read_all(redis_conn)}
    assert counted[("intermission_actions", (("host", "boond"), ("op", "created")))] == 8
    assert counted[("intermission_job_duration_seconds_count",
                    (("function", "handlers.sync.jobs.sync_mission"), ("outcome", "success")))] >= 1


def test_the_worker_reads_rqs_suspension_flag_once_a_second_and_writes_its_idle_state_with_each_jobs_success(
        redis_conn):
    """`rq suspend` still stops a worker; a worker running job after job reads the flag once per HEARTBEAT_SLACK, and
    its idle state rides on each job's success transaction."""
    from rq.suspension import resume, suspend

    from handlers.intake.queues import get_queue, run_burst

    queue = get_queue(redis_conn)
    for _ in range(5):
        queue.enqueue("time.time")
    with conversation() as trips:
        run_burst(conn=redis_conn)
    assert queue.count == 0
    checks = [trip for trip in trips if trip[:1] == ["MULTI"] and trip[-2:] == ["EXISTS", "EXEC"]]
    assert len(checks) == 1  # five jobs, one read of the flag (on the worker's first heartbeat)
    first_job = trips.index(["LMOVE"])
    states = [trip for trip in trips[first_job:] if trip == ["HSET"]]  # rq's own write of the worker's state
    assert states == []  # set before the first job; after each job, it rides on the success transaction
    finished = [trip for trip in trips if trip[:1] == ["MULTI"] and "XADD" in trip]
    assert len(finished) == 5 and all(trip.count("HSET") >= 3 for trip in finished)  # result, status, idle state

    suspend(redis_conn)
    queue.enqueue("time.time")
    try:
        run_burst(conn=redis_conn)  # a suspended worker in burst mode stops before taking a job
        assert queue.count == 1
    finally:
        resume(redis_conn)
    run_burst(conn=redis_conn)
    assert queue.count == 0


def test_a_boond_job_reads_the_tenants_dictionary_with_the_missions_stored_snapshot_never_alone(stack, redis_conn):
    from config import keys

    clock.pin(T0)
    stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))
    settle()  # the first job fetched the dictionary from Boond and kept it in Redis
    dictionary = keys.host_dictionary("acme", "boond")
    assert redis_conn.exists(dictionary)
    before = len(stack.actions())
    mission = stack.create_delivery(date(2025, 12, 1), date(2026, 5, 20), resource=stack.new_consultant("Roux"))
    mission = mission["data"]["id"]
    with conversation() as trips:
        settle()
    assert len(stack.actions()) == before + 8  # the new mission's actions, their types read from that dictionary
    together = [trip for trip in trips.keyed if ("GET", dictionary) in trip]
    assert together == [[("GET", keys.mission("acme", mission)), ("GET", dictionary)]]


def test_a_job_reads_its_consultants_other_missions_in_two_round_trips_and_each_ledger_once(stack, redis_conn):
    """A consultant's year is a chain of missions: a new one moves the bench of those before it, whose snapshots are
    read together, then the ledgers and surveys of those that moved together, each ledger once."""
    from config import keys

    clock.pin(T0)
    earlier = stack.create_delivery(date(2025, 6, 2), date(2025, 10, 31))["data"]["id"]
    current = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
    settle()
    assert SnapshotStore(redis_conn, "acme").get(current).next_start is None  # a bench after it, as planned
    following = stack.create_delivery(date(2026, 4, 17), date(2026, 9, 30))["data"]["id"]
    with conversation() as trips:
        settle()
    store = SnapshotStore(redis_conn, "acme")
    assert store.get(current).next_start == date(2026, 4, 17)  # its bench is gone: the next mission follows it
    # a renewal on the same project: the end-of-mission steps go to the mission that now ends the chain
    assert Ledger(redis_conn, "acme", current).entries() == {}
    assert {e.status for e in Ledger(redis_conn, "acme", following).entries().values()} == {"written"}
    assert len(stack.actions()) == 8
    snapshots = [trip for trip in trips.keyed if ("GET", keys.mission("acme", current)) in trip
                 and ("GET", keys.mission("acme", earlier)) in trip]
    assert snapshots, "the other missions' snapshots are read in one round trip"
    assert [("GET", keys.mission("acme", current))] not in trips.keyed
    ledger_reads = [cmd for trip in trips.keyed for cmd in trip if cmd == ("HGETALL", keys.ledger("acme", current))]
    assert len(ledger_reads) == 1
