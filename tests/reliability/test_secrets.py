"""Secrets: no token, secret or signed link in the logs (DEBUG), in Redis in clear, or in an error page.

The world (tests/reliability/world.py) tells the story on both hosts with every log record captured at DEBUG by
our own handler (what production writes); `World.secrets()` lists every credential it handed out or stored.
"""
from __future__ import annotations

import json
import re
import zlib
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import redis
import requests
from redis.backoff import NoBackoff
from redis.retry import Retry

from config.infra.redis_conn import get_redis
from config.infra import clock
from tests.reliability.test_durability import ORG
from tests.reliability.webhook_load import boond_event, flow_event, sf_record_id
from tests.reliability.world import END, T0, fields, survey_tokens

pytestmark = pytest.mark.slow
OWN_FORM_TOKEN = re.compile(r'name="(?:form_token|csrf)" value="[^"]*"')
TOKEN_SHAPES = {  # anything shaped like a credential, whoever wrote it
    "jwt or signed token": re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{8,}"),
    "bearer": re.compile(r"(?i)bearer\s+(?!\[)[A-Za-z0-9._~+/=-]{12,}"),
}


def _found(text: str, secrets: dict[str, str], carried: set[str] = frozenset()) -> list[str]:
    """The names of the secrets (and credential shapes) in `text`, besides the `carried` ones it may echo."""
    for value in carried:
        text = text.replace(value, "[carried]")
    hits = [name for name, value in secrets.items() if value in text]
    return hits + [f"{shape}: {m.group(0)[:24]}…" for shape, rx in TOKEN_SHAPES.items() for m in rx.finditer(text)]


def test_no_secret_reaches_the_logs(world):
    logs = world.logs()
    leaks = _found(logs, world.secrets())
    print(json.dumps({"test": "secrets-logs", "log_lines": logs.count("\n"), "secrets": len(world.secrets()),
                      "leaks": leaks}))
    assert logs.count("\n") > 200 and '"level": "DEBUG"' in logs
    assert leaks == [], [line[:300] for line in logs.splitlines() if _found(line, world.secrets())][:5]


def _values(conn: redis.Redis, key: bytes) -> list[bytes]:
    kind = conn.type(key).decode()
    read = {"string": lambda: [conn.get(key)], "list": lambda: conn.lrange(key, 0, -1),
            "set": lambda: list(conn.smembers(key)), "zset": lambda: conn.zrange(key, 0, -1),
            "hash": lambda: [x for pair in conn.hgetall(key).items() for x in pair],
            "stream": lambda: [repr(conn.xrange(key)).encode()]}
    return [v for v in read.get(kind, lambda: [conn.dump(key)])() if v is not None]


def _readable(raw: bytes) -> str:
    """A value as text, rq's zlib-compressed job data opened (never decrypted: what an intruder would read)."""
    try:
        raw = zlib.decompress(raw)
    except zlib.error:
        pass
    return raw.decode("utf-8", errors="replace")


def _flow_under_way(world, monkeypatch) -> dict[str, str]:
    """Start a Salesforce connect flow and stop at the consent page: its state and PKCE verifier wait in Redis."""
    from connectors.salesforce import oauth
    from sandboxes.stack_salesforce import admin_connect

    made, original = {}, oauth.new_code_verifier
    monkeypatch.setattr(oauth, "new_code_verifier", lambda: made.setdefault("pkce verifier", original()))
    answer = admin_connect(requests.Session(), world.c.web.url, "acme-sf-c", follow=False)
    made["oauth state under way"] = parse_qs(urlparse(answer.headers["Location"]).query)["state"][0]
    return made


def test_no_secret_is_stored_in_clear_in_redis(world, monkeypatch):
    conn, secrets = get_redis(), {**world.secrets(), **_flow_under_way(world, monkeypatch)}
    leaks = {}
    for key in conn.scan_iter(count=1000):
        text = "\n".join([key.decode(errors="replace"), *(_readable(v) for v in _values(conn, key))])
        if found := _found(text, secrets):
            leaks[key.decode(errors="replace")] = found
    print(json.dumps({"test": "secrets-redis", "keys": conn.dbsize(), "secrets": len(secrets), "leaks": leaks}))
    assert leaks == {}


