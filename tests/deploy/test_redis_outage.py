"""Redis gone at 3 a.m.: probes, webhooks, scrapes and the CLI give up within a second and say why.

Each test runs its own `redis-server deploy/redis.conf` on a free port (never the shared one), then kills it
(connection refused) or freezes it with SIGSTOP (connections accepted, nothing answered).
"""
from __future__ import annotations

from tests.conftest import METRICS_TOKEN

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest
import requests

from tests.e2e.test_boond_webhook_input import GOOD_EVENT
from tests.reliability.redis_servers import RedisServer, app_on_redis, free_port

CLI = [sys.executable, "-m", "intermission_cli.main"]


@contextmanager
def own_redis(tmp_path):
    """A Redis of our own (deploy/redis.conf), this process pointed at it, the web stack on it."""
    server = RedisServer(tmp_path / "redis").start()
    try:
        with app_on_redis(server.url):
            from config.infra.redis_conn import get_redis
            from sandboxes.stack import Stack

            get_redis().flushdb()
            with Stack("acme") as stack:
                yield server, stack
    finally:
        if server.proc and server.proc.poll() is None:
            os.kill(server.proc.pid, signal.SIGCONT)
        server.stop()


def timed(method: str, url: str, **kwargs) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = requests.request(method, url, timeout=30, **kwargs)
    return response, time.monotonic() - started


def _answers_503_with_reason(stack, *, within: float) -> None:
    scraper = {"headers": {"Authorization": f"Bearer {METRICS_TOKEN}"}}  # the details are the scraper's (#13)
    for method, path, kwargs in (("GET", "/readyz?scope=web", scraper), ("GET", "/readyz", scraper),
                                 ("GET", "/metrics", scraper)):
        response, seconds = timed(method, stack.web.url + path, **kwargs)
        assert response.status_code == 503, (path, response.text)
        assert "does not answer" in response.text, (path, response.text)
        assert seconds < within, (path, seconds)
    response, seconds = timed("POST", stack.webhook_url, json=GOOD_EVENT)
    assert response.status_code == 503 and seconds < within, (response.status_code, seconds)
    assert "Redis at 127.0.0.1:" in response.json()["message"] and response.headers["Retry-After"]


def test_redis_killed_probes_scrape_and_webhook_answer_503_with_the_reason_in_under_a_second(tmp_path):
    with own_redis(tmp_path) as (server, stack):
        assert requests.get(stack.web.url + "/readyz?scope=web", timeout=30).status_code == 200
        assert requests.post(stack.webhook_url, json=GOOD_EVENT, timeout=30).status_code == 202
        server.kill()
        _answers_503_with_reason(stack, within=1.0)
        server.start()  # back on the same port and files: the pooled connections are dead, the next call reconnects
        response = requests.post(stack.webhook_url, json={**GOOD_EVENT, "data": {**GOOD_EVENT["data"], "id": "e2"}},
                                 timeout=30)
        assert response.status_code == 202, response.text
        assert requests.get(stack.web.url + "/readyz?scope=web", timeout=30).status_code == 200


def test_redis_frozen_requests_give_up_after_the_socket_timeout(tmp_path):
    with own_redis(tmp_path) as (server, stack):
        assert requests.get(stack.web.url + "/readyz?scope=web", timeout=30).status_code == 200
        os.kill(server.proc.pid, signal.SIGSTOP)  # accepts connections (kernel backlog), answers nothing
        try:
            _answers_503_with_reason(stack, within=2.5)  # 1 s socket timeout, one call per answer
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)
        assert requests.get(stack.web.url + "/readyz?scope=web", timeout=30).status_code == 200


@pytest.mark.parametrize("argv", [["status"], ["status", "--json"], ["tenant", "list"], ["replay", "--list"]])
def test_cli_says_redis_does_not_answer_in_one_line_and_exits_2(argv):
    port = free_port()  # nobody listens there
    env = {**os.environ, "REDIS_URL": f"redis://127.0.0.1:{port}/5"}
    started = time.monotonic()
    done = subprocess.run([*CLI, *argv], env=env, capture_output=True, text=True, timeout=60)
    output = (done.stdout + done.stderr).strip()
    assert done.returncode == 2, output
    assert output.count("\n") == 0 and "Traceback" not in output, output
    assert output.startswith(f"error: Redis at 127.0.0.1:{port}/5 does not answer"), output
    assert time.monotonic() - started < 15  # interpreter start-up included; the Redis part is instant


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_redis_killed_people_get_a_page_in_their_language_without_any_address(tmp_path, lang):
    """Issue #27: an admin or a survey respondent gets HTML in their language, never JSON naming the Redis address."""
    from config.infra import signing
    from handlers.surveys.records import PURPOSE, _payload
    from webhooks.admin.auth import admin_token

    with own_redis(tmp_path) as (server, stack):
        token = admin_token("acme", "test")
        survey = signing.sign(PURPOSE, _payload("acme", "100", "client_contact", "ab12cd34"))  # a genuine link
        server.kill()
        words = "indisponible" if lang == "fr" else "unavailable"
        for path in (f"/admin/?a={token}", f"/admin/activity?a={token}", f"/survey/{survey}"):
            page = requests.get(stack.web.url + path, headers={"Accept-Language": lang}, timeout=30)
            assert page.status_code == 503 and page.headers["Content-Type"].startswith("text/html"), path
            assert words in page.text and "Redis" not in page.text and "127.0.0.1" not in page.text, page.text
            assert "{" not in page.text.split("</style>")[1]  # no JSON
        hook = requests.post(stack.webhook_url, json=GOOD_EVENT, timeout=30)  # hosts keep their JSON answer
        assert hook.status_code == 503 and "Redis at 127.0.0.1:" in hook.json()["message"]
