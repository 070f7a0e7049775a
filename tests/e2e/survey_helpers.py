"""Helpers for survey stories: links that point at the running web app, the form token, what Redis and the host hold."""
from __future__ import annotations

import html
import re
from datetime import date

import requests

from config.infra import clock
from handlers.surveys import records as surveys
from tests.e2e.helpers import settle

T0 = date(2026, 3, 2)  # the mission ends Thu 16 April 2026: its survey is sent Thu 9 April
END = date(2026, 4, 16)
FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def serve_links_from(stack, monkeypatch) -> None:
    """Make the links written into the host point at the test's web app."""
    from config.settings import get_settings

    monkeypatch.setattr(get_settings(), "public_base_url", stack.web.url)


def mission_with_survey(stack) -> str:
    """A mission planned on T0 (its survey links are in the survey action); returns its id."""
    clock.pin(T0)
    mission = stack.new_mission(date(2025, 11, 3), END)
    settle()
    return mission


def link(stack, mission: str, role: str) -> str:
    """The respondent's link, as written in the host's survey action text."""
    token = surveys.states(_conn(), stack.tenant_id, mission)[role].token
    found = re.findall(r"https?://[^\s<\"']+/survey/" + re.escape(token), html.unescape(host_texts(stack)))
    assert found, f"no {role} link in the host's survey action"
    return found[0]


def host_texts(stack) -> str:
    """Every text of every action or Task in the host, joined."""
    if hasattr(stack, "tasks"):
        return "\n".join(t.get("Description") or "" for t in stack.tasks())
    return "\n".join(a["attributes"].get("text") or "" for a in stack.actions())


def form_token(page: str) -> str:
    """The anti-forgery field of a survey form page."""
    return FORM_TOKEN.search(page).group(1)


def post_answer(url: str, satisfaction, nps, comment: str = "", *, token: str | None = None,
                headers: dict | None = None) -> requests.Response:
    """Answer the way the page's form does (fetching the form token first unless one is given)."""
    if token is None:
        token = form_token(requests.get(url, timeout=10).text)
    data = {"satisfaction": satisfaction, "nps": nps, "comment": comment, "lang": "fr"}
    if token:
        data["form_token"] = token
    return requests.post(url, data=data, headers=headers or {}, timeout=10)


def world(stack, mission: str) -> tuple:
    """What a refusal must leave untouched: the surveys, the ledger, the queue and the host."""
    conn = _conn()
    from handlers.intake.queues import get_queue

    hosts = stack.tasks() if hasattr(stack, "tasks") else stack.actions()
    return (conn.hgetall(f"im:t:{stack.tenant_id}:surveys:{mission}"),
            conn.hgetall(f"im:t:{stack.tenant_id}:ledger:{mission}"), get_queue().count, hosts)


def _conn():
    from config.infra.redis_conn import get_redis

    return get_redis()
