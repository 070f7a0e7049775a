"""Catch-up that survives a refused delivery search (reference §10: `/deliveries-groupments` answered 404): the known
missions are re-read by id, the other tenants are still swept, and an install backfill that cannot list its
missions says so to the admin in `status`, `tenant show` and the admin overview."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import requests

from config.infra.redis_conn import get_redis
from handlers.state import attention
from handlers.sync import backfill
from config.infra import clock
from sandboxes.stack import Stack
from tests.e2e.helpers import by_step, due, settle
from webhooks.admin.auth import admin_token

T0 = date(2026, 3, 2)
CLI = [sys.executable, "-m", "intermission_cli.main"]


def _steps(stack, mission: str) -> dict[str, dict]:
    return {k.split("/", 1)[1]: v for k, v in by_step(stack.actions()).items() if k.startswith(mission + "/")}


def _sweep_all(child_env) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, "sweep", "--since-minutes", "5"], env=child_env, capture_output=True, text=True,
                          timeout=120)


def test_sweep_with_two_tenants_the_first_refused_reaches_the_second(redis_conn, child_env):
    with Stack("a-refused", dialect="observed") as refused, Stack("b-open") as second:
        clock.pin(T0)
        known = refused.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
        settle()
        refused.move_end(known, date(2026, 5, 7), deliver=False)  # extended; the webhook never came
        lost = second.create_delivery(date(2025, 11, 3), date(2026, 4, 16), deliver=False)["data"]["id"]
        assert second.actions() == []

        done = _sweep_all(child_env)
        assert done.returncode == 0, done.stderr
        lines = [json.loads(line) for line in done.stdout.splitlines()]
        assert [line["tenant"] for line in lines] == ["a-refused", "b-open"]
        assert "refused its change listing" in lines[0]["refused"] and lines[0]["queued"] == 1  # known, by id
        assert (lines[1]["changed"], lines[1]["queued"]) == (1, 1)
        settle()
        assert due(_steps(refused, known)["natural.recommendations"]) == "2026-05-07"  # the extension caught
        assert len(_steps(second, lost)) == 8


def test_a_tenant_whose_search_fails_is_named_and_the_next_one_is_swept(redis_conn, child_env):
    with Stack("a-failing") as failing, Stack("b-open") as second:
        clock.pin(T0)
        failing.control("POST", "/_control/faults", json={"kind": "500", "times": 50, "method": "GET",
                                                          "path": "/api/deliveries-groupments"})
        lost = second.create_delivery(date(2025, 11, 3), date(2026, 4, 16), deliver=False)["data"]["id"]
        done = _sweep_all(child_env)
        assert done.returncode == 1
        errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and errors[0].startswith("error: tenant a-failing: boond HTTP 500"), done.stderr
        assert [json.loads(line)["tenant"] for line in done.stdout.splitlines()] == ["b-open"]
        settle()
        assert len(_steps(second, lost)) == 8


def test_an_install_backfill_whose_search_is_refused_tells_the_admin(redis_conn, child_env):
    with Stack("acme", dialect="observed") as stack:
        clock.pin(T0)
        backfill.start(redis_conn, "acme", "install", enqueue=False)
        run = backfill.carry_on(redis_conn, "acme")
        assert run["status"] == "done" and "refused its search" in run["message"]
        (reason,) = attention.texts(get_redis(), "acme", "fr")
        assert "refuse la recherche des missions (HTTP 404)" in reason

        status = subprocess.run([*CLI, "status"], env=child_env, capture_output=True, text=True, timeout=60)
        assert "tenants needing attention: 1" in status.stdout and reason in status.stdout
        shown = subprocess.run([*CLI, "tenant", "show", "acme"], env=child_env, capture_output=True, text=True,
                               timeout=60)
        assert f"À voir: {reason}" in shown.stdout
        page = requests.get(f"{stack.web.url}/admin/", params={"a": admin_token("acme", "test")}, timeout=10)
        assert page.status_code == 200 and "refuse la recherche des missions" in page.text
        english = requests.get(f"{stack.web.url}/admin/", params={"a": admin_token("acme", "test"), "lang": "en"},
                               timeout=10)
        assert "the host refuses its mission search (HTTP 404)" in english.text

        stack.control("POST", "/_control/config", json={"dialect": "documented"})  # the search is offered again
        backfill.start(redis_conn, "acme", "cli", enqueue=False)
        assert backfill.carry_on(redis_conn, "acme")["status"] == "done"
        assert attention.texts(get_redis(), "acme", "fr") == []


def test_a_failed_install_backfill_marks_the_tenant_until_a_run_lists_its_missions(redis_conn):
    with Stack("acme") as stack:
        clock.pin(T0)
        stack.control("POST", "/_control/faults", json={"kind": "500", "times": 50, "method": "GET",
                                                        "path": "/api/deliveries-groupments"})
        backfill.start(redis_conn, "acme", "install", enqueue=False)
        try:
            backfill.carry_on(redis_conn, "acme")
        except Exception as exc:  # noqa: BLE001 - the job raises so that rq retries it
            assert "HTTP 500" in str(exc)
        else:
            raise AssertionError("a failed listing must fail the job, so that it is retried")
        (reason,) = attention.texts(get_redis(), "acme", "en")
        assert reason.startswith("planning the missions that already exist failed (HTTP 500)")
