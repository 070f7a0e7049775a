"""`pipeline`: 2,000 mission changes through two rq workers into both sandboxes, against the same host calls
replayed by a plain `requests` loop from the same starting state."""
from __future__ import annotations

import os
import re
import threading
import time
from collections import Counter
from datetime import date, timedelta

from tests.bench.measure import failed_jobs, replay, wait_drained
from tests.bench.procs import Processes, redis_for_bench
from tests.bench.report import note
from tests.bench.stack import UNTHROTTLED, Hosts, many, post_events

MISSIONS = 500  # per host; each is created, then moved: 4 × 500 = 2,000 changes
SIDE_MISSIONS = 100  # the other worker class, on 400 changes (time)
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))  # two, as deploy/compose.yaml runs; more only as a diagnosis
_ID = re.compile(r"/[0-9A-Za-z]{15,18}\b|/\d+")  # a Salesforce or Boond id in a path
PROJECT_SIZE = 10  # Boond deliveries a project holds (a moved end reads its project's other deliveries)


def run(work) -> dict:
    """In-process workers (what `intermission worker` runs) give the keys; forking ones are measured beside them."""
    conn, redis_url = redis_for_bench()
    with Processes(work, redis_url, **UNTHROTTLED) as procs:
        hosts = Hosts(procs)
        figures = {}
        for fork, missions in ((False, MISSIONS), (True, SIDE_MISSIONS)):
            workers = procs.workers(WORKERS, fork=fork)
            figures[fork] = play(hosts, conn, missions)
            procs.stop_some(workers)
            note(f"{'forking' if fork else 'in-process'} workers ×{WORKERS}, {4 * missions} changes: {figures[fork]}")
    return figures[False]


def play(hosts: Hosts, conn, missions: int) -> dict:
    """Create `missions` missions on each host, deliver; move each, deliver; each phase against its floor."""
    boond, sf = hosts.boond_moves, hosts.sf_moves
    people_b, people_s = boond.consultants(missions), sf.consultants(missions)
    ends = [date.today() + timedelta(days=20 + i % 100) for i in range(missions)]
    projects = boond.projects(-(-missions // PROJECT_SIZE))
    created = many(lambda i: boond.create(people_b[i], ends[i], project=projects[i // PROJECT_SIZE]), range(missions))
    missions_s = many(lambda i: sf.create(people_s[i], ends[i]), range(missions))
    first = phase(hosts, conn, [e for _, events in created for e in events])
    moved = many(lambda i: boond.move(created[i][0], ends[i] + timedelta(days=30)), range(missions))
    many(lambda i: sf.move(missions_s[i], ends[i] + timedelta(days=30)), range(missions))
    second = phase(hosts, conn, [e for events in moved for e in events])
    pipeline_s, floor_s = first[0] + second[0], first[1] + second[1]
    return {"changes_per_s": round(4 * missions / pipeline_s, 1), "floor_s": round(floor_s, 2),
            "pipeline_s": round(pipeline_s, 2), "ratio_to_floor": round(pipeline_s / floor_s, 3)}


def phase(hosts: Hosts, conn, boond_events: list[dict]) -> tuple[float, float]:
    """Deliver one round of changes and time it to the last host call; then replay those calls: (pipeline, floor)."""
    hosts.sweeps_aside(conn)
    hosts.bench_all("POST", "/snapshot/before")
    hosts.bench_all("POST", "/calls/reset")
    started = time.time()
    sf_batch = threading.Thread(target=hosts.sf_moves.deliver_held)
    sf_batch.start()
    statuses = post_events(hosts.boond_webhook, boond_events)
    sf_batch.join()
    wait_drained(conn, timeout=600)
    calls = hosts.recorded()
    pipeline_s = max(c["t1"] for c in calls) - started
    hosts.bench_all("POST", "/snapshot/after")
    hosts.bench_all("POST", "/restore/before")
    floor_s, same = replay(calls)
    hosts.bench_all("POST", "/restore/after")
    failed = failed_jobs(conn)
    routes = Counter(c["method"] + " " + _ID.sub("/<id>", c["path"]) for c in calls)
    note(f"phase calls by route: {dict(routes.most_common(12))}")
    note(f"phase: {len(boond_events)} Boond events ({sorted(set(statuses))}), {len(calls)} host calls, "
         f"pipeline {pipeline_s:.2f}s, floor {floor_s:.2f}s, replayed with the same status: {same[True]}/{len(calls)}"
         + (f", FAILED JOBS {len(failed)}" if failed else ""))
    return pipeline_s, floor_s
