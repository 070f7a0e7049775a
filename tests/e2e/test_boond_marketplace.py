"""Boond marketplace lifecycle end to end: the sandbox installs, configures, uninstalls and reinstalls the app."""
from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest

from config import tenants
from config.settings import get_settings
from connectors.boond.marketplace import REFRESH_HEADER, encode_signed_request, refresh_app_token
from connectors.boond.tokens import AppTokens
from connectors.errors import HostAuthError
from tests.e2e.helpers import markers, settle
from tests.e2e.market_helpers import APP_KEY, CLIENT_TOKEN, redis_dump, stored_text
from connectors.boond.settings import boond_settings
from handlers.hosts.boond import marketplace

T0 = date(2026, 3, 2)
REFRESH_ROUTE = "POST /api/marketplace/refresh-token"


@pytest.fixture(params=["documented", "observed"])
def market(redis_conn, monkeypatch, request):
    """The marketplace stack (as in conftest) on each sandbox dialect: the flow must hold on both."""
    from config.infra import clock
    from tests.e2e.market_helpers import MarketStack

    monkeypatch.setenv("INTERMISSION_BOOND_APP_KEY", APP_KEY)
    with MarketStack(dialect=request.param) as running:
        monkeypatch.setenv("INTERMISSION_BOOND_BASE_URL", running.sandbox.url + "/api")
        get_settings.cache_clear()
        clock.pin(date(2026, 3, 2))
        yield running
    monkeypatch.undo()
    get_settings.cache_clear()


def _planned(market) -> tuple[str, list[dict]]:
    """Install, configure, create a mission and let the worker plan it."""
    market.market("install")
    assert market.configure()["registered"] is True
    mission = market.new_mission(date(2025, 11, 3), date(2026, 4, 16))
    settle()
    return mission, market.actions()


def test_install_creates_a_tenant_that_waits_for_its_technical_user(market, redis_conn):
    answer = market.market("install")
    assert answer["installed"] is True
    assert [c["body"] for c in answer["calls"]] == [{"result": True}, {"result": True}]
    tenant = market.installed()
    assert tenant.id == marketplace.boond_tenant_id(CLIENT_TOKEN) and tenant.name == "ESN Sandbox"
    assert (tenant.status, tenant.enabled, boond_settings(tenant).user_token) == ("needs_configuration", False, None)
    assert AppTokens(redis_conn, tenant.id).load()["app_token"] == answer["appToken"]
    market.new_mission(date(2025, 11, 3), date(2026, 4, 16))
    settle()
    assert market.actions() == [] and market.api_webhooks() == []  # nothing happens before configuration


def test_a_configured_install_holds_its_changes_until_the_set_up_ends(market, redis_conn):
    from handlers.sync import holds
    from handlers.sync import setup

    market.market("install")
    assert market.configure(finish_setup=False)["configured"] is True
    assert market.tenant.setup_complete is False
    mission = market.new_mission(date(2025, 11, 3), date(2026, 4, 16))
    settle()
    assert market.actions() == []  # queued and held, not written and not lost
    assert holds.held(redis_conn, market.tenant.id)[mission]["reason"] == holds.SETUP_INCOMPLETE
    assert setup.finish(redis_conn, market.tenant)["resumed"] == [mission]
    settle()
    assert markers(market.actions())


def test_configure_registers_the_webhook_and_deliveries_become_actions(market):
    market.market("install")
    result = market.configure()
    tenant = market.tenant
    assert result["configured"] and result["registered"] and result["user"] == "Alex Admin"
    assert (tenant.status, tenant.enabled, boond_settings(tenant).user_token) == ("active", True, "sbx-user-admin")
    [hook] = market.api_webhooks()
    assert hook["url"] == tenant.webhook_url(market.web.url) == result["url"]
    assert boond_settings(tenant).webhook_id == hook["id"] == result["webhook_id"]
    assert "action" not in hook["events"] and set(hook["events"]) == {"delivery", "resource", "opportunity"}
    made = market.create_delivery(date(2025, 11, 3), date(2026, 4, 16))
    assert [d["status"] for d in made["deliveries"]] == [202]
    settle()
    counts = markers(market.actions())
    assert counts and set(counts.values()) == {1}
    assert all(m.startswith(f"intermission:{made['data']['id']}/natural.") for m in counts)


