"""`job_cpu`: a worker's CPU time for one change, each change alone, per host; and that change's latency alone.

One in-process worker, the Boond and Salesforce sandboxes, the web process. Each change is delivered alone and
drained before the next (`ROUNDS` rounds of `CHANGES` new missions a host, a new consultant each, as in `latency`),
and the worker's CPU time (user + system, every thread, from /proc) is read before and after each round. A wall-clock
figure moves with whatever else the machine runs; a CPU time a change much less, so this is the figure that shows
what a change to the job's code bought, round against round. Beside it, each change's latency alone (accepted →
last host write) and its host calls replayed alone (the floor of `latency`), medians.

Why it matters (docs/PERFORMANCE.md, "job_cpu"): at `latency`'s 50 changes a second, the workers, the sandboxes,
Redis and the web process share two cores; the workers' CPU a change decides whether the load leaves them room.
"""
from __future__ import annotations

import os
import statistics

import requests

from tests.bench.latency import floor_ms, last_write_by_mission, new_changes, send_boond, send_sf
from tests.bench.measure import wait_drained
from tests.bench.procs import Processes, redis_for_bench
from tests.bench.report import note
from tests.bench.stack import UNTHROTTLED, Hosts

ROUNDS, CHANGES = 5, 30  # rounds a host, changes a round
_TICK = os.sysconf("SC_CLK_TCK")


def run(work) -> dict:
    """The worker's CPU ms a change (minimum and median of the rounds) and the latency alone, per host."""
    conn, redis_url = redis_for_bench()
    with Processes(work, redis_url, **UNTHROTTLED) as procs:
        hosts = Hosts(procs)
        worker = procs.workers(1)[0]
        floor = floor_ms(hosts, conn)  # also warms the worker: its first jobs import and connect
        figures = {}
        for host in ("boond", "salesforce"):
            cpu, latencies = [], []
            for _ in range(ROUNDS):
                spent, alone = _round(hosts, conn, worker.pid, host=host)
                cpu.append(spent)
                latencies += alone
            figures[host] = {"cpu_ms": round(min(cpu), 2), "cpu_ms_median": round(statistics.median(cpu), 2),
                             "latency_alone_ms": round(statistics.median(latencies), 1)}
            note(f"{host}: {figures[host]} (rounds: {[round(c, 2) for c in cpu]} ms of CPU a change)")
        figures["floor_p50_ms"] = round(statistics.median(floor), 1)
    return figures


def _round(hosts: Hosts, conn, pid: int, *, host: str) -> tuple[float, list[float]]:
    """CHANGES new missions of `host`, each delivered alone: the worker's CPU ms a change, and each one's latency."""
    boond, sf = new_changes(hosts, CHANGES)
    hosts.sweeps_aside(conn)
    session, latencies = requests.Session(), []
    before = _cpu_seconds(pid)
    for change in boond if host == "boond" else sf:
        hosts.bench_all("POST", "/calls/reset")
        mission, accepted = send_boond(hosts, session, change) if host == "boond" else send_sf(hosts, change)
        wait_drained(conn, settle=0.02)
        last = last_write_by_mission(hosts.recorded(), [mission])
        latencies.append((last[mission] - accepted) * 1000)
    return (_cpu_seconds(pid) - before) * 1000 / CHANGES, latencies


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of every thread of a process."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK
