"""`api_calls`: host calls per change as the sandboxes count them, alone, in a burst, and when the story is replayed."""
from __future__ import annotations

import os
import re
import uuid
from collections import Counter
from datetime import date, timedelta

from tests.bench.measure import WRITE_METHODS, failed_jobs, wait_drained
from tests.bench.procs import Processes, redis_for_bench
from tests.bench.report import note
from tests.bench.stack import UNTHROTTLED, Hosts, many, post_events

STORY_MISSIONS = 10  # per host: created, extended, ended early by the client: 3 changes each
BURST = 1000  # Salesforce changes for one tenant, delivered as Outbound Messages of 100 notifications
WINDOW_DELIVERIES, WINDOW_HINTS = 20, 5
COMPLETING_READS = ("GET /api/projects/<id>", "GET /api/resources/<id>", "GET /api/opportunities/<id>",
                    "GET /api/companies/<id>")  # hints per delivery queued before any worker runs


BOOND_DIALECT = "observed"  # Boond as it really answers: thin includes, the optional tabs refused (reference §10)
PER_CHANGE_READS = ("GET /api/deliveries/<id>", "GET /api/resources/<id>/deliveries-inactivities",
                    "GET /api/resources/<id>/actions", "GET /api/actions")  # the change's record, timeline, read-back
PER_TENANT_READS = COMPLETING_READS + ("GET /api/application/dictionary",)  # needed once per record per tenant


def run(work) -> dict:
    """The story alone on each host, the burst, the coalescing window, then the whole story replayed."""
    conn, redis_url = redis_for_bench()
    before = os.environ.get("INTERMISSION_BENCH_BOOND_DIALECT")
    os.environ["INTERMISSION_BENCH_BOOND_DIALECT"] = BOOND_DIALECT
    try:
        return _run(work, conn, redis_url)
    finally:
        if before is None:
            os.environ.pop("INTERMISSION_BENCH_BOOND_DIALECT", None)
        else:
            os.environ["INTERMISSION_BENCH_BOOND_DIALECT"] = before


def _run(work, conn, redis_url) -> dict:
    """`run` with the Boond dialect set."""
    with Processes(work, redis_url, **UNTHROTTLED) as procs:
        hosts = Hosts(procs)
        unshared = procs.workers(2, INTERMISSION_BOOND_PEOPLE_TTL=0)  # people reads per job only, as before
        _, per_job, per_job_floor = boond_story(hosts, conn)
        procs.stop_some(unshared)
        note(f"Boond, people reads not shared between jobs: {per_job} calls per change, floor {per_job_floor}, "
             f"ratio {per_job / per_job_floor:.3f}")
        workers = procs.workers(2)
        boond_events, boond_per_change, boond_floor = boond_story(hosts, conn)
        sf_missions, sf_per_change = sf_story(hosts, conn)
        burst_missions, burst_per_change = sf_burst(hosts, conn)
        procs.stop_some(workers)
        twice = coalescing_window(hosts, conn, procs)
        replayed = replay_story(hosts, conn, procs, boond_events, sf_missions + burst_missions)
        note(f"Boond deliveries read more than once for hints inside the coalescing window: {twice}")
        if failed_jobs(conn):
            note(f"FAILED JOBS: {failed_jobs(conn)[:5]}")
    return {"boond_calls_per_change": boond_per_change, "boond_calls_floor_per_change": boond_floor,
            "boond_calls_ratio_to_floor": round(boond_per_change / boond_floor, 3),
            "sf_write_calls_per_change": sf_per_change,
            "sf_burst_write_calls_per_change": burst_per_change, "replay_write_calls": replayed}


def sf_writes(hosts: Hosts) -> int:
    """Salesforce REST calls that write (the sandbox's own count)."""
    by_route = hosts.sf.control("GET", "/calls")["by_route"]
    return sum(n for route, n in by_route.items() if route.split()[0] in WRITE_METHODS)


def reset_counts(hosts: Hosts) -> None:
    """Zero both sandboxes' call counters."""
    for sandbox in hosts.sandboxes:
        sandbox.control("POST", "/calls/reset")


