"""Every HTTP endpoint, fed anything: the documented status every time (SPEC §5), never a 500, never a hang."""
from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config import tenants
from config.settings import get_settings
from tests.properties import (PROPERTY, json_values, near_boond_events, near_flow_callouts, near_outbound_messages,
                              nested_arrays, nested_objects, soap)
from webhooks.app import create_app
from connectors.salesforce.settings import SalesforceConfig
from connectors.boond.settings import BoondConfig

ORG = "00D000000000001AAA"
SLOW = 5.0  # seconds: any answer slower than this counts as a hang
bodies = (st.binary(max_size=2000) | near_boond_events() | near_flow_callouts() | near_outbound_messages()
          | st.sampled_from([nested_arrays(), nested_objects(), b"\xff\xfe\x00{", "é".encode("latin-1"), b""]))
content_types = st.sampled_from(["application/json", "application/json; charset=latin-1", "text/xml",
                                 "application/soap+xml", "application/vnd.api+json", "text/plain", "",
                                 "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "*/*"])


@pytest.fixture
def client(redis_conn):
    """The web app (Flask test client) with one Boond and one Salesforce tenant."""
    tenants.save(tenants.Tenant(id="acme", host="boond", name="Acme",
                                host_settings=BoondConfig(app_token="t", app_key="k", user_token="u")))
    tenants.save(tenants.Tenant(id="acme-sf", host="salesforce", name="Acme SF",
                                host_settings=SalesforceConfig(login_url="https://login.example", client_id="c",
                                                                    client_secret="s", org_id=ORG)))
    return create_app().test_client()


def _post(client, path: str, body: bytes, ctype: str):
    began = time.monotonic()
    answer = client.post(path, data=body, headers={"Content-Type": ctype} if ctype else {})
    assert time.monotonic() - began < SLOW, f"{path} took {time.monotonic() - began:.1f}s"
    return answer


def _url(host: str, *, secret: str | None = None) -> str:
    tenant = tenants.get("acme" if host == "boond" else "acme-sf")
    return f"/webhooks/{host}/{tenant.id}/{secret or tenant.webhook_secret}"


@PROPERTY
@given(body=bodies, ctype=content_types)
def test_boond_webhook_answers_202_204_400_or_415_to_anything(client, body, ctype):
    answer = _post(client, _url("boond"), body, ctype)
    mime = ctype.split(";")[0]
    expected = {202, 204, 400} if mime in ("", "application/json", "application/vnd.api+json") else {415}
    assert answer.status_code in expected, (answer.status_code, answer.data[:200])
    if answer.status_code == 400:
        assert answer.get_json()["error"] == "unreadable event"


@PROPERTY
@given(body=bodies, ctype=content_types)
def test_salesforce_webhook_answers_the_ack_202_204_400_401_404_or_415_to_anything(client, body, ctype):
    answer = _post(client, _url("salesforce"), body, ctype)
    assert answer.status_code in {200, 202, 204, 400, 401, 404, 415}, (answer.status_code, answer.data[:200])
    if answer.status_code == 200:
        assert b"<Ack>true</Ack>" in answer.data
    if ctype.split(";")[0] in ("text/plain", "", "application/x-www-form-urlencoded", "*/*"):
        assert answer.status_code == 415


@PROPERTY
@given(body=bodies, ctype=content_types, host=st.sampled_from(["boond", "salesforce"]),
       secret=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF, blacklist_characters="/?#%"),
                      min_size=1, max_size=60))
def test_a_wrong_secret_or_unknown_tenant_is_always_404(client, body, ctype, host, secret):
    assert _post(client, _url(host, secret=secret), body, ctype).status_code == 404
    assert _post(client, f"/webhooks/{host}/nobody/{secret}", body, ctype).status_code == 404


@pytest.mark.parametrize("host, ctype", [("boond", "application/json"), ("salesforce", "application/json"),
                                         ("salesforce", "text/xml")])
def test_oversized_bodies_are_413_before_anything_is_read(client, host, ctype):
    body = b" " * (get_settings().max_webhook_bytes + 1)
    assert _post(client, _url(host), body, ctype).status_code == 413


@pytest.mark.parametrize("body", [nested_arrays(), nested_objects(), b"\xff\xfe\x00{", b"\x80" * 10])
@pytest.mark.parametrize("host", ["boond", "salesforce"])
def test_deeply_nested_or_non_utf8_json_is_400(client, host, body):
    assert _post(client, _url(host), body, "application/json").status_code == 400


def test_deeply_nested_or_entity_laden_soap_is_400(client):
    bomb = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>'
    for body in (b"<a>" * 100_000 + b"</a>" * 100_000, bomb, soap(ORG, [], '<!DOCTYPE x [<!ENTITY e "e">]>')):
        assert _post(client, _url("salesforce"), body, "text/xml").status_code == 400


@pytest.fixture
def app_key(monkeypatch):
    """The server's Boond marketplace key (without one, /boond/* answer 503 by design)."""
    monkeypatch.setenv("INTERMISSION_BOOND_APP_KEY", "app-key-0123456789")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@PROPERTY
@pytest.mark.usefixtures("app_key")
@given(value=st.text(max_size=200) | st.sampled_from([nested_arrays(3000).decode()]),
       call=st.sampled_from(["install", "uninstall", "validate"]), as_json=st.booleans())
def test_boond_marketplace_calls_refuse_bad_signed_requests_with_401(client, value, call, as_json):
    began = time.monotonic()
    answer = (client.post(f"/boond/{call}", json={"signedRequest": value}) if as_json
              else client.post(f"/boond/{call}", data={"signedRequest": value}))
    assert time.monotonic() - began < SLOW
    assert answer.status_code == 401 and answer.get_json()["result"] is False


@pytest.mark.usefixtures("app_key")
@pytest.mark.parametrize("body", [nested_arrays(), nested_objects(), b"\xff\xfe{"])
def test_boond_marketplace_calls_survive_unreadable_json_bodies(client, body):
    answer = client.post("/boond/install", data=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 401


@PROPERTY
@pytest.mark.usefixtures("app_key")
@given(token=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF, blacklist_characters="/?#%"),
                     min_size=1, max_size=120),
       form=st.dictionaries(st.text(max_size=10), st.text(max_size=30), max_size=4))
def test_survey_and_admin_pages_never_fail_on_forged_links(client, token, form):
    for answer in (client.get(f"/survey/{token}"), client.post(f"/survey/{token}", data=form),
                   client.get(f"/admin/?t={token}"), client.get(f"/boond/configure?signedRequest={token}"),
                   client.post("/admin/toggle", data={"t": token, **form}), client.get(f"/admin/preview?t={token}")):
        assert answer.status_code < 500, (answer.request.path, answer.status_code)


@PROPERTY
@given(value=json_values)
def test_flow_callout_json_of_any_shape_is_202_204_or_400(client, value):
    import json

    answer = _post(client, _url("salesforce"), json.dumps(value).encode(), "application/json")
    assert answer.status_code in {202, 204, 400, 404}
