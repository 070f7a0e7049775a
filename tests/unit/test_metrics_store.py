"""Metrics kept in Redis: counters and histograms add up across processes and come out in Prometheus format."""
from __future__ import annotations

import responses
from prometheus_client.parser import text_string_to_metric_families

from config.infra import metrics
from connectors.http import HttpClient, observe_calls
from connectors.errors import HostValidationError
from handlers.intake import telemetry
from handlers.ops.metrics import exposition, make_registry


def _samples() -> dict:
    text = exposition(make_registry()).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_counters_add_up_and_histograms_have_cumulative_buckets(redis_conn):
    metrics.incr("intermission_webhooks", {"host": "boond", "status": "202"})
    metrics.incr("intermission_webhooks", {"status": "202", "host": "boond"}, 2)  # label order does not matter
    metrics.incr("intermission_webhooks", {"host": "boond", "status": "404"}, 0)  # nothing for zero
    for seconds in (0.07, 0.3, 4.0):
        metrics.observe("intermission_job_duration_seconds", {"function": "f", "outcome": "success"}, seconds)
    found = _samples()
    assert found[("intermission_webhooks_total", (("host", "boond"), ("status", "202")))] == 3
    assert ("intermission_webhooks_total", (("host", "boond"), ("status", "404"))) not in found
    series = (("function", "f"), ("outcome", "success"))
    buckets = [found[("intermission_job_duration_seconds_bucket", tuple(sorted(series + (("le", le),))))]
               for le in ("0.05", "0.1", "0.5", "5.0", "+Inf")]
    assert buckets == [0, 1, 2, 3, 3]
    assert found[("intermission_job_duration_seconds_count", series)] == 3
    assert abs(found[("intermission_job_duration_seconds_sum", series)] - 4.37) < 1e-9


@responses.activate
def test_every_host_call_is_counted_by_host_status_and_error_code(redis_conn):
    observe_calls(telemetry.count_host_call)
    observe_calls(telemetry.count_host_call)  # registered once, whatever the number of workers made
    client = HttpClient("https://host.example/api", max_attempts=1)
    client.host = "boond"
    client.error_for = lambda r: HostValidationError("no", host="boond", status=r.status_code, code="1004")
    responses.get("https://host.example/api/ok", json={})
    responses.post("https://host.example/api/bad", status=422, json={})
    client.request("GET", "/ok")
    try:
        client.request("POST", "/bad")
    except HostValidationError:
        pass
    try:
        client.request("GET", "/nowhere")  # responses refuses: a connection error, no answer
    except Exception:  # noqa: BLE001
        pass
    found = _samples()
    assert found[("intermission_host_calls_total", (("code", ""), ("host", "boond"), ("status", "200")))] == 1
    assert found[("intermission_host_calls_total", (("code", "1004"), ("host", "boond"), ("status", "422")))] == 1
    unanswered = (("code", "ConnectionError"), ("host", "boond"), ("status", "none"))
    assert found[("intermission_host_calls_total", unanswered)] == 1


def test_action_counts_are_recorded_per_host_and_op(redis_conn):
    telemetry.count_actions("salesforce", {"created": 3, "rescheduled": 0, "cancelled": 2, "recovered": 1})
    found = _samples()
    assert found[("intermission_actions_total", (("host", "salesforce"), ("op", "created")))] == 3
    assert found[("intermission_actions_total", (("host", "salesforce"), ("op", "recovered")))] == 1
    assert ("intermission_actions_total", (("host", "salesforce"), ("op", "rescheduled"))) not in found


def test_a_jobs_host_calls_are_written_once_when_the_job_ends(redis_conn):
    from types import SimpleNamespace

    job = SimpleNamespace(id="j1", meta={}, args=(), func_name="handlers.sync.jobs.sync_mission")
    series = ("intermission_host_calls_total", (("code", ""), ("host", "boond"), ("status", "200")))
    with telemetry.job_scope(job) as state:
        for _ in range(3):
            telemetry.count_host_call("boond", "200", "")
        assert series not in _samples()  # tallied in memory while the job runs
        state["ok"] = True
    assert _samples()[series] == 3
    telemetry.count_host_call("boond", "200", "")  # outside a job: written at once
    assert _samples()[series] == 4
