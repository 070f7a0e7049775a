"""Tenant isolation: what tenant A holds never reads or changes tenant B, on every path a credential opens.

The world (tests/reliability/world.py) has two Boond tenants (A by credentials, B from the marketplace) and two
Salesforce tenants (C, D). Each test uses one tenant's webhook secret, admin token, CSRF token, survey link,
signedRequest or connect link against another tenant and checks the answer and that nothing changed.
"""
from __future__ import annotations

import base64
import json
import re
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

from config import tenants
from sandboxes.stack_salesforce import admin_connect
from config.infra.redis_conn import get_redis
from config.infra.signing import sign, unsign
from handlers.intake.queues import get_queue
from tests.e2e.market_helpers import APP_KEY, redis_dump
from tests.reliability.test_durability import ORG
from tests.reliability.webhook_load import boond_event, flow_event, sf_record_id
from tests.reliability.world import A_TITLE, B_TITLE
from webhooks.admin.auth import admin_token, csrf_token
from webhooks.hosts.salesforce.connect import connect_link, disconnect_token
from handlers.hosts.boond import marketplace

pytestmark = pytest.mark.slow
SHARED_KEYS = [  # keys outside a tenant's namespace, each documented in docs/RELIABILITY.md
    r"im:tenants", r"im:due", r"im:metrics", r"im:clock:today", r"im:oauth:state:[0-9a-f]{64}",
    r"im:orphan:.+", r"im:login:addr:[0-9a-f]{16}", r"im:login:names:\d+", r"im:login:all:\d+", r"im:sf-org:.+",
    r"im:boond:seen:[0-9a-f]{64}", r"im:ack",
    r"im:test:crash-counter", r"rq:.+"]


def _ids(world) -> dict[str, str]:
    return {"A": "acme-a", "B": world.b_tenant.id, "C": "acme-sf-c", "D": "bravo-sf-d"}


def _state(tenant_id: str) -> bytes:
    """Everything Redis holds for one tenant (its namespace), to prove it did not change."""
    conn = get_redis()
    return repr(sorted((k, conn.dump(k)) for k in conn.scan_iter(match=f"im:t:{tenant_id}:*", count=1000))).encode()


def _states(world) -> dict[str, bytes]:
    return {tenant: _state(tenant) for tenant in _ids(world).values()}


def _page(world, path: str, token: str, **params) -> requests.Response:
    return requests.get(f"{world.a.web.url}{path}", params={"a": token, **params}, timeout=10)


def _post(world, path: str, **data) -> requests.Response:
    return requests.post(f"{world.a.web.url}{path}", data={"lang": "en", **data}, timeout=10, allow_redirects=False)


def _failed_job_of(tenant_id: str) -> str:
    queue = get_queue()
    ids = FailedJobRegistry(queue=queue).get_job_ids()
    jobs = Job.fetch_many(ids, connection=queue.connection, serializer=JSONSerializer)
    return next(job.id for job in jobs if job and job.args and job.args[0] == tenant_id)


def test_a_webhook_secret_opens_no_other_tenants_url(world):
    ids, before = _ids(world), redis_dump(get_redis())
    for owner in ids.values():
        secret = tenants.get(owner).webhook_secret
        for victim in ids.values():
            host = tenants.get(victim).host
            if victim == owner:
                host = "salesforce" if host == "boond" else "boond"  # its own id under the other host's path
            body = boond_event("iso-1", "100") if host == "boond" else flow_event("iso-1", ORG, sf_record_id(1))
            answer = requests.post(f"{world.a.web.url}/webhooks/{host}/{victim}/{secret}", json=body, timeout=10)
            assert answer.status_code == 404, (owner, victim, answer.status_code)
    assert redis_dump(get_redis()) == before


def test_an_admin_token_alone_decides_the_tenant_and_shows_nothing_of_another(world):
    ids, a_token, b_token = _ids(world), admin_token("acme-a", "test"), admin_token(world.b_tenant.id, "test")
    b_only = world.missions[ids["B"]][1]  # a mission id tenant A never had
    shared_id = world.missions[ids["B"]][0]  # the same id as A's own mission
    assert shared_id == world.missions["acme-a"][0]
    pages = [_page(world, "/admin/preview", a_token, mission=b_only, tenant=ids["B"]),
             _page(world, "/admin/preview", a_token, mission=shared_id),
             _page(world, "/admin/activity", a_token, mission=b_only),
             _page(world, "/admin/activity", a_token), _page(world, "/admin/surveys", a_token),
             _page(world, "/admin/", a_token, t=ids["B"]), _page(world, "/admin/mapping", a_token)]
    b_job = _failed_job_of(ids["B"])
    for page in pages:
        assert page.status_code == 200
        for leak in (B_TITLE, ids["B"], b_job, tenants.get(ids["B"]).webhook_secret):
            assert leak not in page.text, (page.url, leak)
    assert A_TITLE in pages[1].text
    assert "Alpha only" in pages[4].text and "Alpha only" not in _page(world, "/admin/surveys", b_token).text


