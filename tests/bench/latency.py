"""`latency`: webhook accepted → last host write, at 50 changes/s with two workers, against the host calls alone."""
from __future__ import annotations

import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import requests

from tests.bench.measure import failed_jobs, replay, wait_drained, writes
from tests.bench.procs import Processes, redis_for_bench
from tests.bench.report import note
from tests.bench.stack import UNTHROTTLED, Hosts, many

RATE, SECONDS = 50, 10  # changes per second (half Boond, half Salesforce), for SECONDS
DRAIN_SECONDS = 60  # a run the workers cannot keep up with reports its backlog as latency, bounded here
FLOOR_SAMPLE = 10  # changes per host delivered alone, their calls replayed alone
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))  # two, as deploy/compose.yaml runs; more only as a diagnosis


def run(work) -> dict:
    """Both worker classes, one after the other on the same hosts; the keys are the in-process worker's."""
    from handlers.intake.queues import get_queue

    conn, redis_url = redis_for_bench()
    with Processes(work, redis_url, **UNTHROTTLED) as procs:
        hosts = Hosts(procs)
        figures = {}
        for fork in (False, True):
            workers = procs.workers(WORKERS, fork=fork)
            floor = floor_ms(hosts, conn)
            latencies = under_load(hosts, conn)
            procs.stop_some(workers)
            get_queue(conn).empty()  # a saturated run leaves a backlog: the next class starts from none
            figures[fork] = {"p50_ms": _pct(latencies, 50), "p99_ms": _pct(latencies, 99),
                             "floor_p50_ms": round(statistics.median(floor), 1)}
            note(f"{'forking' if fork else 'in-process'} workers ×{WORKERS}: {figures[fork]}")
    return figures[False]


def _pct(values: list[float], pct: int) -> float:
    """The `pct` percentile (nearest rank)."""
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))], 1)


def new_changes(hosts: Hosts, count: int) -> tuple[list, list]:
    """`count` Boond deliveries (events held) and `count` Salesforce consultants, ready to be changed."""
    boond, sf = hosts.boond_moves, hosts.sf_moves
    people = boond.consultants(count)
    ends = [date.today() + timedelta(days=30 + i % 90) for i in range(count)]
    created = many(lambda i: boond.create(people[i], ends[i]), range(count))
    contacts = sf.consultants(count)
    return [(d, events) for d, events in created], list(zip(contacts, ends))


def send_boond(hosts: Hosts, session: requests.Session, change) -> tuple[str, float]:
    """Deliver one Boond change's events; (mission, when the last was accepted)."""
    delivery, events = change
    for event in events:
        session.post(hosts.boond_webhook, json=event, timeout=60)
    return delivery, time.time()


def send_sf(hosts: Hosts, change) -> tuple[str, float]:
    """Create one Salesforce mission, notified at once (the org sends the Outbound Message); (mission, accepted)."""
    contact, end = change
    mission = hosts.sf_moves.create(contact, end, deliver=True)
    return mission, time.time()


def floor_ms(hosts: Hosts, conn) -> list[float]:
    """Each sampled change delivered alone and drained; then its recorded host calls replayed alone (ms each)."""
    boond, sf = new_changes(hosts, FLOOR_SAMPLE)
    hosts.bench_all("POST", "/snapshot/floor")
    session, per_change = requests.Session(), []
    for change in [("boond", c) for c in boond] + [("sf", c) for c in sf]:
        hosts.bench_all("POST", "/calls/reset")
        send_boond(hosts, session, change[1]) if change[0] == "boond" else send_sf(hosts, change[1])
        wait_drained(conn, settle=0.1)
        per_change.append(hosts.recorded())
    hosts.bench_all("POST", "/snapshot/after-floor")
    hosts.bench_all("POST", "/restore/floor")
    floors = [replay(calls)[0] * 1000 for calls in per_change]
    hosts.bench_all("POST", "/restore/after-floor")
    note(f"floor: {len(floors)} changes alone, {sum(map(len, per_change)) / len(per_change):.1f} host calls each, "
         f"median {statistics.median(floors):.1f} ms")
    return floors


def under_load(hosts: Hosts, conn) -> list[float]:
    """RATE changes a second for SECONDS (alternating hosts); ms from acceptance to the mission's last host write."""
    count = RATE * SECONDS // 2
    boond, sf = new_changes(hosts, count)
    hosts.sweeps_aside(conn)
    hosts.bench_all("POST", "/calls/reset")
    accepted, sessions = {}, threading.local()

    def send(i: int) -> None:
        if i % 2 == 0:
            sessions.s = getattr(sessions, "s", None) or requests.Session()
            mission, at = send_boond(hosts, sessions.s, boond[i // 2])
        else:
            mission, at = send_sf(hosts, sf[i // 2])
        accepted[mission] = at

    started = time.time()
    with ThreadPoolExecutor(8) as pool:
        for i in range(2 * count):
            time.sleep(max(0.0, started + i / RATE - time.time()))
            pool.submit(send, i)
    drained = wait_drained(conn, timeout=DRAIN_SECONDS, must=False)
    gave_up = time.time()
    last = last_write_by_mission(hosts.recorded(), accepted)
    missing = [m for m in accepted if m not in last]
    note(f"load: {len(accepted)} changes sent in {SECONDS}s; {len(missing)} without a host write"
         + ("" if drained else f" when the bench stopped waiting ({DRAIN_SECONDS}s): counted as that long")
         + (f", FAILED JOBS {len(failed_jobs(conn))}" if failed_jobs(conn) else ""))
    return [((last.get(m) or gave_up) - accepted[m]) * 1000 for m in accepted]


def last_write_by_mission(calls: list[dict], missions) -> dict[str, float]:
    """When each mission's last host write was answered (its marker `intermission:<mission>/` in the body)."""
    last: dict[str, float] = {}
    wanted = set(missions)
    for call in writes(calls):
        body = call["body"].decode(errors="replace")
        for mission in {m for m in _markers(body)} & wanted:
            last[mission] = max(last.get(mission, 0.0), call["t1"])
    return last


def _markers(body: str) -> set[str]:
    """Mission ids named by the `intermission:<mission>/<step>` markers in a request body."""
    from handlers.hosts.marks import MARKER

    return {m for m, _ in MARKER.findall(body.replace("\\/", "/"))}