def test_configure_twice_keeps_a_single_webhook(market):
    market.market("install")
    first = market.configure()
    second = market.configure()
    assert [h["id"] for h in market.api_webhooks()] == [first["webhook_id"]] == [second["webhook_id"]]


def test_a_refused_webhook_registration_gives_the_url_to_paste(market):
    market.control("POST", "/_control/config", json={"webhooks_api_allowed": False})
    market.market("install")
    result = market.configure()
    assert result["configured"] is True and result["registered"] is False
    assert result["url"] == market.tenant.webhook_url(market.web.url) and "paste" in result["reason"]
    assert market.tenant.enabled and market.api_webhooks() == []
    market.control("POST", "/_control/webhooks", json={"url": result["url"], "events": ["delivery", "resource"]})
    market.new_mission(date(2025, 11, 3), date(2026, 4, 16))
    settle()
    assert market.actions()


def test_a_user_token_boond_refuses_configures_nothing(market):
    market.market("install")
    from handlers.hosts.boond.marketplace import configure_boond_tenant

    result = configure_boond_tenant(market.installed().id, "not-a-user", base_url=market.web.url)
    assert result["configured"] is False and "refused" in result["reason"]
    assert market.installed().status == "needs_configuration" and market.api_webhooks() == []


def _flip(text: str, at: int) -> str:
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1:]


def _tampered() -> dict[str, str | None]:
    good = encode_signed_request({"clientToken": CLIENT_TOKEN, "appToken": "evil", "issued_at": int(time.time())},
                                 APP_KEY)
    signature, payload = good.split(".")
    return {"signature byte": f"{_flip(signature, 10)}.{payload}", "payload byte": f"{signature}.{_flip(payload, 12)}",
            "wrong key": encode_signed_request({"clientToken": CLIENT_TOKEN, "appToken": "evil"}, "another-key"),
            "missing": None, "garbage": "not a signed request"}


@pytest.mark.parametrize("call", ["install", "validate", "uninstall"])
def test_a_tampered_or_missing_signed_request_is_refused_and_changes_nothing(market, redis_conn, call):
    _planned(market)
    before, actions, tenant = redis_dump(redis_conn), market.actions(), market.installed()
    for name, signed in _tampered().items():
        for as_json in (False, True):
            answer = market.post_to(call, signed, as_json=as_json)
            assert answer.status_code == 401, (name, answer.text)
            assert answer.json()["result"] is False and "signedRequest" in answer.json()["error"], name
    assert redis_dump(redis_conn) == before and market.actions() == actions
    assert market.installed() == tenant


def test_a_good_signed_request_is_also_accepted_as_json(market):
    signed = encode_signed_request({"installationCode": ""}, APP_KEY)
    answer = market.post_to("install", signed, as_json=True)
    assert answer.status_code == 200 and answer.json() == {"result": True}


def test_without_an_app_key_the_marketplace_endpoints_say_so(market, monkeypatch):
    monkeypatch.delenv("INTERMISSION_BOOND_APP_KEY")
    get_settings.cache_clear()
    answer = market.post_to("install", encode_signed_request({"installationCode": ""}, APP_KEY))
    assert answer.status_code == 503 and "INTERMISSION_BOOND_APP_KEY" in answer.json()["error"]


def test_a_wrong_installation_code_stops_the_install(market, monkeypatch):
    monkeypatch.setenv("INTERMISSION_BOOND_INSTALLATION_CODE", "esn-2026")
    get_settings.cache_clear()
    refused = market.market("install", installation_code="guess")
    assert refused["installed"] is False and refused["calls"][0]["status"] == 403
    assert market.installed() is None
    assert market.market("install", installation_code="esn-2026")["installed"] is True