def test_an_admin_cannot_retry_toggle_or_configure_another_tenant(world):
    ids, before = _ids(world), _states(world)
    a_token, b_token = admin_token("acme-a", "test"), admin_token(ids["B"], "test")
    b_job = _failed_job_of(ids["B"])
    retry = _post(world, f"/admin/retry/{b_job}", a=a_token, csrf=csrf_token(a_token))
    assert retry.status_code == 404 and b_job in FailedJobRegistry(queue=get_queue()).get_job_ids()
    assert _post(world, "/admin/toggle", a=a_token, csrf=csrf_token(b_token)).status_code == 403
    assert _post(world, "/admin/toggle", a=b_token, csrf=csrf_token(a_token)).status_code == 403
    nonce = parse_qs(urlparse(requests.get(world.b.market("iframe")["url"], timeout=10,
                                           allow_redirects=False).headers["Location"]).query)["u"][0]
    configure = _post(world, "/admin/configure", a=a_token, csrf=csrf_token(a_token), user_token=nonce)
    assert configure.status_code == 400 and get_redis().exists(f"im:t:{ids['B']}:pending-user:{nonce}")
    get_redis().delete(f"im:t:{ids['B']}:pending-user:{nonce}")
    assert _states(world) == before
    assert _post(world, "/admin/toggle", a=a_token, csrf=csrf_token(a_token)).status_code == 302
    after = _states(world)
    assert after["acme-a"] != before["acme-a"] and all(after[t] == before[t] for t in ids.values() if t != "acme-a")
    _post(world, "/admin/toggle", a=a_token, csrf=csrf_token(a_token))


def _swap_payload(token: str, payload: dict) -> str:
    """An itsdangerous token with another payload and the original timestamp and signature."""
    body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).rstrip(b"=").decode()
    return ".".join([body, *token.split(".")[1:]])


def test_a_survey_link_answers_no_other_survey(world):
    from handlers.surveys import records as surveys

    ids, conn = _ids(world), get_redis()
    b_mission = world.missions[ids["B"]][0]
    b_survey = surveys.states(conn, ids["B"], b_mission)["consultant"]
    a_link = world.handed_out["survey token A"]
    target = {"t": ids["B"], "m": b_mission, "r": "consultant", "n": "00000000"}
    before = _states(world)
    for token in (sign("survey", target), _swap_payload(a_link, target)):
        url = f"{world.a.web.url}/survey/{token}"
        assert requests.get(url, timeout=10).status_code == 404
        assert requests.post(url, data={"satisfaction": 5, "nps": 10, "form_token": "x"}, timeout=10).status_code == 404
    a_form = world.handed_out["survey form token A"]
    crossed = requests.post(f"{world.a.web.url}/survey/{b_survey.token}", timeout=10,
                            data={"satisfaction": 5, "nps": 10, "comment": "", "form_token": a_form})
    assert crossed.status_code == 403
    assert _states(world) == before and surveys.states(conn, ids["B"], b_mission)["consultant"].status == "sent"


def _signed(payload: dict, key: str = APP_KEY) -> str:
    from connectors.boond.marketplace import encode_signed_request

    return encode_signed_request(payload, key)


def _opens(world, signed: str) -> tuple[int, str | None]:
    """What /boond/configure does with a signedRequest: (status, the tenant of the admin link it redirects to)."""
    answer = requests.get(f"{world.b.web.url}/boond/configure", params={"signedRequest": signed}, timeout=10,
                          allow_redirects=False)
    if answer.status_code != 302:
        return answer.status_code, None
    token = parse_qs(urlparse(answer.headers["Location"]).query)["a"][0]
    return 302, unsign("admin", token, max_age=60)["tenant"]


