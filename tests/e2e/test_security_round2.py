"""Security, second round (issue #30): sign-in bound to the browser and throttled without a name oracle, admin links
revocable, headers on every page, escaped CSV cells, operator URLs checked, a key mismatch named.

The web app runs in this process (Flask's test client, which keeps cookies like a browser and lets each request
come from its own address) on the real Redis."""
from __future__ import annotations

import re

import pytest
from werkzeug.security import generate_password_hash

from config import tenants
from connectors.boond.settings import BoondConfig

PASSWORD = "a long enough password"


@pytest.fixture
def app(redis_conn):
    from webhooks.app import create_app

    tenants.save(tenants.Tenant(id="acme", host="boond", name="Acme ESN", admin_password_hash=generate_password_hash(PASSWORD),
                                host_settings=BoondConfig(app_token="t", app_key="k", user_token="u")))
    return create_app()


def _browser(app, addr: str = "203.0.113.7"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = addr
    return client


def _csrf(browser) -> str:
    page = browser.get("/admin/login?lang=en").get_data(as_text=True)
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def _sign_in(browser, csrf: str, name: str, password: str):
    return browser.post("/admin/login", data={"tenant": name, "password": password, "csrf": csrf})


def test_a_sign_in_form_token_works_only_in_the_browser_that_loaded_the_form(app):
    attacker = _browser(app)
    token = _csrf(attacker)  # the attacker's own form, posted from his page by the victim's browser
    victim = _browser(app)
    assert _sign_in(victim, token, "acme", PASSWORD).status_code == 403  # login CSRF: refused, no admin link
    assert _sign_in(attacker, token, "acme", PASSWORD).status_code == 302  # the browser that loaded it signs in


def test_made_up_names_and_real_workspaces_are_throttled_alike(app):
    browser = _browser(app)
    csrf = _csrf(browser)
    for _ in range(5):
        assert _sign_in(browser, csrf, "nobody-here", "guess").status_code == 401
    assert _sign_in(browser, csrf, "nobody-here", "guess").status_code == 429  # that name is locked for this address
    # another made-up name and the real workspace answer the same: no shared counter tells which names exist
    assert _sign_in(browser, csrf, "nobody-else", "guess").status_code == 401
    assert _sign_in(browser, csrf, "acme", "guess").status_code == 401


def test_many_addresses_share_the_workspace_ceiling(app):
    tries = []
    for i in range(30):  # 30 addresses, a few guesses each: once the workspace has 20 failures, every address stops
        browser = _browser(app, f"198.51.100.{i + 1}")
        csrf = _csrf(browser)
        tries += [_sign_in(browser, csrf, "acme", f"guess-{i}-{k}").status_code for k in range(5)]
    assert tries.count(401) == 20 and set(tries) == {401, 429}


def test_one_address_is_throttled_across_workspaces(app):
    browser = _browser(app, "192.0.2.9")
    csrf = _csrf(browser)
    answers = [_sign_in(browser, csrf, f"name-{i}", "guess").status_code for i in range(25)]
    assert answers[:20] == [401] * 20 and set(answers[20:]) == {429}


def _admin(app, token: str):
    return app.test_client().get("/admin/", query_string={"a": token, "lang": "en"})


def test_a_password_change_revokes_the_admin_links_made_before(app):
    from webhooks.admin.auth import admin_token

    token = admin_token("acme", "login")
    assert _admin(app, token).status_code == 200
    tenant = tenants.get("acme")
    tenants.save(tenant.model_copy(update={"admin_password_hash": generate_password_hash("a new long password")}))
    assert _admin(app, token).status_code == 401
    assert _admin(app, admin_token("acme", "login")).status_code == 200


def test_an_admin_link_does_not_open_a_workspace_re_created_under_the_same_id(app):
    from webhooks.admin.auth import admin_token

    token = admin_token("acme", "login")  # the old customer's link
    tenants.remove("acme")
    tenants.save(tenants.Tenant(id="acme", host="boond", name="Another customer", host_settings=BoondConfig(app_token="t")))
    assert _admin(app, token).status_code == 401


def test_every_page_is_not_cached_not_referred_and_not_framed_by_strangers(app):
    client = app.test_client()
    for path in ("/admin/login", "/salesforce/connect?t=forged", "/salesforce/callback?state=x", "/boond/configure",
                 "/nowhere"):
        answer = client.get(path)
        headers = answer.headers
        assert headers.get("Cache-Control") == "no-store", (path, answer.status_code)
        assert headers.get("Referrer-Policy") == "no-referrer", path
        assert "frame-ancestors" in headers.get("Content-Security-Policy", ""), path
        assert "*" not in headers["Content-Security-Policy"], path


def test_frame_ancestors_name_the_tenants_own_host_origin_only(app):
    from webhooks.admin.auth import admin_token

    tenants.save(tenants.Tenant(id="acme-boond", host="boond", host_settings=BoondConfig(
        base_url="https://acme.boondmanager.com/api", app_token="t", app_key="k", user_token="u")))
    tenants.save(tenants.Tenant(id="other-boond", host="boond", host_settings=BoondConfig(
        base_url="https://other.boondmanager.com/api", app_token="t", app_key="k", user_token="u")))
    policy = _admin(app, admin_token("acme-boond", "boond-iframe")).headers["Content-Security-Policy"]
    assert policy == "frame-ancestors 'self' https://acme.boondmanager.com"
    assert "other" not in policy and "*" not in policy


def test_an_unknown_tenant_costs_the_same_decrypt_as_a_wrong_secret(app, monkeypatch):
    import statistics
    import time

    from config import tenants as tenant_store
    from webhooks import common

    decrypted = []
    real = tenant_store.crypto.decrypt
    monkeypatch.setattr(tenant_store.crypto, "decrypt", lambda blob: decrypted.append(len(blob)) or real(blob))
    tenants.save(tenants.Tenant(id="known-boond", host="boond", host_settings=BoondConfig(
        base_url="https://ui.boondmanager.com/api", app_token="t" * 40, app_key="k" * 40, user_token="u" * 40)))
    work = {}
    for name, tenant_id in (("wrong secret", "known-boond"), ("unknown tenant", "unknown-boond")):
        decrypted.clear()
        assert common.authenticate_known(tenant_id, "not-the-secret", "boond") is None
        assert common.authenticate(tenant_id, "not-the-secret", "boond") is None
        work[name] = list(decrypted)
    assert len(work["unknown tenant"]) == len(work["wrong secret"]) == 2  # one decrypt per check, either way
    sizes = [n for found in work.values() for n in found]
    assert max(sizes) - min(sizes) < 200  # records of about the same size
    timings = {}
    for name, tenant_id in (("wrong secret", "known-boond"), ("unknown tenant", "unknown-boond")):
        runs = []
        for _ in range(200):
            started = time.perf_counter()
            common.authenticate_known(tenant_id, "not-the-secret", "boond")
            runs.append(time.perf_counter() - started)
        timings[name] = round(statistics.median(runs) * 1e6, 1)
    print({"test": "unknown-tenant-work", "median_us": timings})


def test_bench_csv_cells_that_a_spreadsheet_would_run_stay_text():
    import csv
    import io

    from webhooks.admin.views_bench import csv_cells

    row = csv_cells(['=HYPERLINK("http://evil.example","x")', "+33 6", "-2+3", "@SUM(A1)", "\tx", "Jean", 11, "2026-03-13"])
    out = io.StringIO()
    csv.writer(out).writerow(row)
    cells = next(csv.reader(io.StringIO(out.getvalue())))
    assert [c[0] for c in cells[:5]] == ["'"] * 5 and cells[5:] == ["Jean", "11", "2026-03-13"]


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data", "https://169.254.169.254/api",
                                 "file:///etc/passwd", "https://metadata.google.internal/api", "http://[fe80::1]/api",
                                 "https://[fd00:ec2::254]/api", "http://ui.boondmanager.com/api",
                                 "https://user:pw@ui.boondmanager.com/api", "https://0.0.0.0/api",
                                 "http://127.0.0.1:9/api"])