def test_uninstall_forgets_secrets_stops_work_and_leaves_boond_untouched(market, redis_conn):
    mission, actions = _planned(market)
    old_url, tenant_id = market.webhook_url, market.tenant.id
    app_token = AppTokens(redis_conn, tenant_id).load()["app_token"]
    assert market.market("uninstall")["uninstalled"] is True
    tenant = market.installed()
    assert (tenant.status, tenant.enabled, boond_settings(tenant).user_token, boond_settings(tenant).app_key) == (
        "uninstalled", False, None, None)
    text = stored_text(redis_conn)
    for secret in (app_token, "sbx-user-admin", APP_KEY, old_url.rsplit("/", 1)[1]):
        assert secret not in text, secret
    assert redis_conn.exists(f"im:t:{tenant_id}:ledger:{mission}", f"im:t:{tenant_id}:mission:{mission}") == 2
    moved = market.move_end(mission, date(2026, 5, 7))
    assert [d["status"] for d in moved["deliveries"]] == [404]  # the old webhook URL is dead
    assert market.http.post(old_url, json=moved["events"][0], timeout=30).status_code == 404
    settle()
    assert market.actions() == actions  # nothing deleted or changed in Boond


def test_reinstall_finds_the_same_tenant_and_writes_no_duplicates(market, redis_conn):
    mission, first = _planned(market)
    tenant_id = market.tenant.id
    market.market("uninstall")
    market.move_end(mission, date(2026, 5, 7))  # missed while uninstalled
    assert market.market("install")["installed"] is True
    assert market.installed().id == tenant_id and market.tenant.status == "needs_configuration"
    result = market.configure()
    assert result["registered"] and result["resynced"] == 1
    assert [h["url"] for h in market.api_webhooks()] == [market.webhook_url]  # the stale registration is gone
    settle()
    after = market.actions()
    assert sorted(a["id"] for a in after) == sorted(a["id"] for a in first)  # rescheduled, none added
    assert any(a["attributes"]["startDate"] != b["attributes"]["startDate"] for a, b in zip(after, first))
    replay = market.move_end(mission, date(2026, 5, 7))
    assert market.post_webhook(replay["events"][0]).status_code in (202, 204)
    settle()
    counts = markers(market.actions())
    assert set(counts.values()) == {1} and len(counts) == len(first)


def test_an_expired_temporary_token_is_refreshed_once_and_work_goes_on(market, redis_conn):
    market.control("POST", "/_control/config", json={"app_token_ttl_seconds": 3600})
    installed = market.market("install")
    assert installed["refreshToken"] and installed["expiresIn"] == 3600
    market.configure()
    stored = AppTokens(redis_conn, market.tenant.id).load()
    assert stored["refresh_token"] == installed["refreshToken"] and stored["expires_at"] > time.time() + 3000
    assert market.market("expire-tokens")["expired"] == 1
    market.control("POST", "/_control/calls/reset")
    mission = market.new_mission(date(2025, 11, 3), date(2026, 4, 16))
    market.new_mission(date(2026, 6, 1), date(2026, 9, 30), title="Second mission")
    settle()
    calls = market.calls()
    assert calls["by_route"].get(REFRESH_ROUTE) == 1 and calls["by_status"].get("401") == 1
    fresh = AppTokens(redis_conn, market.tenant.id).load()["app_token"]
    live = {t["appToken"]: t for t in market.control("GET", "/_control/marketplace/tokens")["tokens"]}
    assert set(live) == {fresh} and not live[fresh]["expired"]
    assert any(m.startswith(f"intermission:{mission}/") for m in markers(market.actions()))


