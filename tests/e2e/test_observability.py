"""/metrics, /readyz and the JSON logs, checked against a running story over real HTTP."""
from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections import Counter
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

import requests
from prometheus_client.parser import text_string_to_metric_families
from rq.job import Job
from rq.serializers import JSONSerializer

from config.infra.logs import make_handler
from connectors.salesforce.tokens import TenantTokens
from config.infra import clock
from handlers.intake.ingest import enqueue_sync
from handlers.state.ledger import ActivityLog
from handlers.intake.queues import get_queue
from tests.conftest import METRICS_TOKEN
from tests.e2e.helpers import settle
from tests.e2e.proc_helpers import wait_until
from connectors.salesforce.settings import salesforce_settings

T0 = date(2026, 3, 2)
WEBHOOK_ROUTE = "/webhooks/boond/<tenant_id>/<secret>"
SCRAPER = {"Authorization": f"Bearer {METRICS_TOKEN}"}  # /metrics and the /readyz details want it


def _three_moves(stack) -> str:
    clock.pin(T0)
    mission = stack.new_mission(date(2025, 11, 3), date(2026, 4, 16))
    settle()
    stack.move_end(mission, date(2026, 5, 7))
    settle()
    stack.end_early(mission, date(2026, 3, 12), "client")
    settle()
    return mission


def _scrape(base_url: str) -> dict:
    text = requests.get(base_url + "/metrics", headers=SCRAPER, timeout=5).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _sum(samples: dict, name: str, **match) -> float:
    return sum(v for (n, labels), v in samples.items()
               if n == name and all(dict(labels).get(k) == want for k, want in match.items()))


@contextmanager
def captured_logs(level=logging.DEBUG):
    """Everything logged in this process, through the production JSON handler."""
    buffer, root = io.StringIO(), logging.getLogger()
    handler, before = make_handler(buffer), root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(before)


def test_metrics_count_the_story_webhooks_actions_host_calls_and_jobs(stack, redis_conn):
    mission = _three_moves(stack)
    samples = _scrape(stack.web.url)

    answered = Counter(str(d["status"]) for d in stack.control("GET", "/_control/events")["deliveries"])
    assert answered["202"] == 3
    for status, count in answered.items():
        assert samples[("intermission_webhooks_total", (("host", "boond"), ("status", status)))] == count
    calls = stack.control("GET", "/_control/calls")
    assert _sum(samples, "intermission_host_calls_total", host="boond") == calls["total"]
    for status, count in calls["by_status"].items():
        assert _sum(samples, "intermission_host_calls_total", host="boond", status=str(status)) == count
    written = Counter(r["op"] for r in ActivityLog(redis_conn, "acme").recent(mission=mission, limit=500))
    for op in ("created", "rescheduled", "cancelled"):
        assert written[op] > 0
        assert samples[("intermission_actions_total", (("host", "boond"), ("op", op)))] == written[op]
    jobs = ("intermission_job_duration_seconds_count",
            (("function", "handlers.sync.jobs.sync_mission"), ("outcome", "success")))
    assert samples[jobs] == 3
    inf = ("intermission_job_duration_seconds_bucket",
           (("function", "handlers.sync.jobs.sync_mission"), ("le", "+Inf"), ("outcome", "success")))
    assert samples[inf] == 3
    assert samples[("intermission_queue_depth", (("queue", "intermission"),))] == 0
    assert samples[("intermission_dead_letters", (("queue", "intermission"),))] == 0


