"""Worker processes for fault tests: start, SIGKILL (with their scheduler) and watch what they leave behind."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from rq import Worker
from rq.job import Job

from handlers.intake.queues import get_queue

WORKER = [sys.executable, "-m", "intermission_cli.main", "worker", "--simple"]


class Pool:
    """`size` long-lived `intermission worker` processes, each in its own process group."""

    def __init__(self, env: dict, size: int, logs: Path):
        self.env = {**env, "INTERMISSION_LOG_LEVEL": "WARNING"}
        self.logs, self.procs = logs, [None] * size

    def start(self, slot: int) -> None:
        """(Re)start the worker in one slot."""
        with open(self.logs / f"worker-{slot}.log", "ab") as log:
            self.procs[slot] = subprocess.Popen(WORKER, env=self.env, stdout=log, stderr=log, start_new_session=True)

    def start_all(self) -> None:
        for slot in range(len(self.procs)):
            self.start(slot)

    def kill(self, slot: int) -> set[str]:
        """SIGKILL a worker and its process group, reap it; the rq names it was registered under."""
        proc = self.procs[slot]
        names = {w.name for w in Worker.all(connection=get_queue().connection) if w.pid == proc.pid}
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)  # reaped: a zombie would still answer kill(pid, 0)
        return names

    def stop(self, *, now: bool = False) -> None:
        """Ask every worker to finish (SIGTERM; SIGKILL when `now`), then make sure they are gone."""
        for proc in self.procs:
            if proc and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL if now else signal.SIGTERM)
        for proc in self.procs:
            if proc:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=30)


def started_by(names: set[str]) -> list[str]:
    """Jobs the started registry still attributes to these workers."""
    queue = get_queue()
    jobs = Job.fetch_many(queue.started_job_registry.get_job_ids(), connection=queue.connection,
                          serializer=queue.serializer)
    return [j.id for j in jobs if j is not None and j.worker_name in names]


def busy_slot(pool: Pool, deadline: float) -> int | None:
    """A slot whose worker is running a job now (polled until `deadline`), so a kill lands mid-job; None if none."""
    queue = get_queue()
    while time.monotonic() < deadline:
        running = {j.worker_name for j in Job.fetch_many(queue.started_job_registry.get_job_ids(),
                                                          connection=queue.connection, serializer=queue.serializer)
                   if j is not None and j.get_status() == "started"}
        pids = {w.pid for w in Worker.all(connection=queue.connection) if w.name in running}
        slots = [slot for slot, proc in enumerate(pool.procs) if proc and proc.poll() is None and proc.pid in pids]
        if slots:
            return slots[0]
        time.sleep(0.01)
    return None


def wait_recovered(job_ids: list[str], names: set[str], deadline: float) -> float | None:
    """Seconds until none of `job_ids` is still started by a dead worker; None past the deadline."""
    queue, began = get_queue(), time.monotonic()
    while time.monotonic() < deadline:
        jobs = Job.fetch_many(job_ids, connection=queue.connection, serializer=queue.serializer)
        if all(j is None or j.get_status() != "started" or j.worker_name not in names for j in jobs):
            return time.monotonic() - began
        time.sleep(0.05)
    return None


def drained() -> bool:
    """Nothing queued, nothing started, nothing taken off the queue and not started."""
    queue = get_queue()
    return (queue.count == 0 and queue.started_job_registry.count == 0
            and not queue.intermediate_queue.get_job_ids())


def wait_drained(deadline: float) -> bool:
    """Poll until the queue is drained or the deadline passes."""
    while time.monotonic() < deadline:
        if drained():
            return True
        time.sleep(0.1)
    return False