def _error_pages(world) -> list[tuple[str, requests.Response, set[str]]]:
    """(what, answer, the credentials the request itself carried) for each refusal a client can provoke."""
    a, b_id = world.a.web.url, world.b_tenant.id
    a_hook, d_hook = world.secrets()["webhook secret acme-a"], world.secrets()["webhook secret bravo-sf-d"]
    b_survey = survey_tokens()[b_id][0]
    b_link, b_page = f"{a}/survey/{b_survey}", requests.get(f"{a}/survey/{b_survey}", timeout=10).text
    hook = f"{a}/webhooks/boond/acme-a/{a_hook}"
    admin = world.secrets()["admin token A"]
    pages = [
        ("400 unreadable event", requests.post(hook, data=b"{", headers={"Content-Type": "application/json"}),
         {a_hook}),
        ("400 survey form", requests.post(b_link, data={"satisfaction": 9, "form_token": fields(b_page)["form_token"]}),
         {b_survey, fields(b_page)["form_token"]}),
        ("401 admin link", requests.get(f"{a}/admin/", params={"a": admin[:-3] + "xyz"}), set()),
        ("401 iframe", requests.get(f"{a}/boond/configure", params={"signedRequest": "abc.def"}), set()),
        ("401 marketplace", requests.post(f"{a}/boond/install", data={"signedRequest": "abc.def"}), set()),
        ("401 flow signature", requests.post(f"{a}/webhooks/salesforce/bravo-sf-d/{d_hook}",
                                             json=flow_event("e", ORG, sf_record_id(1))), {d_hook}),
        ("403 admin form", requests.post(f"{a}/admin/toggle", data={"a": admin}), {admin}),
        ("403 survey form", requests.post(b_link, data={"satisfaction": 3, "nps": 3}), {b_survey}),
        ("404 webhook", requests.post(f"{a}/webhooks/boond/{b_id}/{a_hook}", json=boond_event("e", "1")), {a_hook}),
        ("404 survey", requests.get(f"{a}/survey/{b_survey[:-4]}abcd"), set()),
        ("404 connect", requests.get(f"{a}/salesforce/connect", params={"t": "nope"}), set()),
        ("409 survey answered", requests.post(f"{a}/survey/{world.secrets()['survey token A']}", data={
            "satisfaction": 3, "nps": 3, "form_token": world.secrets()["survey form token A"]}),
         {world.secrets()["survey token A"], world.secrets()["survey form token A"]}),
        ("413 webhook", requests.post(hook, data=b"{" + b" " * 1_100_000 + b"}",
                                      headers={"Content-Type": "application/json"}), {a_hook}),
        ("415 webhook", requests.post(hook, data=b"<x/>", headers={"Content-Type": "text/xml"}), {a_hook}),
        ("404 no route", requests.get(f"{a}/webhooks/boond"), set()),
        ("405 method", requests.get(hook), {a_hook}),
    ]
    clock.pin(END + timedelta(days=60))
    try:
        pages.append(("410 survey expired", requests.get(b_link, timeout=10), {b_survey}))
    finally:
        clock.pin(T0)
    return pages


def test_no_error_page_shows_a_secret(world, monkeypatch):
    secrets, shown = world.secrets(), {}
    pages = _error_pages(world)
    from config.infra import redis_conn

    monkeypatch.setattr(redis_conn, "_client", redis.Redis(port=1, retry=Retry(NoBackoff(), 0)))
    hook = f"{world.a.web.url}/webhooks/boond/acme-a/{secrets['webhook secret acme-a']}"
    pages.append(("503 redis down", requests.post(hook, json=boond_event("e", "1"), timeout=30),
                  {secrets["webhook secret acme-a"]}))
    monkeypatch.undo()
    for what, answer, carried in pages:
        assert answer.status_code == int(what[:3]), (what, answer.status_code, answer.text[:200])
        text = answer.text + "\n" + "\n".join(f"{k}: {v}" for k, v in answer.headers.items())
        text = OWN_FORM_TOKEN.sub("", text)  # a form page's own anti-forgery field, derived from the carried link
        found = _found(text, {k: v for k, v in secrets.items() if v not in carried}, carried)
        if found:
            shown[what] = found
    print(json.dumps({"test": "secrets-error-pages", "pages": len(pages), "leaks": shown}))
    assert shown == {}
