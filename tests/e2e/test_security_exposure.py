"""Exposure (issue #13, item 4): /metrics and readiness details behind a bearer token, secrets redacted whatever the
path's spelling, `tenant show` masked unless --reveal, sign-in with no tell and no key per name, bounded form fields."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import requests

from config.infra.logs import redact
from config.settings import get_settings
from tests.conftest import METRICS_TOKEN
from webhooks.admin.auth import admin_token, csrf_token
from connectors.boond.settings import boond_settings

BEARER = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def test_metrics_need_the_bearer_token(stack):
    base = stack.web.url
    refused = requests.get(base + "/metrics", timeout=5)
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert requests.get(base + "/metrics", headers={"Authorization": "Bearer wrong"}, timeout=5).status_code == 401
    scraped = requests.get(base + "/metrics", headers=BEARER, timeout=5)
    assert scraped.status_code == 200 and "intermission_" in scraped.text


def test_without_a_token_configured_metrics_are_not_served(stack, monkeypatch):
    monkeypatch.setattr(get_settings(), "metrics_token", None)
    answer = requests.get(stack.web.url + "/metrics", headers=BEARER, timeout=5)
    assert answer.status_code == 404 and "INTERMISSION_METRICS_TOKEN" in answer.json()["message"]


def test_readiness_details_need_the_token_probes_get_the_status(stack):
    probe = requests.get(stack.web.url + "/readyz?scope=web", timeout=5)
    assert probe.status_code == 200 and probe.json() == {"status": "ready"}
    detailed = requests.get(stack.web.url + "/readyz?scope=web", headers=BEARER, timeout=5).json()
    assert set(detailed) > {"status"}


@pytest.mark.parametrize("path", ["/webhooks/BOOND/acme/{s}", "/webhooks/boond%2Facme%2F{s}", "/webhooks%2Fboond%2Facme%2F{s}",
                                  "/webhooks/ｂｏｏｎｄ/acme/{s}", "/ｗｅｂｈｏｏｋｓ/boond/acme/{s}",
                                  "/webhooks/boond/ACME/{s}/extra", "/webhooks/boond/acme/{s}%2Fx",
                                  # issue #30: the spellings a lenient server or proxy still routes
                                  "//webhooks/boond/acme/{s}", "/webhooks/boond/acme//{s}", "/%77ebhooks/boond/acme/{s}",
                                  "/%2577ebhooks/boond/acme/{s}", "/webhooks\\boond\\acme\\{s}",
                                  "/webhooks%5Cboond%5Cacme%5C{s}", "/webhooks/boond/acme/%5A{s}"])
def test_the_webhook_secret_is_redacted_whatever_the_path_spelling(path):
    secret = "Zq3wX9kLmN0pQrStUvWxYz0123456789"
    line = f'127.0.0.1 - - "POST {path.format(s=secret)} HTTP/1.1" 404 -'
    assert secret not in redact(line)


def test_non_canonical_webhook_paths_leave_no_secret_in_debug_logs(stack, caplog):
    secret = stack.tenant.webhook_secret
    with caplog.at_level("DEBUG"):
        for path in (f"/webhooks/BOOND/{stack.tenant_id}/{secret}", f"/webhooks/boond%2F{stack.tenant_id}%2F{secret}",
                     f"//webhooks/boond/{stack.tenant_id}/{secret}", f"/%77ebhooks/boond/{stack.tenant_id}/{secret}",
                     f"/webhooks\\boond\\{stack.tenant_id}\\{secret}", f"/webhooks/boond/{stack.tenant_id}//{secret}"):
            requests.post(stack.web.url + path, json={}, timeout=5)
    from config.infra.logs import JsonFormatter

    text = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert secret not in text


def _cli(env, *args) -> str:
    done = subprocess.run([sys.executable, "-m", "intermission_cli.main", *args], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_tenant_show_masks_every_credential_and_secret_url_unless_reveal(stack, child_env):
    tenant = stack.tenant
    secrets = [tenant.webhook_secret, boond_settings(tenant).app_token, boond_settings(tenant).app_key, boond_settings(tenant).user_token]
    for args in (["tenant", "show", stack.tenant_id], ["tenant", "show", stack.tenant_id, "--json"]):
        out = _cli(child_env, *args)
        assert [s for s in secrets if s and s in out] == []
    revealed = json.loads(_cli(child_env, "tenant", "show", stack.tenant_id, "--json", "--reveal"))
    assert revealed["webhook_url"].endswith("/" + tenant.webhook_secret)
    assert revealed["host_settings"]["app_token"] == boond_settings(tenant).app_token


def _login_form(base: str) -> tuple[requests.Session, str]:
    """A browser that loaded the sign-in form, and the form's token (bound to that browser's cookie)."""
    browser = requests.Session()
    page = browser.get(f"{base}/admin/login", timeout=10).text
    return browser, re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def test_an_unknown_workspace_costs_the_same_password_check_and_leaves_no_key_per_name(stack, redis_conn, monkeypatch):
    from webhooks.admin import views_main

    checks = []
    real = views_main.check_password_hash
    monkeypatch.setattr(views_main, "check_password_hash", lambda h, p: checks.append(h) or real(h, p))
    browser, csrf = _login_form(stack.web.url)
    for name in ("nobody-1", "nobody-2", "nobody-3", stack.tenant_id):  # the stack's tenant has no password set
        answer = browser.post(f"{stack.web.url}/admin/login", data={"tenant": name, "password": "guess",
                                                                     "csrf": csrf}, timeout=10)
        assert answer.status_code == 401
    assert len(checks) == 4  # one real-cost check each: unknown and password-less workspaces look alike
    unknown = [k for k in redis_conn.scan_iter(match="im:login:*")]
    assert len(unknown) == 3  # the address's counters, the made-up names' (one hash), the global one
    assert not [k for k in redis_conn.scan_iter() if b"nobody" in k]  # none per made-up name


def test_a_five_thousand_digit_offset_is_a_field_error_not_a_503(stack):
    token = admin_token(stack.tenant_id, "test")
    form = {"a": token, "csrf": csrf_token(token), "lang": "en", "enabled": "on", "title_fr": "t", "title_en": "t",
            "text_fr": "x", "text_en": "x", "offset_days": "9" * 5000, "offset_unit": "business",
            "offset_anchor": "end", "assignee": "manager", "priority": "normal"}
    answer = requests.post(f"{stack.web.url}/admin/playbook/natural.handover", data=form, timeout=10)
    assert answer.status_code == 400 and "offset" in answer.text.lower()


def test_a_five_thousand_digit_action_type_is_a_field_error_not_a_503(stack):
    token = admin_token(stack.tenant_id, "test")
    answer = requests.post(f"{stack.web.url}/admin/mapping", data={"a": token, "csrf": csrf_token(token),
                                                                    "type_task": "7" * 5000}, timeout=10)
    assert answer.status_code == 400