def test_metrics_show_salesforce_api_budget_per_tenant_and_nothing_else_per_tenant(sf_stack, redis_conn):
    clock.pin(T0)
    sf_stack.create_mission(date(2025, 11, 3), date(2026, 4, 16))
    settle()
    used, _, limit = redis_conn.get("im:t:acme-sf:sf:usage").decode().partition("/")
    samples = _scrape(sf_stack.web.url)
    assert samples[("intermission_salesforce_api_remaining", (("tenant", "acme-sf"),))] == int(limit) - int(used)
    assert samples[("intermission_salesforce_api_limit", (("tenant", "acme-sf"),))] == int(limit)
    assert _sum(samples, "intermission_actions_total", host="salesforce", op="created") >= 8
    tenant_labelled = {n for (n, labels) in samples if "tenant" in dict(labels)}
    assert tenant_labelled == {"intermission_salesforce_api_remaining", "intermission_salesforce_api_limit"}


def test_readyz_names_a_stuck_queue_and_a_missing_scheduler_then_a_worker_makes_it_ready(stack, redis_conn,
                                                                                          child_env):
    enqueue_sync(redis_conn, "acme", "999", trigger={"kind": "webhook"})
    job = Job.fetch(get_queue().get_job_ids()[0], connection=redis_conn, serializer=JSONSerializer)
    job.enqueued_at = datetime.now(timezone.utc) - timedelta(hours=1)
    job.save()
    stuck = requests.get(stack.web.url + "/readyz", headers=SCRAPER, timeout=5)
    assert stuck.status_code == 503
    reasons = " | ".join(stuck.json()["reasons"])
    assert "queue stuck: the oldest job has waited 3600s" in reasons and "scheduler not running" in reasons
    assert requests.get(stack.web.url + "/readyz?scope=web", timeout=5).status_code == 200

    worker = subprocess.Popen([sys.executable, "-m", "intermission_cli.main", "worker"], env=child_env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready = wait_until(lambda: _ready(stack.web.url), timeout=30, what="/readyz to answer 200")
        assert ready["status"] == "ready" and ready["workers"] == 1 and ready["scheduler"]
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def _ready(base_url: str) -> dict | None:
    answer = requests.get(base_url + "/readyz", headers=SCRAPER, timeout=5)
    return answer.json() if answer.status_code == 200 else None


def test_logs_are_json_lines_with_one_request_id_from_webhook_to_host_writes_and_no_secret(stack, redis_conn):
    with captured_logs() as buffer:
        _three_moves(stack)
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert lines and all(isinstance(line, dict) and {"ts", "level", "logger", "msg"} <= set(line) for line in lines)
    web = [line for line in lines if line.get("route") == WEBHOOK_ROUTE]
    assert len(web) == 3 and all(line["status"] == 202 and line["request_id"] for line in web)
    writes = [line for line in lines if line["msg"].startswith("host write")]
    assert writes and all(w["job_id"].startswith("sync-acme-") and w["host"] == "boond" for w in writes)
    by_request = Counter(w["request_id"] for w in writes)
    assert set(by_request) == {line["request_id"] for line in web}  # each webhook's id reaches its writes
    text = buffer.getvalue()
    creds = stack.control("GET", "/_control/credentials")
    for secret in (stack.tenant.webhook_secret, creds["appKey"], creds["clientKey"], creds["userToken"]):
        assert secret not in text
    assert "/webhooks/boond/acme/[secret]" in text  # the path was logged (werkzeug, urllib3), masked


def test_salesforce_tokens_and_client_secret_never_reach_the_logs(sf_stack, redis_conn):
    with captured_logs() as buffer:
        clock.pin(T0)
        mission = sf_stack.create_mission(date(2025, 11, 3), date(2026, 4, 16))["record"]["Id"]
        settle()
        sf_stack.move_end(mission, date(2026, 5, 7))
        settle()
    text = buffer.getvalue()
    assert "host write created" in text and "host write rescheduled" in text
    cfg = salesforce_settings(sf_stack.tenant)
    tokens = TenantTokens(redis_conn, "acme-sf", login_url=cfg.login_url, client_id=cfg.client_id,
                          client_secret=cfg.client_secret).load()
    for secret in (tokens["access_token"], tokens["refresh_token"], cfg.client_secret,
                   sf_stack.tenant.webhook_secret):
        assert secret not in text
