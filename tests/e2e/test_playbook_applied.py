"""Playbook changes applied: the page counts the missions that will change, then every open mission gets the edit."""
from __future__ import annotations

import re
from datetime import date

import requests

from config import tenants
from handlers.sync import backfill
from config.infra import clock
from tests.e2e.helpers import by_step, settle
from webhooks.admin.auth import admin_token, csrf_token

T0 = date(2026, 3, 2)
ENDS = {date(2026, 4, 16): "2026-04-10", date(2026, 4, 23): "2026-04-17", date(2026, 4, 30): "2026-04-24"}
FORM = dict(enabled="on", title_fr="Bilan à trois, version maison", title_en="Our review", text_fr="Texte.",
            text_en="Text.", offset_days="-4", offset_unit="business", offset_anchor="end", assignee="manager",
            priority="high")


def _open_missions(stack) -> dict[str, date]:
    clock.pin(T0)
    out = {}
    for end in ENDS:
        resource = stack.new_consultant(f"Open{end.day}")
        out[stack.create_delivery(date(2025, 11, 3), end, resource=resource)["data"]["id"]] = end
    cancelled = stack.create_delivery(date(2025, 11, 3), date(2026, 5, 7), resource=stack.new_consultant("Gone"))
    settle()
    stack.control("POST", f"/_control/deliveries/{cancelled['data']['id']}/cancel", json={})
    settle()
    return out


def _reviews(stack) -> dict[str, tuple[str, str]]:
    return {k.split("/")[0]: (a["attributes"]["title"], a["attributes"]["startDate"][:10])
            for k, a in by_step(stack.actions()).items() if k.endswith("/natural.review")}


def _post(stack, path: str, **fields) -> requests.Response:
    token = admin_token(stack.tenant_id, "test")
    data = {"a": token, "csrf": csrf_token(token), "lang": "en", **fields}
    return requests.post(f"{stack.web.url}/admin{path}", data=data, timeout=30)


def test_an_edited_step_lands_on_every_open_mission_after_the_admin_confirms(stack):
    missions = _open_missions(stack)
    before = _reviews(stack)
    asked = _post(stack, "/playbook/natural.review", **FORM)
    assert asked.status_code == 200
    assert re.search(r'data-changing="3" data-open="3"', asked.text) and "3 of 3 open mission(s)" in asked.text
    settle()
    assert _reviews(stack) == before and tenants.get(stack.tenant_id).playbook_overrides == {}  # not yet
    done = _post(stack, "/playbook/natural.review", **FORM, confirm="1")
    assert done.status_code == 200 and ("Saved." in done.text or "Enregistré." in done.text)
    settle()
    assert _reviews(stack) == {m: ("Bilan à trois, version maison", ENDS[end]) for m, end in missions.items()}
    run = backfill.progress(stack_conn(), stack.tenant_id)
    assert (run["kind"], run["status"], run["total"], run["planned"], run["failed"]) == ("playbook", "done", 3, 3, 0)
    page = requests.get(f"{stack.web.url}/admin/progress", params={"a": admin_token(stack.tenant_id, "t"),
                                                                  "lang": "en"}, timeout=10)
    assert 'id="run-read">3<' in page.text and 'id="run-planned">3<' in page.text and "Playbook applied" in page.text


def test_restoring_the_default_is_counted_confirmed_and_applied(stack):
    _open_missions(stack)
    default = _reviews(stack)
    _post(stack, "/playbook/natural.review", **FORM, confirm="1")
    settle()
    assert _reviews(stack) != default
    asked = _post(stack, "/playbook/natural.review/reset")
    assert 'data-changing="3"' in asked.text and tenants.get(stack.tenant_id).playbook_overrides.get("steps")
    _post(stack, "/playbook/natural.review/reset", confirm="1")
    settle()
    assert _reviews(stack) == default


def test_a_change_that_touches_no_mission_says_so(stack):
    _open_missions(stack)
    asked = _post(stack, "/playbook/natural.review/reset")
    assert 'data-changing="0"' in asked.text and "No open mission changes" in asked.text


def stack_conn():
    from config.infra.redis_conn import get_redis

    return get_redis()
