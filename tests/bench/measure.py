"""Shared measuring tools: wait for the workers to drain the queue, replay recorded host calls in a plain loop."""
from __future__ import annotations

import time
from collections import Counter

import requests

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def queue_idle(conn) -> bool:
    """True when nothing is queued, being taken or running (scheduled ticks aside)."""
    from rq.registry import StartedJobRegistry

    from handlers.intake.queues import get_queue

    queue = get_queue(conn)
    return (queue.count == 0 and conn.llen(queue.intermediate_queue.key) == 0
            and StartedJobRegistry(queue=queue).count == 0)


def wait_drained(conn, timeout: float = 150.0, settle: float = 0.3, *, must: bool = True) -> float | None:
    """Block until the queue has stayed idle for `settle` seconds; when it first became idle (monotonic).

    After `timeout`: raise, or return None when not `must` (a saturated run reports what landed)."""
    deadline, idle_since = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        if queue_idle(conn):
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= settle:
                return idle_since
        else:
            idle_since = None
        time.sleep(0.02)
    if not must:
        return None
    raise TimeoutError(f"the workers did not drain the queue within {timeout:.0f}s")


def failed_jobs(conn) -> list[str]:
    """Ids of jobs that failed (retries scheduled or dead letters): a benchmark must report them."""
    from rq.registry import FailedJobRegistry, ScheduledJobRegistry

    from handlers.intake.queues import get_queue

    queue = get_queue(conn)
    scheduled = [j for j in ScheduledJobRegistry(queue=queue).get_job_ids() if not j.startswith("tick-")]
    return FailedJobRegistry(queue=queue).get_job_ids() + scheduled


def replay(calls: list[dict]) -> tuple[float, Counter]:
    """Send recorded calls (host, method, path, query, headers, body) in order from one Session.

    Returns the seconds it took and how many answers had (True) or had not (False) the recorded status."""
    session, statuses = requests.Session(), Counter()
    started = time.perf_counter()
    for call in calls:
        url = call["host"] + call["path"] + (f"?{call['query']}" if call["query"] else "")
        headers = {k: v for k, v in call["headers"].items() if v}
        response = session.request(call["method"], url, data=call["body"] or None, headers=headers, timeout=30)
        statuses[response.status_code == call["status"]] += 1
    return time.perf_counter() - started, statuses


def in_order(*call_lists: list[dict]) -> list[dict]:
    """Calls of several hosts merged in the order they arrived."""
    return sorted((c for calls in call_lists for c in calls), key=lambda c: c["t0"])


def writes(calls: list[dict]) -> list[dict]:
    """The calls that change something in the host (not queries, not OAuth)."""
    return [c for c in calls if c["method"] in WRITE_METHODS and "/oauth2/" not in c["path"]]