def story_ends(count: int) -> list[date]:
    """End dates 40 days ahead and later, 3 days apart."""
    return [date.today() + timedelta(days=40 + 3 * i) for i in range(count)]


def boond_story(hosts: Hosts, conn) -> tuple[list[dict], float, float]:
    """Create, extend, end early: each round made in Boond, its webhooks delivered (one per mission), drained.

    Also the floor: every write (one call per action), the change's own reads once per change (its delivery,
    the consultant's timeline, the read-back of its actions before an update or a delete), and the people
    records and the dictionary once per tenant for the whole story."""
    moves, ends = hosts.boond_moves, story_ends(STORY_MISSIONS)
    people = moves.consultants(STORY_MISSIONS)
    reset_counts(hosts)
    hosts.boond.bench("POST", "/calls/reset")
    ids, all_events, recorded = [], [], []
    rounds = [lambda i: _created(moves.create(people[i], ends[i]), ids),
              lambda i: moves.move(ids[i], ends[i] + timedelta(days=30)),
              lambda i: end_early(hosts, ids[i], ends[i] - timedelta(days=10))]
    for make in rounds:
        events = [e for i in range(STORY_MISSIONS) for e in make(i)]
        post_events(hosts.boond_webhook, events)
        wait_drained(conn)
        all_events += events
        recorded.append([c for c in hosts.boond.recorded() if c["path"].startswith("/api/")])
        hosts.boond.bench("POST", "/calls/reset")
    calls = hosts.boond.control("GET", "/calls")
    note(f"Boond story: {3 * STORY_MISSIONS} changes, {calls['total']} calls {calls['by_route']}")
    completing = {r: n for r, n in calls["by_route"].items() if r in COMPLETING_READS}
    note(f"Boond reads completing thin deliveries (project/resource/opportunity/company, one per record per job): "
         f"{sum(completing.values())} {completing}")
    floor = boond_floor(recorded)
    note(f"Boond floor: {floor} calls for {3 * STORY_MISSIONS} changes")
    return all_events, round(calls["total"] / (3 * STORY_MISSIONS), 2), round(floor / (3 * STORY_MISSIONS), 2)


def route_of(call: dict) -> str:
    """`METHOD /api/path` with ids as `<id>` (the sandbox's route names)."""
    path = re.sub(r"/\d+(?=/|$)", "/<id>", call["path"].split("?")[0])
    return f"{call['method']} {path}"


def boond_floor(rounds: list[list[dict]]) -> int:
    """Writes + each change's own reads once per round + the per-tenant reads once per story."""
    writes = sum(1 for calls in rounds for c in calls if c["method"] in WRITE_METHODS)
    per_change = sum(len({(c["path"], c.get("query")) for c in calls if route_of(c) in PER_CHANGE_READS})
                     for calls in rounds)
    per_tenant = len({c["path"] for calls in rounds for c in calls if route_of(c) in PER_TENANT_READS})
    note(f"  floor: {writes} writes, {per_change} change reads, {per_tenant} tenant reads")
    return writes + per_change + per_tenant


def _created(answer: tuple[str, list[dict]], ids: list[str]) -> list[dict]:
    """Keep a new delivery's id; its events."""
    ids.append(answer[0])
    return answer[1]


def end_early(hosts: Hosts, delivery: str, end: date) -> list[dict]:
    """End a delivery early on the client's side (event held): its events."""
    body = {"endDate": end.isoformat(), "by": "client", "deliver": False}
    return hosts.boond.control("POST", f"/deliveries/{delivery}/end", json=body).get("events") or []