def test_a_token_past_its_expiry_is_refreshed_before_the_first_call(market, redis_conn):
    market.control("POST", "/_control/config", json={"app_token_ttl_seconds": 3600})
    market.market("install")
    market.configure()
    tokens = AppTokens(redis_conn, market.tenant.id)
    record = tokens.load()
    tokens.store(record["app_token"], record["refresh_token"], time.time() - 5)
    market.control("POST", "/_control/calls/reset")
    market.new_mission(date(2025, 11, 3), date(2026, 4, 16))
    settle()
    calls = market.calls()
    assert calls["by_route"].get(REFRESH_ROUTE) == 1 and "401" not in calls["by_status"]
    assert market.actions()


def test_validate_replaces_the_tokens_and_work_goes_on(market, redis_conn):
    market.market("install")
    market.configure()
    validated = market.market("validate")
    assert validated["validated"] is True
    assert AppTokens(redis_conn, market.tenant.id).load()["app_token"] == validated["appToken"]
    market.new_mission(date(2025, 11, 3), date(2026, 4, 16))
    settle()
    assert market.actions()


def test_a_refused_refresh_says_what_the_admin_must_do(market, redis_conn):
    market.control("POST", "/_control/config", json={"app_token_ttl_seconds": 3600})
    installed = market.market("install")
    with pytest.raises(HostAuthError):
        refresh_app_token(market.sandbox.url + "/api", installed["appToken"], "not-the-refresh-token", app_key=APP_KEY)
    new_token, new_refresh, expires_at = refresh_app_token(market.sandbox.url + "/api", installed["appToken"],
                                                           installed["refreshToken"], app_key=APP_KEY)
    assert new_token != installed["appToken"] and new_refresh != installed["refreshToken"]
    assert expires_at > time.time() + 3000
    tokens = AppTokens(redis_conn, "boond-x", base_url=market.sandbox.url + "/api", app_key=APP_KEY)
    tokens.store(installed["appToken"], installed["refreshToken"], None)  # both died in the refresh above
    with pytest.raises(HostAuthError, match="click Validate"):
        tokens.refresh(installed["appToken"])


def test_the_refresh_assumption_is_written_down():
    sandboxes = (Path(__file__).parents[2] / "docs" / "SANDBOXES.md").read_text(encoding="utf-8")
    assert REFRESH_HEADER in sandboxes and "refresh-token" in sandboxes
    assert "ASSUMPTION" in refresh_app_token.__doc__


def test_configure_proposes_a_state_mapping_from_the_tenants_labels_for_the_admin_to_confirm(market):
    import requests

    from webhooks.admin.auth import admin_token, csrf_token

    market.market("install")
    market.configure(finish_setup=False)
    boond = boond_settings(market.tenant)
    completed = "Completed" if market.dialect == "observed" else "Arrêtée par le client"
    assert completed in boond.state_labels["delivery"].values() and boond.state_labels["resource"]["0"] == "Sortie"
    assert boond.delivery_states == {} and boond.states_confirmed is False  # proposed, never used before confirmed
    expected = {"1": "active", "2": "natural"} if market.dialect == "observed" else {"2": "client"}
    assert expected.items() <= boond.proposed_states["delivery"].items()
    assert boond.proposed_states["resource"]["0"] == "left"
    token = admin_token(market.tenant.id, "test")
    page = requests.get(f"{market.web.url}/admin/mapping", params={"a": token}, timeout=10)
    assert page.status_code == 200 and 'id="states-proposed"' in page.text
    assert f'<td class="label">{completed}</td>' in page.text and '<td class="label">Sortie</td>' in page.text
    saved = requests.post(f"{market.web.url}/admin/mapping", timeout=10, data={
        "a": token, "csrf": csrf_token(token), "lang": "en",
        "delivery_states": ", ".join(f"{k}={v}" for k, v in boond.proposed_states["delivery"].items()),
        "resource_states": "0=left"})
    assert saved.status_code == 200
    confirmed = boond_settings(tenants.get(market.tenant.id))
    assert confirmed.states_confirmed and confirmed.delivery_states == boond.proposed_states["delivery"]
    assert confirmed.resource_states == {"0": "left"}
    assert 'id="states-proposed"' not in requests.get(f"{market.web.url}/admin/mapping", params={"a": token},
                                                      timeout=10).text
