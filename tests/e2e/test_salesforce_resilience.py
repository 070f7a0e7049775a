"""Salesforce's realities: duplicated and shuffled messages, expiring and rotated tokens, revocation, API limits."""
from __future__ import annotations

import threading
from datetime import date

from sandboxes.stack_salesforce import SalesforceStack
from config.infra import clock
from handlers.sync.holds import held
from handlers.hosts.salesforce.adapter import tokens_for
from tests.e2e.helpers import settle
from tests.e2e.sf_helpers import by_step, duplicates, org_state, spend_the_budget_mid_story

T0 = date(2026, 3, 2)


def _story(org, between=lambda: None):
    clock.pin(T0)
    mission = org.create_mission(date(2025, 11, 3), date(2026, 4, 16))["record"]["Id"]
    settle()
    between()
    org.move_end(mission, date(2026, 5, 7))
    settle()
    between()
    org.end_early(mission, date(2026, 3, 12), "client")
    settle()
    return mission


def test_duplicated_and_shuffled_outbound_messages_give_the_in_order_tasks(redis_conn):
    with SalesforceStack("acme-sf") as org:
        _story(org)
        expected = org_state(org.tasks())
    redis_conn.flushdb()
    with SalesforceStack("acme-sf") as org:
        org.control("POST", "/_control/config", json={"duplicate_rate": 1.0, "shuffle": True, "seed": 7})
        clock.pin(T0)
        mission = org.create_mission(date(2025, 11, 3), date(2026, 4, 16), deliver=False)["record"]["Id"]
        org.move_end(mission, date(2026, 5, 7), deliver=False)
        org.control("POST", "/_control/outbound/batch")  # both changes in one message, shuffled, sent twice
        settle()
        org.end_early(mission, date(2026, 3, 12), "client", deliver=False)
        org.control("POST", "/_control/outbound/batch")
        settle()
        log = org.control("GET", "/_control/outbound/log")
        assert any(entry["duplicate"] for entry in log["attempts"])  # Salesforce did send twice
        assert org_state(org.tasks()) == expected
        assert duplicates(org.tasks()) == []


def test_expiring_access_tokens_and_rotated_refresh_tokens_mid_story(sf_stack, redis_conn):
    store = tokens_for(sf_stack.tenant, redis_conn)
    first_refresh = store.load()["refresh_token"]
    mission = _story(sf_stack, between=lambda: sf_stack.control("POST", "/_control/oauth/expire-access-tokens"))
    assert len(by_step(sf_stack.tasks(), mission)) == 8 and duplicates(sf_stack.tasks()) == []
    grants = sf_stack.control("GET", "/_control/calls")["token_grants"]
    assert grants.get("refresh_token", 0) == 2  # one refresh per expiry, not one per call
    assert store.load()["refresh_token"] != first_refresh  # the rotated token was kept at once


def test_two_workers_refreshing_at_once_make_one_refresh(sf_stack, redis_conn):
    stale = tokens_for(sf_stack.tenant, redis_conn).access_token()
    sf_stack.control("POST", "/_control/oauth/expire-access-tokens")
    results, before = [], sf_stack.control("GET", "/_control/calls")["token_grants"].get("refresh_token", 0)

    def refresh():
        results.append(tokens_for(sf_stack.tenant, redis_conn).refresh(stale))

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    after = sf_stack.control("GET", "/_control/calls")["token_grants"].get("refresh_token", 0)
    assert after - before == 1 and len(set(results)) == 1 and results[0] != stale


def test_revoked_app_holds_work_until_reconsent_then_completes_it(sf_stack, redis_conn):
    clock.pin(T0)
    sf_stack.control("POST", "/_control/oauth/revoke-all")
    mission = sf_stack.create_mission(date(2025, 11, 3), date(2026, 4, 16))["record"]["Id"]
    settle()
    assert sf_stack.tasks() == []
    assert "needs re-consent" in held(redis_conn, "acme-sf")[mission]["reason"]
    assert "Connection: needs re-consent (refresh refused: " in _tenant_show()
    page = sf_stack.connect()
    assert page.status_code == 200 and "1 mission(s) en attente reprise(s)" in page.text  # the tenant speaks French
    settle()
    assert len(by_step(sf_stack.tasks(), mission)) == 8 and held(redis_conn, "acme-sf") == {}
    assert "Connection: connected" in _tenant_show()


def _tenant_show() -> str:
    """What `intermission tenant show acme-sf` prints (in process: the stack's Redis and settings)."""
    import contextlib
    import io

    from intermission_cli.main import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["tenant", "show", "acme-sf"]) == 0
    return out.getvalue()


def test_daily_limit_reached_mid_story_pauses_and_loses_nothing(sf_stack, redis_conn, child_env):
    import subprocess
    import sys

    mission = spend_the_budget_mid_story(sf_stack, redis_conn)
    assert by_step(sf_stack.tasks(), mission)["natural.review"]["ActivityDate"] == "2026-04-14"  # not yet moved
    sf_stack.control("POST", "/_control/limits/reset")
    done = subprocess.run([sys.executable, "-m", "intermission_cli.main", "tenant", "resume", "acme-sf"], env=child_env,
                          capture_output=True, text=True, timeout=60)
    assert "requeued 1 held mission" in done.stdout
    settle()
    assert by_step(sf_stack.tasks(), mission)["natural.review"]["ActivityDate"] == "2026-05-05"
    assert duplicates(sf_stack.tasks()) == []