def sf_story(hosts: Hosts, conn) -> tuple[list[str], float]:
    """The same three changes on Salesforce, each notification delivered alone and drained before the next."""
    moves, ends = hosts.sf_moves, story_ends(STORY_MISSIONS)
    people = moves.consultants(STORY_MISSIONS)
    reset_counts(hosts)
    missions = []
    for i in range(STORY_MISSIONS):
        missions.append(moves.create(people[i], ends[i], deliver=True))
        wait_drained(conn)
    for i, mission in enumerate(missions):
        moves.move(mission, ends[i] + timedelta(days=30), deliver=True)
        wait_drained(conn)
    for i, mission in enumerate(missions):
        early = {"End_Date__c": (ends[i] - timedelta(days=10)).isoformat(), "Status__c": "Ended",
                 "End_Reason__c": "Client", "deliver": True}
        hosts.sf.control("POST", f"/missions/{mission}/update", json=early)
        wait_drained(conn)
    writes = sf_writes(hosts)
    note(f"Salesforce story, each change alone: {3 * STORY_MISSIONS} changes, {writes} write calls")
    return missions, round(writes / (3 * STORY_MISSIONS), 3)


def sf_burst(hosts: Hosts, conn) -> tuple[list[str], float]:
    """BURST missions created for one tenant, delivered within a second as Outbound Messages of 100, drained."""
    moves, ends = hosts.sf_moves, story_ends(BURST)
    people = moves.consultants(BURST)
    missions = many(lambda i: moves.create(people[i], ends[i % 50]), range(BURST))
    reset_counts(hosts)
    answer = moves.deliver_held()
    wait_drained(conn)
    writes = sf_writes(hosts)
    note(f"Salesforce burst: {BURST} changes in {len(answer.get('deliveries') or [])} Outbound Messages, "
         f"{writes} write calls {hosts.sf.control('GET', '/calls')['by_route']}")
    return missions, round(writes / BURST, 4)


def coalescing_window(hosts: Hosts, conn, procs) -> int:
    """WINDOW_HINTS hints per delivery queued while no worker runs, then drained: deliveries read more than once."""
    moves = hosts.boond_moves
    people = moves.consultants(WINDOW_DELIVERIES)
    ids = [moves.create(people[i], date.today() + timedelta(days=60))[0] for i in range(WINDOW_DELIVERIES)]
    hints = [boond_hint(delivery) for delivery in ids for _ in range(WINDOW_HINTS)]
    statuses = post_events(hosts.boond_webhook, hints)
    hosts.bench_all("POST", "/calls/reset")
    workers = procs.workers(2)
    wait_drained(conn)
    procs.stop_some(workers)
    reads = Counter(c["path"] for c in hosts.boond.recorded()
                    if c["method"] == "GET" and c["path"].startswith("/api/deliveries/"))
    note(f"coalescing window: {len(hints)} hints ({dict(Counter(statuses))}) for {WINDOW_DELIVERIES} deliveries, "
         f"{sum(reads.values())} delivery reads")
    return sum(1 for n in reads.values() if n > 1)


def boond_hint(delivery: str) -> dict:
    """A Boond delivery-update event with a fresh event id (a host firing again)."""
    return {"data": {"id": f"hint-{uuid.uuid4().hex[:16]}", "type": "webhookevent", "attributes": {"type": "update"},
                     "relationships": {"dependsOn": {"data": {"id": delivery, "type": "delivery"}}}}}


def replay_story(hosts: Hosts, conn, procs, boond_events: list[dict], sf_missions: list[str]) -> int:
    """Every webhook of the story sent again (fresh event ids, nothing changed in the hosts): host writes."""
    reset_counts(hosts)
    deliveries = sorted({e["data"]["relationships"]["dependsOn"]["data"]["id"] for e in boond_events})
    many(lambda m: hosts.sf.control("POST", f"/missions/{m}/update", json={"deliver": False}), sf_missions)
    hints = [boond_hint(d) for d in deliveries]
    statuses = post_events(hosts.boond_webhook, hints)
    hosts.sf_moves.deliver_held()
    workers = procs.workers(2)
    wait_drained(conn)
    procs.stop_some(workers)
    boond_writes = sum(n for route, n in hosts.boond.control("GET", "/calls")["by_route"].items()
                       if route.split()[0] in WRITE_METHODS)
    sf = sf_writes(hosts)
    note(f"replay: {len(hints)} Boond hints ({dict(Counter(statuses))}) and every Salesforce mission notified again: "
         f"{boond_writes} Boond writes, {sf} Salesforce writes")
    return boond_writes + sf

