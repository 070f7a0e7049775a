"""No secret in any log of the shipped stack (issue #30): nginx (deploy/nginx.conf: error and access logs), gunicorn
(the Procfile's web, its own log and the app's, at DEBUG) and a worker (`intermission worker --burst`, DEBUG).

The story goes through nginx as a host's deliveries do: a mission created in the Boond sandbox, its webhook, the
worker's writes; then every way a request with the secret in its path makes a server write an error: a body over
the limit (413), a malformed chunked body, the web process down (502), the secret's path in the spellings a lenient
server still routes (`//`, `%77ebhooks`, backslashes). Then every log file is searched for every secret.
"""
from __future__ import annotations

import json
import socket
import subprocess
import sys
from datetime import date, timedelta

import pytest
import requests

from tests.e2e.proc_helpers import child_env as deployed_env
from tests.reliability.slow_clients import free_ports, start_gunicorn, start_nginx
from connectors.boond.settings import boond_settings

pytestmark = pytest.mark.slow


def _raw(port: int, request: bytes) -> bytes:
    """Send bytes as they are (no client library fixes them) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        chunks = []
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
        except OSError:
            pass
    return b"".join(chunks)


def _chunked(path: str, body: bytes) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode() + body


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0


@pytest.fixture
def shipped(redis_conn, tmp_path, request):
    """The Boond sandbox (and its tenant) in this process; gunicorn and nginx as deployed, at DEBUG (nginx's error
    log at the level a test's `nginx_error_level` mark names, else the shipped `crit`)."""
    from config.infra.redis_conn import redis_url_for_children
    from sandboxes.stack import Stack

    mark = request.node.get_closest_marker("nginx_error_level")
    env = deployed_env(redis_url_for_children(), INTERMISSION_LOG_LEVEL="DEBUG")
    front, back = free_ports(2)
    with Stack("logs-acme") as stack:
        web = start_gunicorn(env, back, tmp_path / "gunicorn.log")
        nginx = start_nginx(tmp_path / "nginx", listen=front, upstream=back,
                            error_level=mark.args[0] if mark else "crit")
        try:
            yield stack, env, front, back, web, nginx
        finally:
            nginx.stop()
            web.stop()


def _leaks(tmp_path, secrets: dict[str, str]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Every log file of the story, and which secrets each holds."""
    logs = {p.relative_to(tmp_path).as_posix(): p.read_text(errors="replace")
            for p in sorted(tmp_path.rglob("*.log"))}  # nginx's error log included, empty or not
    leaks = {name: [what for what, value in secrets.items() if value in text] for name, text in logs.items()}
    return logs, {name: found for name, found in leaks.items() if found}


def test_no_secret_in_any_log_of_the_shipped_stack(shipped, tmp_path):
    stack, env, front, back, web, nginx = shipped
    base = f"http://127.0.0.1:{front}"
    tenant, url = stack.tenant, stack.tenant.webhook_url(base)
    path = url[len(base):]
    stack.control("POST", "/_control/webhooks", json={"url": url, "events": ["delivery"]})
    today = date.today()
    stack.new_mission(today - timedelta(days=60), today + timedelta(days=20))
    assert stack.events(), "the sandbox delivered no webhook"
    done = subprocess.run([sys.executable, "-m", "intermission_cli.main", "worker", "--burst"], env=env,
                          capture_output=True, text=True, timeout=300)
    (tmp_path / "worker.log").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, done.stderr[-2000:]
    assert stack.actions(), "the story wrote no action in the host"

    answers = {
        "too large": requests.post(url, data=b"{" + b" " * (2 << 20) + b"}", timeout=30,
                                   headers={"Content-Type": "application/json"}).status_code,
        "bad chunked, nginx": _status(_raw(front, _chunked(path, b"zz\r\n{}\r\n0\r\n\r\n"))),
        "bad chunked, gunicorn": _status(_raw(back, _chunked(path, b"zz\r\n{}\r\n0\r\n\r\n"))),
    }
    tenant_id, secret = tenant.id, tenant.webhook_secret
    for spelling in (f"//webhooks/boond/{tenant_id}/{secret}", f"/%77ebhooks/boond/{tenant_id}/{secret}",
                     f"/webhooks\\boond\\{tenant_id}\\{secret}", f"/webhooks/boond/{tenant_id}//{secret}"):
        for port in (front, back):
            answers[f"{spelling[:12]} via {port}"] = _status(_raw(port, (
                f"POST {spelling} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: 2\r\nConnection: close\r\n\r\n{{}}").encode()))
    web.stop()  # a deploy or a crash: nginx cannot reach gunicorn
    answers["web down"] = requests.post(url, json={"data": {}}, timeout=30).status_code
    assert answers["too large"] == 413 and answers["web down"] == 502, answers
    # a malformed chunked body is the client's fault: 400, from nginx and from gunicorn alone (it was a 503)
    assert answers["bad chunked, nginx"] == answers["bad chunked, gunicorn"] == 400, answers
    assert "Traceback" not in (tmp_path / "gunicorn.log").read_text()
    nginx.stop()  # flush

    secrets = {"webhook secret": secret, "app token": boond_settings(tenant).app_token, "app key": boond_settings(tenant).app_key,
               "user token": boond_settings(tenant).user_token}
    logs, leaks = _leaks(tmp_path, secrets)
    print(json.dumps({"test": "secrets-every-log", "logs": {n: t.count("\n") for n, t in logs.items()},
                      "answers": answers, "leaks": leaks}))
    assert {"gunicorn.log", "worker.log", "nginx/access.log", "nginx/nginx.log"} <= set(logs), sorted(logs)
    assert '"level": "DEBUG"' in logs["gunicorn.log"] and '"level": "DEBUG"' in logs["worker.log"]
    assert leaks == {}, {name: [line[:240] for line in logs[name].splitlines()
                                if any(secrets[w] in line for w in found)][:3] for name, found in leaks.items()}


@pytest.mark.nginx_error_level("info")
def test_with_the_secret_in_a_header_not_even_an_nginx_error_line_holds_it(shipped, tmp_path):
    """The header form (`Authorization: Bearer`, path `/webhooks/boond/<tenant>`) with nginx's error log at `info`:
    the lines nginx writes for a 413, a bad chunked body and an upstream down carry the request line, and so a path
    secret (a decoy shows it); the header's secret is in none of them, nor in any other log."""
    stack, env, front, back, web, nginx = shipped
    base = f"http://127.0.0.1:{front}"
    tenant = stack.tenant
    endpoint, auth = tenant.webhook_endpoint(base), f"Authorization: Bearer {tenant.webhook_secret}\r\n"
    headers = {"Authorization": f"Bearer {tenant.webhook_secret}", "Content-Type": "application/json"}
    mission = stack.create_delivery(date.today(), date.today() + timedelta(days=30), deliver=False)["data"]["id"]
    event = {"data": {"id": "evt-header", "type": "webhookevent", "attributes": {"type": "update"},
                      "relationships": {"dependsOn": {"data": {"id": mission, "type": "delivery"}}}}}
    decoy = "decoy-path-secret-0123456789abcdef"
    answers = {
        "header form": requests.post(endpoint, json=event, headers=headers, timeout=30).status_code,
        "again": requests.post(endpoint, json=event, headers=headers, timeout=30).status_code,
        "too large": requests.post(endpoint, data=b"{" + b" " * (2 << 20) + b"}", headers=headers,
                                   timeout=30).status_code,
        "decoy too large": requests.post(f"{endpoint}/{decoy}", data=b"{" + b" " * (2 << 20) + b"}", timeout=30,
                                         headers={"Content-Type": "application/json"}).status_code,
        "bad chunked, nginx": _status(_raw(front, _chunked(endpoint[len(base):], b"zz\r\n{}\r\n0\r\n\r\n").replace(
            b"Connection: close\r\n", b"Connection: close\r\n" + auth.encode()))),
    }
    web.stop()  # a deploy or a crash: nginx cannot reach gunicorn
    answers["web down"] = requests.post(endpoint, json=event, headers=headers, timeout=30).status_code
    nginx.stop()  # flush
    assert answers == {"header form": 202, "again": 204, "too large": 413, "decoy too large": 413,
                       "bad chunked, nginx": 400, "web down": 502}, answers

    secrets = {"webhook secret": tenant.webhook_secret, "app token": boond_settings(tenant).app_token,
               "app key": boond_settings(tenant).app_key, "user token": boond_settings(tenant).user_token}
    logs, leaks = _leaks(tmp_path, secrets)
    error_lines = [line for line in logs["nginx/nginx.log"].splitlines() if "[error]" in line and "request:" in line]
    print(json.dumps({"test": "secrets-header-form", "logs": {n: t.count("\n") for n, t in logs.items()},
                      "nginx_error_lines": len(error_lines), "answers": answers, "leaks": leaks}))
    # nginx did write its error lines, the request line in each: a secret in the path would be there
    assert any(decoy in line for line in error_lines), logs["nginx/nginx.log"][-2000:]
    assert sum(f'"POST {endpoint[len(base):]} HTTP/1.1"' in line for line in error_lines) >= 2, error_lines
    assert leaks == {}, {name: [line[:240] for line in logs[name].splitlines()
                                if any(secrets[w] in line for w in found)][:3] for name, found in leaks.items()}