def test_a_signed_request_opens_and_uninstalls_only_its_own_tenant(world):
    ids, market = _ids(world), world.b.web.url + "/boond"
    install = {"appToken": "b2-app-token-0123", "clientToken": "sbx-client-2", "clientName": "Other ESN"}
    assert requests.post(f"{market}/install", data={"signedRequest": _signed(install)}, timeout=10).status_code == 200
    b2 = marketplace.boond_tenant_id("sbx-client-2")
    b_request, b2_request = _signed({"clientToken": "sbx-client"}), _signed({"clientToken": "sbx-client-2"})
    assert _opens(world, b_request) == (302, ids["B"]) and _opens(world, b2_request) == (302, b2)
    swapped = b2_request.split(".")[0] + "." + b_request.split(".")[1]
    assert _opens(world, swapped)[0] == 401 and _opens(world, _signed({"clientToken": "sbx-client"}, "other"))[0] == 401
    before = _states(world)
    for forged in (swapped, _signed({"clientToken": "sbx-client"}, "other")):
        assert requests.post(f"{market}/uninstall", data={"signedRequest": forged}, timeout=10).status_code == 401
    assert requests.post(f"{market}/uninstall", data={"signedRequest": b2_request}, timeout=10).status_code == 401  # used
    b2_uninstall = _signed({"clientToken": "sbx-client-2", "clientName": "Other ESN"})
    assert requests.post(f"{market}/uninstall", data={"signedRequest": b2_uninstall}, timeout=10).status_code == 200
    assert tenants.get(b2).status == "uninstalled" and _states(world) == before
    assert tenants.get(ids["B"]).status == "active" and tenants.get(ids["B"]).enabled


def _tokens(tenant_id: str) -> dict | None:
    from handlers.hosts.salesforce.adapter import tokens_for

    return tokens_for(tenants.get(tenant_id), get_redis()).load()


def test_a_connect_link_connects_and_disconnects_only_its_own_tenant(world):
    ids = _ids(world)
    link = connect_link(ids["C"], world.c.web.url)
    token = parse_qs(urlparse(link).query)["t"][0]
    d_before, others = _tokens(ids["D"]), {t: _state(t) for t in (ids["A"], ids["B"], ids["D"])}
    for forged in (_swap_payload(token, {"tenant": ids["D"]}), sign("sf-connect", {"tenant": ids["A"]})):
        answer = requests.get(f"{world.c.web.url}/salesforce/connect", params={"t": forged}, timeout=10)
        assert answer.status_code == 404
    c_before = _tokens(ids["C"])
    assert world.c.http.get(link, timeout=30).status_code == 403  # C has no admin password: its link cannot connect
    assert admin_connect(world.c.http, world.c.web.url, ids["C"]).status_code == 200
    assert _tokens(ids["C"])["access_token"] != c_before["access_token"] and _tokens(ids["D"]) == d_before
    stale = requests.get(f"{world.c.web.url}/salesforce/callback", params={"state": "nope", "code": "x"}, timeout=10)
    assert stale.status_code == 400
    assert requests.post(f"{world.c.web.url}/salesforce/disconnect", params={"t": token}, timeout=30).status_code == 404
    d_token = disconnect_token(tenants.get(ids["C"]))  # the admin page's button: its own token and the CSRF check
    gone = requests.post(f"{world.c.web.url}/salesforce/disconnect", data={"d": d_token, "csrf": csrf_token(d_token)},
                         timeout=30)
    assert gone.status_code == 200 and _tokens(ids["C"]) is None and _tokens(ids["D"]) == d_before
    assert {t: _state(t) for t in others} == others
    assert admin_connect(world.c.http, world.c.web.url, ids["C"]).status_code == 200  # again, for the next tests


def _owner(key: str, known: set[str]) -> str | None:
    found = re.match(r"im:t:([^:]+):", key)
    return found.group(1) if found and found.group(1) in known else None


def test_every_redis_key_belongs_to_one_tenant_or_to_the_documented_shared_list(world):
    from handlers.state.store import DUE_KEY

    conn, known = get_redis(), set(tenants.list_ids())
    browser = requests.Session()
    login = re.search(r'name="csrf" value="([^"]+)"', browser.get(f"{world.a.web.url}/admin/login", timeout=10).text)
    browser.post(f"{world.a.web.url}/admin/login", data={"tenant": "acme-a", "password": "wrong",
                                                         "csrf": login.group(1)}, timeout=10)  # counts the attempt
    admin_connect(requests.Session(), world.c.web.url, "acme-sf-c", follow=False)  # a flow under way
    keys = sorted(k.decode() for k in conn.scan_iter(count=1000))
    stray = [k for k in keys if not _owner(k, known) and not any(re.fullmatch(p, k) for p in SHARED_KEYS)]
    due = [m.decode() for m in conn.zrange(DUE_KEY, 0, -1)]
    jobs = [j for j in Job.fetch_many([k[len("rq:job:"):] for k in keys if re.fullmatch(r"rq:job:[^:]+", k)],
                                      connection=conn, serializer=JSONSerializer) if j]
    print(json.dumps({"test": "isolation", "keys": len(keys), "tenants": len(known), "stray": stray,
                      "shared": sorted({re.sub(r":[^:]+$", ":…", k) for k in keys if not _owner(k, known)})}))
    assert stray == [] and due and all(m.split("|", 1)[0] in known for m in due)
    assert jobs and all(j.args and j.args[0] in known for j in jobs if not j.id.startswith("tick-"))
