"""The worker's side of observability: job log context, job durations, host calls and action counts.

Every job runs with its `job_id` and the `request_id` of the change that caused it bound to the log
context, so one id follows a change from the webhook to each host write.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple

from rq import SimpleWorker, Worker
from rq.worker import WorkerStatus
from rq.job import Job
from rq.utils import now

from config.infra import metrics
from config.infra.logs import bound, current
from connectors import http
from handlers.hosts.registry import HOSTS

ACTION_OPS = ("created", "rescheduled", "cancelled", "recovered")


def new_request_id() -> str:
    """A fresh id for a change that did not come with one."""
    return uuid.uuid4().hex


def request_id_for(trigger: dict) -> str:
    """The trigger's request id, else the one bound to this context (web request, running job), else a new one."""
    return trigger.get("request_id") or current("request_id") or new_request_id()


_job_tally: ContextVar[Counter | None] = ContextVar("job_tally", default=None)
_tallying = threading.Lock()  # a job's creates may be sent from several threads (their context copied: one tally)


def _count(name: str, labels: dict[str, str], amount: int = 1) -> None:
    """Add to a counter: inside a job, in memory until the job ends (`job_scope`); elsewhere at once."""
    tally = _job_tally.get()
    if tally is None:
        metrics.incr(name, labels, amount)
    elif amount > 0:
        with _tallying:
            tally[(name, tuple(sorted(labels.items())))] += amount


def count_host_call(host: str, status: str, code: str) -> None:
    """One host API call, by host, HTTP status ("none" when no answer) and error code.

    Inside a job the calls and the actions are tallied in memory and written with the job's duration, in one round
    trip to Redis when the job ends instead of one per call; a worker killed mid-job loses that job's tally, nothing
    else.
    """
    _count("intermission_host_calls", {"host": host, "status": status, "code": code})


def count_actions(host: str, counts: dict[str, int]) -> None:
    """Actions a reconciliation created, rescheduled, cancelled or recovered."""
    for op in ACTION_OPS:
        _count("intermission_actions", {"host": host, "op": op}, counts.get(op, 0))


def install() -> None:
    """Wire host-call and limit counting into the connectors (once per process; forked work horses inherit it)."""
    http.observe_calls(count_host_call)
    for host in HOSTS.values():  # each host's own counters (a limit refusal), as its registry line wires them
        host.metrics.install()


def _outcome(ok: bool, result) -> str:
    if not ok:
        return "failure"
    if isinstance(result, dict) and ("held" in result or "skipped" in result):
        return "held" if "held" in result else "skipped"
    return "success"


def _job_request_id(job: Job) -> str | None:
    """The request id put in the job's meta at enqueue (or in its trigger argument)."""
    found = (job.meta or {}).get("request_id")
    for arg in () if found else (job.args or ()):
        if isinstance(arg, dict) and arg.get("request_id"):
            return arg["request_id"]
    return found


_job_scope: ContextVar[tuple[Job, dict, float] | None] = ContextVar("job_scope", default=None)


@contextmanager
def job_scope(job: Job):
    """Bind the job's ids to the log context and time it; yields a dict where the caller puts `ok`.

    Its tallies and duration are written when it ends: on rq's own success transaction when the job succeeded
    (`job_metrics_on`, no round trip of their own), else in one round trip here."""
    state = {"ok": False, "written": False}
    token, scope = _job_tally.set(Counter()), _job_scope.set((job, state, time.monotonic()))
    with bound(job_id=job.id, request_id=_job_request_id(job)):
        try:
            yield state
        finally:
            if not state["written"]:
                m = _job_metrics(ok=state["ok"])
                metrics.add_and_observe(m.counters, m.name, m.labels, value=m.value)
            _job_tally.reset(token)
            _job_scope.reset(scope)


def job_metrics_on(pipeline) -> None:
    """Queue the running job's tallies and duration on rq's success transaction (`pipeline`), once the job is done."""
    scope = _job_scope.get()
    if scope is not None:
        m = _job_metrics(ok=True)
        metrics.add_and_observe_on(pipeline, m.counters, m.name, labels=m.labels, value=m.value)
        scope[1]["written"] = True


class _Measured(NamedTuple):
    """A job's counters, its duration histogram's name and labels, and its duration in seconds."""

    counters: list[tuple[str, dict[str, str], int]]
    name: str
    labels: dict[str, str]
    value: float