def test_an_operator_set_boond_url_that_would_leak_the_token_is_refused(redis_conn, child_env, url):
    import subprocess
    import sys

    env = {**child_env, "INTERMISSION_ALLOW_SANDBOX_HOSTS": "false"}
    done = subprocess.run([sys.executable, "-m", "intermission_cli.main", "tenant", "add", "boond", "--id", "leaky",
                           "--base-url", url, "--app-token", "t", "--app-key", "k"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0 and "--base-url" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert tenants.get("leaky") is None


def test_test_connection_never_sends_the_token_to_a_metadata_address(app, monkeypatch):
    """A tenant stored before the check (or edited in Redis): "Test connection" refuses, naming the address."""
    import requests

    from config.settings import get_settings
    from webhooks.admin.auth import admin_token, csrf_token

    monkeypatch.setattr(get_settings(), "allow_sandbox_hosts", False)
    sent = []
    monkeypatch.setattr(requests.Session, "request", lambda *a, **k: sent.append(a) or pytest.fail("sent"))
    tenants.save(tenants.Tenant(id="leaky", host="boond", host_settings=BoondConfig(
        base_url="http://169.254.169.254/latest", app_token="t" * 20, app_key="k" * 20, user_token="u" * 20)))
    token = admin_token("leaky", "test")
    page = app.test_client().post("/admin/test", data={"a": token, "csrf": csrf_token(token), "lang": "en"})
    assert page.status_code == 200 and "metadata" in page.get_data(as_text=True) and sent == []


def test_the_sandbox_setting_still_allows_a_loopback_http_boond():
    from config.infra.urls import checked_host_url

    assert checked_host_url("http://127.0.0.1:8001/api") == "http://127.0.0.1:8001/api"  # tests run with it on
    assert checked_host_url("https://ui.boondmanager.com/api") == "https://ui.boondmanager.com/api"


def test_a_key_mismatch_is_named_in_the_log_and_in_readyz_not_a_traceback(app, monkeypatch, caplog):
    from config.infra import crypto
    from config.settings import get_settings
    from tests.conftest import METRICS_TOKEN

    tenants.save(tenants.Tenant(id="other-key", host="boond", host_settings=BoondConfig(app_token="t", app_key="k")))
    secret = tenants.get("other-key").webhook_secret
    monkeypatch.setattr(get_settings(), "secret_keys", crypto.generate_key())  # this process: another key only
    crypto.reset_keys()
    try:
        client = app.test_client()
        with caplog.at_level("INFO"):
            answer = client.post(f"/webhooks/boond/other-key/{secret}", json={"data": {}})
            again = client.post(f"/webhooks/boond/other-key/{secret}", json={"data": {}})
        assert answer.status_code == again.status_code == 503 and answer.headers["Retry-After"]
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert "Traceback" not in caplog.text and "unexpected error" not in logged
        assert logged.count("'other-key' was stored with an encryption key") == 1  # named once, with the fix
        assert "INTERMISSION_SECRET_KEYS" in logged
        ready = client.get("/readyz", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).get_json()
        assert any("other-key" in r and "INTERMISSION_SECRET_KEYS" in r for r in ready["reasons"]), ready
    finally:
        monkeypatch.undo()
        crypto.reset_keys()
    tenants.get("other-key")  # read with the right key again: no longer reported
    assert "other-key" not in tenants.key_mismatches()
