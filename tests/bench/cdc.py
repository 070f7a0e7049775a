"""`cdc`: a change in the org → its Tasks written, through Change Data Capture, as a ratio to the Flow trigger.

Both on the same run: one org sandbox (REST in a thread, its Pub/Sub API on a loopback gRPC port), the product's
web app in a thread, one `intermission worker` process; the Flow phase first (the org's callout POSTs to the webhook),
then the tenant's trigger switched to `cdc` and one `intermission subscribe` process started. Changes go one at a
time, so each figure is a latency without queueing: from the control call that creates the mission to the moment the
org holds its 8 Tasks.
"""
from __future__ import annotations

import statistics
import time
from datetime import date, timedelta

from tests.bench.procs import Processes, redis_for_bench
from tests.bench.report import note
from connectors.salesforce.settings import salesforce_settings

SAMPLES = 20
TIMEOUT = 30.0


def run(work) -> dict:
    from config import tenants
    from handlers.ops.health import streams
    from sandboxes.stack_salesforce import SalesforceStack

    conn, redis_url = redis_for_bench()
    with SalesforceStack("bench-cdc", mode="flow") as stack, Processes(work, redis_url) as procs:
        procs.workers(1)
        # a consultant per mission: every change costs the same (one consultant's timeline), whichever phase runs it
        people = [stack.new_consultant(f"Bench{n}") for n in range(2 * SAMPLES)]
        flow = [_latency(stack, n, people[n]) for n in range(SAMPLES)]
        note(f"flow: p50 {statistics.median(flow):.0f} ms")
        stack.control("DELETE", "/_control/outbound")
        tenant = tenants.get(stack.tenant_id)
        tenants.save(tenant.model_copy(update={"host_settings": salesforce_settings(tenant).model_copy(update={"trigger": "cdc"})}))
        procs.spawn("subscribe", [_python(), "-m", "intermission_cli.main", "subscribe"],
                    INTERMISSION_SF_PUBSUB_ENDPOINT=stack.pubsub_endpoint)
        deadline = time.monotonic() + TIMEOUT
        while not any(s["state"] == "streaming" for s in streams(conn)):
            assert time.monotonic() < deadline, "the subscriber did not start streaming"
            time.sleep(0.05)
        cdc = [_latency(stack, SAMPLES + n, people[SAMPLES + n]) for n in range(SAMPLES)]
        note(f"cdc: p50 {statistics.median(cdc):.0f} ms")
        tasks = stack.tasks()
        assert len(tasks) == 8 * 2 * SAMPLES, len(tasks)  # every mission got its 8 Tasks, none twice
    flow_p50, cdc_p50 = statistics.median(flow), statistics.median(cdc)
    return {"flow_p50_ms": round(flow_p50, 1), "flow_max_ms": round(max(flow), 1),
            "cdc_p50_ms": round(cdc_p50, 1), "cdc_max_ms": round(max(cdc), 1),
            "cdc_to_flow_p50": round(cdc_p50 / flow_p50, 2), "samples": SAMPLES}


def _latency(stack, n: int, consultant: str) -> float:
    """Create one mission in the org and wait until its Tasks are written (its composite call); milliseconds."""
    before = _writes(stack)
    started = time.monotonic()
    stack.create_mission(date.today() - timedelta(days=90), date.today() + timedelta(days=40 + n),
                         Consultant__c=consultant, Consultant_User__c=None)
    deadline = started + TIMEOUT
    while _writes(stack) == before:  # polled cheaply: the org's call counter, not its growing list of Tasks
        assert time.monotonic() < deadline, "the mission's Tasks did not arrive"
        time.sleep(0.005)
    return (time.monotonic() - started) * 1000


def _writes(stack) -> int:
    return stack.control("GET", "/_control/calls")["by_route"].get("POST /composite", 0)


def _python() -> str:
    import sys

    return sys.executable
