"""The worker's side of observability: job log context, job durations, host calls and action counts.

Every job runs with its `job_id` and the `request_id` of the change that caused it bound to the log
context, so one id follows a change from the webhook to each host write.
"""
from __future__ import annotations

import time
import uuid
from collections import Counter
from contextlib import contextmanager
from contextvars import ContextVar

from rq import SimpleWorker, Worker
from rq.job import Job

from config.infra import metrics
from config.infra.logs import bound, current
from connectors import http
from connectors.salesforce import client as salesforce_client

ACTION_OPS = ("created", "rescheduled", "cancelled", "recovered")


def new_request_id() -> str:
    """A fresh id for a change that did not come with one."""
    return uuid.uuid4().hex


def request_id_for(trigger: dict) -> str:
    """The trigger's request id, else the one bound to this context (web request, running job), else a new one."""
    return trigger.get("request_id") or current("request_id") or new_request_id()


_job_calls: ContextVar[Counter | None] = ContextVar("job_host_calls", default=None)


def count_host_call(host: str, status: str, code: str) -> None:
    """One host API call, by host, HTTP status ("none" when no answer) and error code.

    Inside a job the calls are tallied in memory and written once when the job ends (one round trip to Redis
    per job instead of one per call); a worker killed mid-job loses that job's tally, nothing else.
    """
    tally = _job_calls.get()
    if tally is not None:
        tally[(host, status, code)] += 1
    else:
        metrics.incr("intermission_host_calls", {"host": host, "status": status, "code": code})


def _flush_calls(tally: Counter) -> None:
    for (host, status, code), amount in tally.items():
        metrics.incr("intermission_host_calls", {"host": host, "status": status, "code": code}, amount)


def count_actions(host: str, counts: dict[str, int]) -> None:
    """Actions a reconciliation created, rescheduled, cancelled or recovered."""
    for op in ACTION_OPS:
        metrics.incr("intermission_actions", {"host": host, "op": op}, counts.get(op, 0))


def count_limit_refusal(kind: str) -> None:
    """One Salesforce REQUEST_LIMIT_EXCEEDED, by kind: "daily" (held for hours) or "concurrency" (retried in seconds)."""
    metrics.incr("intermission_salesforce_limit_refusals", {"kind": kind})


def install() -> None:
    """Wire host-call and limit counting into the connectors (once per process; forked work horses inherit it)."""
    http.observe_calls(count_host_call)
    salesforce_client.observe_limits(count_limit_refusal)


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


@contextmanager
def job_scope(job: Job):
    """Bind the job's ids to the log context and time it; yields a dict where the caller puts `ok`."""
    state = {"ok": False}
    started = time.monotonic()
    tally = _job_calls.set(Counter())
    with bound(job_id=job.id, request_id=_job_request_id(job)):
        try:
            yield state
        finally:
            calls = _job_calls.get()
            _job_calls.reset(tally)
            _flush_calls(calls)
            outcome = _outcome(state["ok"], getattr(job, "_result", None))
            metrics.observe("intermission_job_duration_seconds", {"function": job.func_name, "outcome": outcome},
                            time.monotonic() - started)


class _Observed:
    """Mixin for rq workers: each job runs inside `job_scope` (in the work horse when forking)."""

    def perform_job(self, job, queue, execution) -> bool:
        with job_scope(job) as state:
            state["ok"] = super().perform_job(job, queue, execution)
        return state["ok"]


class ObservedWorker(_Observed, Worker):
    """The forking worker (one work horse per job), observed."""


class ObservedSimpleWorker(_Observed, SimpleWorker):
    """The in-process worker (tests, demo), observed."""