def _job_metrics(*, ok: bool) -> _Measured:
    """What the running job measured, as it ends."""
    job, _, started = _job_scope.get()
    tally = _job_tally.get() or Counter()
    counters = [(name, dict(labels), amount) for (name, labels), amount in tally.items()]
    labels = {"function": job.func_name, "outcome": _outcome(ok, getattr(job, "_result", None))}
    return _Measured(counters, "intermission_job_duration_seconds", labels, time.monotonic() - started)


HEARTBEAT_SLACK = 1.0  # seconds: a worker's registration refreshed this recently is not refreshed again


class _Observed:
    """Mixin for rq workers: each job runs inside `job_scope` (in the work horse when forking), and the worker's
    own bookkeeping costs fewer Redis round trips.

    rq refreshes the worker's registration three times per job (before and after the dequeue, after the job), each
    as three separate writes, and once more in the suspension check of every loop, and sets its state to idle twice;
    under `appendfsync always` each write waits for the disk (docs/PERFORMANCE.md). Here a refresh is one pipelined
    round trip (or rides on rq's pipeline), skipped when the registration was
    refreshed less than HEARTBEAT_SLACK seconds ago with a lifetime at least as long (less the slack) as the one
    asked for; a state already set that recently is not set again. The registration never lives shorter than rq
    would have it (minus the slack), so neither `intermission status` nor orphan recovery sees a live worker as
    dead. The suspension flag (`rq suspend`) is read at most once per HEARTBEAT_SLACK, not before every job. The
    job's own heartbeat once it has run, which only keeps a job alive while its callbacks run, is
    skipped for a job without callbacks (all of ours). A job that succeeded writes its tallies and duration on rq's
    success transaction (`job_metrics_on`) rather than in a round trip of their own, and so does the worker's idle
    state.
    """

    _beat_at, _beat_until, _state_at, _running_at = 0.0, 0.0, 0.0, float("-inf")

    def perform_job(self, job, queue, execution) -> bool:
        with job_scope(job) as state:
            state["ok"] = super().perform_job(job, queue, execution)
        return state["ok"]

    def increment_successful_job_count(self, pipeline=None):
        super().increment_successful_job_count(pipeline=pipeline)
        if pipeline is not None:  # the job's own tallies and duration ride on rq's success transaction
            job_metrics_on(pipeline)
            # and so does the worker's idle state, which rq writes on its own once the job has returned
            self.set_state(WorkerStatus.IDLE, pipeline=pipeline)

    def heartbeat(self, timeout: int | None = None, pipeline=None):
        timeout = timeout or self.worker_ttl + 60
        now_ = time.monotonic()
        if now_ - self._beat_at < HEARTBEAT_SLACK and self._beat_until - now_ >= timeout - HEARTBEAT_SLACK:
            return None  # also on rq's pipelines (the suspension check's): what is left of them is read-only
        self._beat_at, self._beat_until = now_, now_ + timeout
        if pipeline is not None:
            return super().heartbeat(timeout, pipeline=pipeline)
        with self.connection.pipeline(transaction=False) as own:
            super().heartbeat(timeout, pipeline=own)
            own.execute()
        return None

    def handle_execution_ended(self, job, queue, heartbeat_ttl: int):
        # rq's heartbeat here (a write of the job's `last_heartbeat`) keeps a job that has a callback to run alive
        # meanwhile; ours have none, and the job's hash is written again by the success or failure that follows
        if job._success_callback_name or job._failure_callback_name or job._stopped_callback_name:
            return super().handle_execution_ended(job, queue, heartbeat_ttl)
        job.ended_at = now()
        return None

    def check_for_suspension(self, burst: bool):
        # rq reads its suspension flag before every job (a round trip); an `rq suspend` is seen within
        # HEARTBEAT_SLACK here, a second's jobs at most
        if time.monotonic() - self._running_at < HEARTBEAT_SLACK:
            return None
        super().check_for_suspension(burst)  # returns once not suspended (or raises in burst mode)
        self._running_at = time.monotonic()
        return None

    def set_state(self, state: str, pipeline=None):
        now_ = time.monotonic()
        if pipeline is None and state == getattr(self, "_state", None) and now_ - self._state_at < HEARTBEAT_SLACK:
            return None
        self._state_at = now_
        return super().set_state(state, pipeline=pipeline)


class ObservedWorker(_Observed, Worker):
    """The forking worker (one work horse per job), observed."""


class ObservedSimpleWorker(_Observed, SimpleWorker):
    """The in-process worker (tests, demo), observed."""
