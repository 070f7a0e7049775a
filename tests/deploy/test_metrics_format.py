"""/metrics as Prometheus reads it: one charset, request latency per route template, the process's own metrics."""
from __future__ import annotations

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import METRICS_TOKEN
from tests.e2e.test_boond_webhook_input import GOOD_EVENT

ROUTE = "/webhooks/boond/<tenant_id>/<secret>"


def _scrape(stack) -> tuple[requests.Response, dict]:
    response = requests.get(stack.web.url + "/metrics", timeout=30,
                            headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return response, samples


def test_metrics_declare_one_charset(stack):
    response, _ = _scrape(stack)
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"


def test_request_latency_is_a_histogram_per_route_template_never_the_path(stack):
    for _ in range(3):
        assert requests.post(stack.webhook_url, json=GOOD_EVENT, timeout=30).status_code in (202, 204)
    assert requests.get(stack.web.url + "/no/such/page", timeout=30).status_code == 404
    response, samples = _scrape(stack)
    labels = (("method", "POST"), ("route", ROUTE))
    assert samples[("intermission_http_request_duration_seconds_count", labels)] == 3
    assert samples[("intermission_http_request_duration_seconds_bucket", (("le", "+Inf"), *labels))] == 3
    assert samples[("intermission_http_request_duration_seconds_sum", labels)] > 0
    buckets = sorted(float(dict(k[1])["le"]) for k in samples
                     if k[0] == "intermission_http_request_duration_seconds_bucket" and dict(k[1])["route"] == ROUTE)
    assert buckets[0] <= 0.005  # webhooks answer in milliseconds: the buckets see it
    assert ("intermission_http_request_duration_seconds_count", (("method", "GET"), ("route", "(no route)"))) in samples
    assert stack.webhook_url.rsplit("/", 1)[1] not in response.text  # the secret never becomes a label


def test_the_answering_process_reports_its_own_metrics(stack):
    _, samples = _scrape(stack)
    names = {name for name, _ in samples}
    assert {"process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds",
            "process_start_time_seconds", "python_info"} <= names
    assert samples[("process_resident_memory_bytes", ())] > 10 * 2 ** 20
