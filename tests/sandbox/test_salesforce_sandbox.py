"""The Salesforce sandbox over real HTTP: OAuth/PKCE, limits, SOQL, Tasks, collections, triggers, faults."""
from __future__ import annotations

from types import SimpleNamespace

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask, Response, request

from sandboxes.salesforce import SandboxConfig, create_app
from sandboxes.serving import ThreadedServer

CLIENT_ID, CLIENT_SECRET = "sbx-client-id", "sbx-client-secret"
ORG_ID, ADMIN = "00D000000000001EAA", "005000000000001AAA"
CLAIRE, HUGO, JEAN_USER = "005000000000002AAA", "005000000000003AAA", "005000000000007AAA"
JEAN, SOPHIE, ACME, PROJECT = "003000000000007AAA", "003000000000011AAA", "001000000000010AAA", "a1P000000000001AAA"
API = "/services/data/v67.0"
REDIRECT = "http://127.0.0.1:8765/oauth/callback"
SOAPENV = "http://schemas.xmlsoap.org/soap/envelope/"
OM = "http://soap.sforce.com/2005/09/outbound"
SF = "urn:sobject.enterprise.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ACK = (f'<soapenv:Envelope xmlns:soapenv="{SOAPENV}"><soapenv:Body><notificationsResponse xmlns="{OM}">'
       "<Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>")
NACK = ACK.replace("<Ack>true</Ack>", "<Ack>false</Ack>")
FLOW_SECRET = "whsec_" + base64.b64encode(b"flow-secret-key-0123456789abcdef").decode()
LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)\Z")


# Test receiver and fixtures -------------------------------------------------------------------

def verify_standard_webhook(secret: str, headers, body: bytes) -> bool:
    """Standard Webhooks check, written independently of the sandbox code."""
    key = base64.b64decode(secret.split("_", 1)[1])
    msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "0")
    if abs(time.time() - int(stamp)) > 300:
        return False
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest())
    given = [part.split(",", 1)[1] for part in headers.get("webhook-signature", "").split() if part.startswith("v1,")]
    return any(hmac.compare_digest(expected.decode(), sig) for sig in given)


class Receiver:
    """A tiny trigger receiver over real HTTP: /om answers SOAP as scripted, /flow verifies signatures."""

    def __init__(self):
        self.hits: list[dict] = []
        self.script: list[tuple[int, str, str]] = []
        app = Flask("sf_receiver")

        @app.post("/om")
        def om():
            self.hits.append({"path": "/om", "headers": dict(request.headers), "body": request.get_data()})
            status, text, ctype = self.script.pop(0) if self.script else (200, ACK, "text/xml")
            return Response(text, status=status, content_type=ctype)

        @app.post("/flow")
        def flow():
            raw = request.get_data()
            self.hits.append({"path": "/flow", "headers": dict(request.headers), "body": raw,
                              "json": json.loads(raw), "verified": verify_standard_webhook(
                                  FLOW_SECRET, request.headers, raw)})
            status, text, ctype = self.script.pop(0) if self.script else (204, "", "text/plain")
            return Response(text, status=status, content_type=ctype)

        self.server = ThreadedServer(app).start()
        self.om_url, self.flow_url = f"{self.server.url}/om", f"{self.server.url}/flow"


@pytest.fixture(scope="module")
def servers():
    """The sandbox (retry delays 0) and a receiver, each on its own loopback port."""
    app = create_app(SandboxConfig(outbound_retry_delays=[0.0, 0.0, 0.0, 0.0], outbound_timeout=5.0))
    sandbox = ThreadedServer(app).start()
    receiver = Receiver()
    yield sandbox, receiver
    sandbox.stop()
    receiver.server.stop()


@pytest.fixture()
def base(servers) -> str:
    """Base URL of a freshly reset sandbox."""
    sandbox, receiver = servers
    requests.post(f"{sandbox.url}/_control/reset", timeout=5).raise_for_status()
    receiver.hits.clear()
    receiver.script.clear()
    return sandbox.url


@pytest.fixture()
def receiver(servers) -> Receiver:
    """The trigger receiver."""
    return servers[1]


def control(base: str, method: str, path: str, body: dict | None = None) -> dict:
    """Call the control API and return its JSON."""
    resp = requests.request(method, f"{base}/_control{path}", json=body, timeout=30)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


def pkce() -> tuple[str, str]:
    """(verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(base: str, challenge: str, **extra) -> requests.Response:
    """GET /services/oauth2/authorize without following the redirect."""
    params = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "state": "st-42",
              "code_challenge": challenge, "code_challenge_method": "S256", "scope": "api refresh_token"}
    params.update(extra)
    return requests.get(f"{base}/services/oauth2/authorize", params=params, allow_redirects=False, timeout=5)


def redirect_params(resp: requests.Response) -> dict:
    """Query parameters of a 302 Location."""
    assert resp.status_code == 302, resp.text
    return {k: v[0] for k, v in parse_qs(urlsplit(resp.headers["Location"]).query).items()}


def token_call(base: str, **form) -> requests.Response:
    """POST /services/oauth2/token (form-encoded)."""
    data = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **form}
    return requests.post(f"{base}/services/oauth2/token", data=data, timeout=5)


def connect(base: str) -> dict:
    """The whole PKCE flow; the token response."""
    verifier, challenge = pkce()
    code = redirect_params(authorize(base, challenge))["code"]
    resp = token_call(base, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                      code_verifier=verifier)
    assert resp.status_code == 200, resp.text
    return resp.json()


@pytest.fixture()
def token(base) -> str:
    """A live access token."""
    return connect(base)["access_token"]


def api(base: str, token: str | None, method: str, path: str, **kwargs) -> requests.Response:
    """A REST call under /services/data/v67.0."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, f"{base}{API}{path}", headers=headers, timeout=10, **kwargs)


def soql(base: str, token: str, text: str) -> requests.Response:
    """GET /query?q=…"""
    return api(base, token, "GET", "/query", params={"q": text})


def error_of(resp: requests.Response) -> dict:
    """The first item of a Salesforce error array."""
    body = resp.json()
    assert isinstance(body, list) and body, body
    return body[0]


def new_mission(base: str, **fields) -> dict:
    """Create a mission through the control API; its answer."""
    defaults = {} if fields.get("object") else {"Start_Date__c": "2026-01-05", "End_Date__c": "2026-06-30"}
    return control(base, "POST", "/missions", {**defaults, **fields})


def task(**fields) -> dict:
    """A valid Task record for collections."""
    body = {"attributes": {"type": "Task"}, "Subject": "Mission ends in 30 days", "ActivityDate": "2026-05-31",
            "Status": "Not Started", "Priority": "Normal", "OwnerId": CLAIRE, "WhoId": JEAN,
            "IsReminderSet": True, "ReminderDateTime": "2026-05-31T07:00:00.000Z"}
    body.update(fields)
    return body


# OAuth --------------------------------------------------------------------------------------

def test_pkce_flow_end_to_end(base):
    verifier, challenge = pkce()
    params = redirect_params(authorize(base, challenge))
    assert params["state"] == "st-42" and params["code"]
    resp = token_call(base, grant_type="authorization_code", code=params["code"], redirect_uri=REDIRECT,
                      code_verifier=verifier)
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"access_token", "refresh_token", "signature", "scope", "instance_url", "id",
                         "token_type", "issued_at"}
    assert body["instance_url"] == base and body["token_type"] == "Bearer" and body["scope"] == "api refresh_token"
    assert body["id"] == f"{base}/id/{ORG_ID}/{ADMIN}"
    assert re.fullmatch(r"\d{13}", body["issued_at"])
    expected = base64.b64encode(hmac.new(CLIENT_SECRET.encode(), (body["id"] + body["issued_at"]).encode(),
                                         hashlib.sha256).digest()).decode()
    assert body["signature"] == expected
    answer = soql(base, body["access_token"], "SELECT Id, Name FROM User WHERE Id = '005000000000002AAA'")
    assert answer.status_code == 200 and answer.json()["records"][0]["Name"] == "Claire Martin"
    identity = requests.get(body["id"], headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=5)
    assert identity.json()["organization_id"] == ORG_ID
    again = token_call(base, grant_type="authorization_code", code=params["code"], redirect_uri=REDIRECT,
                       code_verifier=verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_wrong_verifier_is_invalid_grant(base):
    _, challenge = pkce()
    code = redirect_params(authorize(base, challenge))["code"]
    resp = token_call(base, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                      code_verifier="not-the-verifier")
    assert resp.status_code == 400
    assert resp.json() == {"error": "invalid_grant", "error_description": "invalid code verifier"}


def test_authorize_refuses_plain_pkce_bad_client_and_foreign_redirect(base):
    _, challenge = pkce()
    plain = redirect_params(authorize(base, challenge, code_challenge_method="plain"))
    assert plain["error"] == "invalid_request" and plain["state"] == "st-42"
    missing = redirect_params(authorize(base, ""))
    assert missing["error"] == "invalid_request"
    assert authorize(base, challenge, redirect_uri="https://evil.example/cb").status_code == 400
    assert authorize(base, challenge, client_id="someone-else").status_code == 400
    assert redirect_params(authorize(base, challenge, redirect_uri="http://localhost:9/x"))["code"]


def test_token_endpoint_checks_client_and_grant_type(base):
    verifier, challenge = pkce()
    code = redirect_params(authorize(base, challenge))["code"]
    bad = token_call(base, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                     code_verifier=verifier, client_secret="wrong")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_client"
    unknown = token_call(base, grant_type="refresh_token", refresh_token="x", client_id="other")
    assert unknown.json() == {"error": "invalid_client_id", "error_description": "client identifier invalid"}
    tokens = connect(base)
    basic = requests.post(f"{base}/services/oauth2/token", auth=(CLIENT_ID, CLIENT_SECRET), timeout=5,
                          data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert basic.status_code == 200 and basic.json()["access_token"]
    as_json = requests.post(f"{base}/services/oauth2/token", json={"grant_type": "refresh_token"}, timeout=5)
    assert as_json.status_code == 400 and as_json.json()["error"] == "unsupported_grant_type"
    grants = control(base, "GET", "/calls")["token_grants"]
    assert grants == {"authorization_code": 2, "refresh_token": 2}


def test_refresh_rotation_kills_the_old_refresh_token(base):
    first = connect(base)
    resp = token_call(base, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert resp.status_code == 200
    second = resp.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    replay = token_call(base, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert replay.status_code == 400
    assert replay.json() == {"error": "invalid_grant", "error_description": "expired access/refresh token"}
    assert soql(base, second["access_token"], "SELECT Id FROM Account").status_code == 200
    assert control(base, "GET", "/calls")["token_grants"] == {"authorization_code": 1, "refresh_token": 2}


def test_refresh_without_rotation_keeps_the_refresh_token(base):
    control(base, "POST", "/config", {"rotate_refresh_tokens": False})
    first = connect(base)
    for _ in range(2):
        resp = token_call(base, grant_type="refresh_token", refresh_token=first["refresh_token"])
        assert resp.status_code == 200 and "refresh_token" not in resp.json()


def test_expired_access_token_answers_401_invalid_session(base):
    tokens = connect(base)
    control(base, "POST", "/oauth/expire-access-tokens")
    resp = soql(base, tokens["access_token"], "SELECT Id FROM Account")
    assert resp.status_code == 401
    assert resp.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    assert api(base, None, "GET", "/limits").status_code == 401
    fresh = token_call(base, grant_type="refresh_token", refresh_token=tokens["refresh_token"]).json()
    assert soql(base, fresh["access_token"], "SELECT Id FROM Account").status_code == 200
    control(base, "POST", "/config", {"access_token_ttl_seconds": 0})
    assert soql(base, connect(base)["access_token"], "SELECT Id FROM Account").status_code == 401


def test_revoke_kills_refresh_and_access_tokens(base):
    tokens = connect(base)
    resp = requests.post(f"{base}/services/oauth2/revoke", data={"token": tokens["refresh_token"]}, timeout=5)
    assert resp.status_code == 200
    assert soql(base, tokens["access_token"], "SELECT Id FROM Account").status_code == 401
    dead = token_call(base, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert dead.json()["error"] == "invalid_grant"
    unknown = requests.post(f"{base}/services/oauth2/revoke", data={"token": "nope"}, timeout=5)
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_token"
    other = connect(base)
    control(base, "POST", "/oauth/revoke-all")
    assert soql(base, other["access_token"], "SELECT Id FROM Account").status_code == 401
    assert token_call(base, grant_type="refresh_token", refresh_token=other["refresh_token"]).status_code == 400


# API limit ----------------------------------------------------------------------------------

def test_limit_info_header_counts_every_rest_call(base, token):
    seen = []
    for path in ("/limits", "/sobjects/Task/00T000000000999AAA", "/query?q=SELECT+Id+FROM+Account"):
        resp = api(base, token, "GET", path)
        used, limit = LIMIT_INFO.match(resp.headers["Sforce-Limit-Info"]).groups()
        seen.append(int(used))
        assert int(limit) == 15000
    assert seen == [1, 2, 3]
    assert control(base, "GET", "/limits")["used"] == 3


def test_daily_limit_answers_403_request_limit_exceeded(base, token):
    control(base, "POST", "/config", {"daily_api_limit": 10})
    control(base, "POST", "/limits", {"used": 9})
    assert api(base, token, "GET", "/limits").status_code == 200
    resp = api(base, token, "GET", "/limits")
    assert resp.status_code == 403
    assert resp.json() == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    assert resp.headers["Sforce-Limit-Info"] == "api-usage=10/10"
    control(base, "POST", "/limits/reset")
    assert api(base, token, "GET", "/limits").json()["DailyApiRequests"] == {"Max": 10, "Remaining": 9}


# SOQL ---------------------------------------------------------------------------------------

def test_soql_fields_where_order_and_datetime_rendering(base, token):
    a = new_mission(base, End_Date__c="2026-05-07")["record"]["Id"]
    b = new_mission(base, End_Date__c="2026-09-30", Status__c="Ended", End_Reason__c="Client")["record"]["Id"]
    c = new_mission(base, End_Date__c=None)["record"]["Id"]
    assert re.fullmatch(r"a0X\d{12}AAA", a) and a < b < c
    resp = soql(base, token, "select Id, end_date__c, Status__c FROM mission__c WHERE End_Date__c >= 2026-05-01 "
                             "AND status__c IN ('active', 'ENDED') ORDER BY End_Date__c DESC")
    body = resp.json()
    assert body["totalSize"] == 2 and body["done"] is True
    assert [r["Id"] for r in body["records"]] == [b, a]
    assert body["records"][0] == {"attributes": {"type": "Mission__c", "url": f"{API}/sobjects/Mission__c/{b}"},
                                  "Id": b, "End_Date__c": "2026-09-30", "Status__c": "Ended"}
    nulls = soql(base, token, "SELECT Id FROM Mission__c WHERE End_Date__c = null").json()
    assert [r["Id"] for r in nulls["records"]] == [c]
    ordered = soql(base, token, "SELECT Id FROM Mission__c ORDER BY End_Date__c ASC NULLS LAST LIMIT 2").json()
    assert [r["Id"] for r in ordered["records"]] == [a, b]
    recent = soql(base, token, "SELECT Id, LastModifiedDate FROM Mission__c WHERE LastModifiedDate > "
                               "2026-01-01T00:00:00Z AND (Name LIKE 'm-%' OR Name != null)").json()
    assert recent["totalSize"] == 3
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000\+0000", recent["records"][0]["LastModifiedDate"])
    short = soql(base, token, f"SELECT Id FROM Mission__c WHERE Id = '{a[:15]}'").json()
    assert [r["Id"] for r in short["records"]] == [a]


def test_soql_relationship_paths_come_back_nested(base, token):
    mission = new_mission(base, Business_Engineer__c=None)["record"]["Id"]
    rows = soql(base, token, "SELECT Id, Consultant__r.Name, Consultant__r.pse__Salesforce_User__c, "
                             "Manager__r.Email, Business_Engineer__r.Name FROM Mission__c").json()["records"]
    row = rows[0]
    assert row["Id"] == mission and row["Business_Engineer__r"] is None
    assert row["Consultant__r"] == {"attributes": {"type": "Contact", "url": f"{API}/sobjects/Contact/{JEAN}"},
                                    "Name": "Jean Dupont", "pse__Salesforce_User__c": JEAN_USER}
    assert row["Manager__r"]["Email"] == "claire.martin@esn-sandbox.example"
    assignment = new_mission(base, object="pse__Assignment__c", pse__Start_Date__c="2026-01-05",
                             pse__End_Date__c="2026-07-31")["record"]["Id"]
    psa = soql(base, token, "SELECT Id, pse__End_Date__c, pse__Project__r.OwnerId, pse__Project__r.pse__Account__c, "
                            "pse__Resource__r.pse__Salesforce_User__c FROM pse__Assignment__c "
                            "WHERE pse__Project__r.OwnerId = '005000000000002AAA'").json()["records"]
    assert psa[0]["Id"] == assignment and psa[0]["pse__End_Date__c"] == "2026-07-31"
    assert psa[0]["pse__Project__r"]["attributes"]["type"] == "pse__Proj__c"
    assert psa[0]["pse__Project__r"]["OwnerId"] == CLAIRE and psa[0]["pse__Project__r"]["pse__Account__c"] == ACME
    assert psa[0]["pse__Resource__r"]["pse__Salesforce_User__c"] == JEAN_USER
    bad = soql(base, token, "SELECT Id, Nope__r.Name FROM Mission__c")
    assert bad.status_code == 400 and error_of(bad)["errorCode"] == "INVALID_FIELD"


def test_soql_paging_follows_next_records_url(base, token):
    control(base, "POST", "/config", {"max_query_batch": 2})
    made = [new_mission(base, deliver=False)["record"]["Id"] for _ in range(5)]
    first = soql(base, token, "SELECT Id FROM Mission__c ORDER BY Id").json()
    assert first["totalSize"] == 5 and first["done"] is False and len(first["records"]) == 2
    assert re.fullmatch(rf"{re.escape(API)}/query/01g\w{{15}}-2", first["nextRecordsUrl"])
    ids, page = [r["Id"] for r in first["records"]], first
    while not page["done"]:
        page = requests.get(f"{base}{page['nextRecordsUrl']}", headers={"Authorization": f"Bearer {token}"},
                            timeout=5).json()
        ids += [r["Id"] for r in page["records"]]
    assert ids == made and "nextRecordsUrl" not in page
    bad = api(base, token, "GET", "/query/01g000000000999AAA-2")
    assert bad.status_code == 400 and error_of(bad)["errorCode"] == "INVALID_QUERY_LOCATOR"
    assert control(base, "GET", "/calls")["by_route"]["GET /query/<locator>"] == 3


@pytest.mark.parametrize("version", ["v31.0", "v51.0", "v59.0"])
def test_every_url_an_answer_carries_is_at_the_version_asked_for(base, token, version):
    from connectors.salesforce.client import SalesforceClient

    control(base, "POST", "/config", {"max_query_batch": 2})
    made = [new_mission(base, deliver=False)["record"]["Id"] for _ in range(5)]
    prefix = f"/services/data/{version}"
    first = requests.get(f"{base}{prefix}/query", params={"q": "SELECT Id FROM Mission__c ORDER BY Id"},
                         headers={"Authorization": f"Bearer {token}"}, timeout=5).json()
    assert first["nextRecordsUrl"].startswith(f"{prefix}/query/01g")
    assert first["records"][0]["attributes"]["url"] == f"{prefix}/sobjects/Mission__c/{made[0]}"
    tokens = SimpleNamespace(access_token=lambda: token, refresh=lambda stale: token)
    client = SalesforceClient(base, tokens, api_version=version)  # the product's own client pages at any version
    assert [r["Id"] for r in client.query_all("SELECT Id FROM Mission__c ORDER BY Id")] == made
    described = client.request("GET", "/sobjects").json()["sobjects"][0]["urls"]["describe"]
    assert described.startswith(f"{prefix}/sobjects/")
    inner = client.composite([{"method": "GET", "url": "/query?q=SELECT+Id+FROM+Mission__c", "referenceId": "q"}])
    assert inner[0].status == 200, inner[0].body
    assert inner[0].body["nextRecordsUrl"].startswith(f"{prefix}/query/")


@pytest.mark.parametrize("text, code", [
    ("SELEC Id FROM Task", "MALFORMED_QUERY"),
    ("SELECT COUNT() FROM Task", "MALFORMED_QUERY"),
    ("SELECT Id FROM Task WHERE Status = 'A' AND Priority = 'B' OR Subject = 'C'", "MALFORMED_QUERY"),
    ("SELECT Id FROM Task LIMIT", "MALFORMED_QUERY"),
    ("SELECT Id, Id FROM Task", "MALFORMED_QUERY"),
    ("SELECT Id FROM Nope__c", "INVALID_TYPE"),
    ("SELECT Nope__c FROM Task", "INVALID_FIELD"),
    ("SELECT Id FROM Mission__c WHERE End_Date__c > '2026-01-01'", "INVALID_QUERY_FILTER_OPERATOR"),
    ("SELECT Id FROM Mission__c WHERE LastModifiedDate > 2026-01-01", "INVALID_QUERY_FILTER_OPERATOR"),
    ("", "MALFORMED_QUERY"),
])
def test_soql_refuses_what_salesforce_refuses(base, token, text, code):
    resp = soql(base, token, text)
    assert resp.status_code == 400 and error_of(resp)["errorCode"] == code


def test_deleted_missions_leave_query_but_stay_in_query_all(base, token):
    gone = new_mission(base)["record"]["Id"]
    control(base, "DELETE", f"/missions/{gone}")
    assert soql(base, token, "SELECT Id FROM Mission__c").json()["totalSize"] == 0
    everything = api(base, token, "GET", "/queryAll", params={"q": "SELECT Id, IsDeleted FROM Mission__c"}).json()
    assert everything["records"][0]["IsDeleted"] is True


# Tasks: single records ------------------------------------------------------------------------

def test_task_single_record_lifecycle(base, token):
    mission = new_mission(base)["record"]["Id"]
    body = {k: v for k, v in task(WhatId=mission, ReminderDateTime="2026-05-31T09:00:00+02:00").items()
            if k != "attributes"}
    created = api(base, token, "POST", "/sobjects/Task", json=body)
    assert created.status_code == 201
    task_id = created.json()["id"]
    assert created.json() == {"id": task_id, "success": True, "errors": []} and task_id.startswith("00T")
    got = api(base, token, "GET", f"/sobjects/Task/{task_id}").json()
    assert got["ReminderDateTime"] == "2026-05-31T07:00:00.000+0000" and got["ActivityDate"] == "2026-05-31"
    assert got["Status"] == "Not Started" and got["WhatId"] == mission
    some = api(base, token, "GET", f"/sobjects/Task/{task_id}", params={"fields": "Subject,Priority"}).json()
    assert set(some) == {"attributes", "Subject", "Priority"}
    assert api(base, token, "PATCH", f"/sobjects/Task/{task_id}", json={"Status": "Completed"}).status_code == 204
    assert control(base, "GET", "/tasks")["records"][0]["Status"] == "Completed"
    assert api(base, token, "DELETE", f"/sobjects/Task/{task_id}").status_code == 204
    gone = api(base, token, "GET", f"/sobjects/Task/{task_id}")
    assert gone.status_code == 404 and error_of(gone)["errorCode"] == "ENTITY_IS_DELETED"
    unknown = api(base, token, "PATCH", "/sobjects/Task/00T000000000999AAA", json={"Status": "Completed"})
    assert unknown.status_code == 404
    assert unknown.json() == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]


@pytest.mark.parametrize("fields, code, field", [
    ({"ActivityDate": "2026-05-31T00:00:00.000Z"}, "JSON_PARSER_ERROR", "ActivityDate"),
    ({"ActivityDate": "31/05/2026"}, "JSON_PARSER_ERROR", "ActivityDate"),
    ({"ReminderDateTime": "2026-05-31"}, "JSON_PARSER_ERROR", "ReminderDateTime"),
    ({"ReminderDateTime": "2026-05-31T07:00:00"}, "JSON_PARSER_ERROR", "ReminderDateTime"),
    ({"IsReminderSet": "yes"}, "JSON_PARSER_ERROR", "IsReminderSet"),
    ({"OwnerId": "005000000000099AAA"}, "INVALID_CROSS_REFERENCE_KEY", "OwnerId"),
    ({"OwnerId": JEAN}, "INVALID_CROSS_REFERENCE_KEY", "OwnerId"),
    ({"OwnerId": "not-an-id"}, "MALFORMED_ID", "OwnerId"),
    ({"WhoId": CLAIRE}, "INVALID_CROSS_REFERENCE_KEY", "WhoId"),
    ({"WhatId": "a0X000000000999AAA"}, "INVALID_CROSS_REFERENCE_KEY", "WhatId"),
    ({"Status": "Done"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "Status"),
    ({"Priority": None}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "Priority"),
    ({"Subject": "x" * 256}, "STRING_TOO_LONG", "Subject"),
    ({"CreatedDate": "2026-01-01T00:00:00Z"}, "INVALID_FIELD_FOR_INSERT_UPDATE", "CreatedDate"),
])
def test_task_validation_errors(base, token, fields, code, field):
    body = {k: v for k, v in task(**fields).items() if k != "attributes"}
    resp = api(base, token, "POST", "/sobjects/Task", json=body)
    assert resp.status_code == 400, resp.text
    error = error_of(resp)
    assert error["errorCode"] == code and field in error["fields"]
    assert control(base, "GET", "/tasks")["totalSize"] == 0


def test_unknown_field_and_duplicate_external_id(base, token):
    unknown = api(base, token, "POST", "/sobjects/Task", json={"Subject": "x", "Mission_Event_Key__c": "k"})
    assert unknown.status_code == 400 and error_of(unknown)["errorCode"] == "INVALID_FIELD"
    body = {"Subject": "x", "Intermission_Key__c": "a0X000000000100AAA/j-30"}
    first = api(base, token, "POST", "/sobjects/Task", json=body)
    assert first.status_code == 201
    again = api(base, token, "POST", "/sobjects/Task", json=body)
    assert again.status_code == 400 and error_of(again)["errorCode"] == "DUPLICATE_VALUE"
    assert first.json()["id"] in error_of(again)["message"]


def test_single_upsert_by_external_id(base, token):
    url = "/sobjects/Task/Intermission_Key__c/a0X000000000100AAA/j-30"
    created = api(base, token, "PATCH", url, json={"Subject": "J-30", "ActivityDate": "2026-05-31"})
    assert created.status_code == 201 and created.json()["created"] is True
    updated = api(base, token, "PATCH", url, json={"Subject": "J-30 (moved)"})
    assert updated.status_code == 200 and updated.json() == {"id": created.json()["id"], "success": True,
                                                            "errors": [], "created": False}
    assert api(base, token, "GET", url).json()["Subject"] == "J-30 (moved)"
    in_body = api(base, token, "PATCH", url, json={"Intermission_Key__c": "a0X000000000100AAA/j-30"})
    assert in_body.status_code == 400
    assert api(base, token, "PATCH", "/sobjects/Task/Subject/x", json={}).status_code == 404


# Collections -------------------------------------------------------------------------------

def test_composite_create_reports_per_record_errors_in_order(base, token):
    records = [task(), task(OwnerId="005000000000099AAA"), task(Subject="y" * 300), task(Priority="High")]
    resp = api(base, token, "POST", "/composite/sobjects", json={"allOrNone": False, "records": records})
    assert resp.status_code == 200
    results = resp.json()
    assert [r["success"] for r in results] == [True, False, False, True]
    assert results[1] == {"success": False, "errors": [{"statusCode": "INVALID_CROSS_REFERENCE_KEY",
                                                        "message": "invalid cross reference id",
                                                        "fields": ["OwnerId"]}]}
    assert results[2]["errors"][0]["statusCode"] == "STRING_TOO_LONG"
    assert results[0]["errors"] == [] and results[0]["id"].startswith("00T")
    assert control(base, "GET", "/tasks")["totalSize"] == 2
    calls = control(base, "GET", "/calls")
    assert calls["by_route"] == {"POST /composite/sobjects": 1}
    assert control(base, "GET", "/limits")["used"] == 1


def test_composite_all_or_none_rolls_everything_back(base, token):
    records = [task(), task(Status="Nope"), task()]
    results = api(base, token, "POST", "/composite/sobjects", json={"allOrNone": True, "records": records}).json()
    assert [r["success"] for r in results] == [False, False, False]
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert control(base, "GET", "/tasks")["totalSize"] == 0
    ok = api(base, token, "POST", "/composite/sobjects", json={"allOrNone": True, "records": [task()]}).json()
    assert ok[0]["id"] == "00T000000001000AAA"


def test_collections_refuse_more_than_200_records(base, token):
    too_many = {"allOrNone": False, "records": [task() for _ in range(201)]}
    expected = [{"message": "record limit reached. cannot submit more than 200 records into this call",
                 "errorCode": "EXCEEDED_ID_LIMIT"}]
    for method in ("POST", "PATCH"):
        resp = api(base, token, method, "/composite/sobjects", json=too_many)
        assert resp.status_code == 400 and resp.json() == expected
    ids = ",".join(f"00T{n:012d}AAA" for n in range(201))
    assert api(base, token, "DELETE", "/composite/sobjects", params={"ids": ids}).json() == expected
    assert api(base, token, "POST", "/composite/sobjects",
               json={"records": [task() for _ in range(200)]}).status_code == 200


def test_composite_datetime_in_activity_date_refuses_the_whole_request(base, token):
    records = [task(), task(ActivityDate="2026-05-31T07:00:00.000Z")]
    resp = api(base, token, "POST", "/composite/sobjects", json={"records": records})
    assert resp.status_code == 400
    assert error_of(resp)["errorCode"] == "JSON_PARSER_ERROR" and error_of(resp)["fields"] == ["ActivityDate"]
    assert control(base, "GET", "/tasks")["totalSize"] == 0


def test_composite_update_and_delete(base, token):
    created = api(base, token, "POST", "/composite/sobjects", json={"records": [task(), task()]}).json()
    first, second = created[0]["id"], created[1]["id"]
    updates = [{"attributes": {"type": "Task"}, "Id": first, "Status": "Completed"},
               {"attributes": {"type": "Task"}, "Status": "Completed"},
               {"attributes": {"type": "Task"}, "Id": "00T000000000999AAA", "Status": "Completed"}]
    results = api(base, token, "PATCH", "/composite/sobjects", json={"records": updates}).json()
    assert results[0] == {"id": first, "success": True, "errors": []}
    assert results[1]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    assert not results[2]["success"]
    deleted = api(base, token, "DELETE", "/composite/sobjects",
                  params={"ids": f"{first},{second},bad-id", "allOrNone": "false"}).json()
    assert [d["success"] for d in deleted] == [True, True, False]
    assert deleted[2]["errors"][0]["statusCode"] == "MALFORMED_ID"
    twice = api(base, token, "DELETE", "/composite/sobjects", params={"ids": first}).json()
    assert twice[0]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    live = soql(base, token, "SELECT Id FROM Task").json()
    assert live["totalSize"] == 0


def test_composite_upsert_by_external_id(base, token):
    url = "/composite/sobjects/Task/Intermission_Key__c"
    records = [task(Intermission_Key__c="m1/j-30"), task(Intermission_Key__c="m1/j-7")]
    first = api(base, token, "PATCH", url, json={"allOrNone": False, "records": records}).json()
    assert [(r["success"], r["created"]) for r in first] == [(True, True), (True, True)]
    again = [task(Intermission_Key__c="m1/j-30", Subject="moved"), task(Intermission_Key__c="m1/j-7", Status="x"),
             task(Intermission_Key__c="m1/j-1"), task(Intermission_Key__c="m1/j-1")]
    second = api(base, token, "PATCH", url, json={"allOrNone": False, "records": again}).json()
    assert second[0] == {"id": first[0]["id"], "success": True, "errors": [], "created": False}
    assert second[1]["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert second[2]["errors"][0]["statusCode"] == "DUPLICATE_EXTERNAL_ID"
    rows = soql(base, token, "SELECT Intermission_Key__c, Subject FROM Task ORDER BY Intermission_Key__c").json()
    assert [(r["Intermission_Key__c"], r["Subject"]) for r in rows["records"]] == [
        ("m1/j-30", "moved"), ("m1/j-7", "Mission ends in 30 days")]
    control(base, "POST", "/config", {"has_external_id_field": False})
    missing = api(base, token, "PATCH", url, json={"records": records})
    assert missing.status_code == 400 and error_of(missing)["errorCode"] == "INVALID_FIELD"
    plain = api(base, token, "POST", "/composite/sobjects", json={"records": [task()]}).json()
    assert plain[0]["success"] is True



# Composite ---------------------------------------------------------------------------------

def sub(method: str, url: str, ref: str, body=None) -> dict:
    """One compositeRequest entry (url relative to the API base)."""
    entry = {"method": method, "url": f"{API}{url}", "referenceId": ref}
    return entry if body is None else {**entry, "body": body}


def composite(base: str, token: str, subs: list[dict], all_or_none: bool = False) -> requests.Response:
    """POST /composite."""
    return api(base, token, "POST", "/composite",
               json={"allOrNone": all_or_none, "collateSubrequests": False, "compositeRequest": subs})


def test_composite_runs_collections_in_order_as_one_api_call(base, token):
    first = api(base, token, "POST", "/composite/sobjects", json={"records": [task(), task()]}).json()
    keep, gone = first[0]["id"], first[1]["id"]
    control(base, "POST", "/calls/reset")
    used = control(base, "GET", "/limits")["used"]
    resp = composite(base, token, [
        sub("POST", "/composite/sobjects", "create",
            {"allOrNone": False, "records": [task(Subject="new"), task(OwnerId="005000000000099AAA")]}),
        sub("PATCH", "/composite/sobjects", "update", {"allOrNone": False, "records": [
            {"attributes": {"type": "Task"}, "Id": keep, "Subject": "moved"}]}),
        sub("DELETE", f"/composite/sobjects?ids={gone}&allOrNone=false", "delete"),
        sub("GET", "/query?q=SELECT+Subject+FROM+Task+ORDER+BY+Subject", "read")])
    assert resp.status_code == 200 and "Sforce-Limit-Info" in resp.headers
    answers = resp.json()["compositeResponse"]
    assert [(a["referenceId"], a["httpStatusCode"], a["httpHeaders"]) for a in answers] == [
        ("create", 200, {}), ("update", 200, {}), ("delete", 200, {}), ("read", 200, {})]
    created = answers[0]["body"]
    assert created[0]["success"] is True and created[1] == {"success": False, "errors": [
        {"statusCode": "INVALID_CROSS_REFERENCE_KEY", "message": "invalid cross reference id", "fields": ["OwnerId"]}]}
    assert answers[1]["body"] == [{"id": keep, "success": True, "errors": []}]
    assert answers[2]["body"] == [{"id": gone, "success": True, "errors": []}]
    assert [r["Subject"] for r in answers[3]["body"]["records"]] == ["moved", "new"]  # later ones see earlier writes
    assert control(base, "GET", "/calls")["by_route"] == {"POST /composite": 1}
    assert control(base, "GET", "/limits")["used"] == used + 1


def test_composite_subrequests_answer_like_the_direct_calls(base, token):
    too_many = {"records": [task() for _ in range(201)]}
    answers = composite(base, token, [
        sub("POST", "/composite/sobjects", "bad_date", {"records": [task(ActivityDate="2026-05-31T07:00:00.000Z")]}),
        sub("POST", "/composite/sobjects", "too_many", too_many),
        sub("GET", "/nope", "unknown"),
        {"method": "GET", "url": "/services/data/v30.0/limits", "referenceId": "old_version"},  # retired
        {"method": "POST", "url": "/_control/reset", "referenceId": "control"},
        sub("POST", "/composite", "nested", {"compositeRequest": []}),
        sub("PUT", "/composite/sobjects", "wrong_verb", {}),
        sub("PATCH", "/sobjects/Task/00T000000000999AAA", "missing", {"Subject": "x"}),
        sub("POST", "/sobjects/Task", "single", task())]).json()["compositeResponse"]
    status = {a["referenceId"]: (a["httpStatusCode"], (a["body"] or [{}])[0].get("errorCode")
                                 if isinstance(a["body"], list) else a["body"]["success"]) for a in answers}
    assert status == {"bad_date": (400, "JSON_PARSER_ERROR"), "too_many": (400, "EXCEEDED_ID_LIMIT"),
                      "unknown": (404, "NOT_FOUND"), "old_version": (404, "NOT_FOUND"), "control": (404, "NOT_FOUND"),
                      "nested": (404, "NOT_FOUND"), "wrong_verb": (405, "METHOD_NOT_ALLOWED"),
                      "missing": (404, "NOT_FOUND"), "single": (201, True)}
    assert answers[0]["body"][0]["fields"] == ["ActivityDate"]
    assert control(base, "GET", "/tasks")["totalSize"] == 1  # only the single create


def test_composite_limits_and_malformed_bodies_refuse_the_whole_call(base, token):
    used = control(base, "GET", "/limits")["used"]
    reads = [sub("GET", "/limits", f"r{n}") for n in range(26)]
    over = composite(base, token, reads)
    assert over.status_code == 400 and error_of(over)["errorCode"] == "LIMIT_EXCEEDED"
    six = [sub("POST", "/composite/sobjects", f"c{n}", {"records": [task()]}) for n in range(5)]
    six.append(sub("GET", "/queryAll?q=SELECT+Id+FROM+Task", "q"))
    refused = composite(base, token, six)
    assert refused.status_code == 400 and error_of(refused)["errorCode"] == "LIMIT_EXCEEDED"
    assert "5 sObject Collections or query" in error_of(refused)["message"]
    assert composite(base, token, six[:5] + reads[:20]).status_code == 200  # 25, of which 5 collections
    for bad in ({"compositeRequest": []}, {"compositeRequest": [{"method": "GET", "url": f"{API}/limits"}]},
                {"compositeRequest": [sub("FETCH", "/limits", "a")]},
                {"allOrNone": "yes", "compositeRequest": reads[:1]},
                {"compositeRequest": [sub("GET", "/limits", "a"), sub("GET", "/limits", "a")]}):
        resp = api(base, token, "POST", "/composite", json=bad)
        assert resp.status_code == 400 and error_of(resp)["errorCode"] == "JSON_PARSER_ERROR", bad
    assert api(base, token, "POST", "/composite", data="{").status_code == 400
    assert api(base, None, "POST", "/composite", json={"compositeRequest": reads[:1]}).status_code == 401
    assert control(base, "GET", "/tasks")["totalSize"] == 5
    assert control(base, "GET", "/limits")["used"] == used + 9  # a refused call counts once, like any other


def test_composite_all_or_none_rolls_every_subrequest_back(base, token):
    before = api(base, token, "POST", "/composite/sobjects", json={"records": [task()]}).json()[0]["id"]
    subs = [sub("POST", "/composite/sobjects", "ok", {"allOrNone": False, "records": [task()]}),
            sub("DELETE", f"/composite/sobjects?ids={before}", "delete"),
            sub("POST", "/composite/sobjects", "refused", {"allOrNone": False, "records": [task(), task(Status="x")]}),
            sub("GET", "/limits", "after")]
    answers = composite(base, token, subs, all_or_none=True).json()["compositeResponse"]
    assert [a["httpStatusCode"] for a in answers] == [400, 400, 200, 400]
    assert answers[0]["body"] == answers[1]["body"] == answers[3]["body"] == [
        {"errorCode": "PROCESSING_HALTED",
         "message": "The transaction was rolled back since another operation in the same transaction failed."}]
    assert [e["errors"][0]["statusCode"] for e in answers[2]["body"]] == [
        "ALL_OR_NONE_OPERATION_ROLLED_BACK", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"]
    tasks = control(base, "GET", "/tasks")["records"]
    assert [(t["Id"], t["IsDeleted"]) for t in tasks] == [(before, False)]
    fine = composite(base, token, subs[:2], all_or_none=True).json()["compositeResponse"]
    assert [a["httpStatusCode"] for a in fine] == [200, 200] and fine[0]["body"][0]["id"] == "00T000000001001AAA"


def test_composite_faults_hit_the_whole_call_or_one_subrequest(base, token):
    control(base, "POST", "/faults", {"kind": "500", "path": "/composite/sobjects", "method": "POST"})
    answers = composite(base, token, [sub("POST", "/composite/sobjects", "a", {"records": [task()]}),
                                      sub("POST", "/composite/sobjects", "b", {"records": [task()]})]).json()
    codes = [(a["httpStatusCode"], a["body"][0].get("errorCode")) for a in answers["compositeResponse"]]
    assert codes == [(500, "UNKNOWN_EXCEPTION"), (200, None)]
    control(base, "POST", "/faults", {"kind": "drop", "when": "after", "path": "/composite"})
    with pytest.raises(requests.ConnectionError):
        composite(base, token, [sub("POST", "/composite/sobjects", "c", {"records": [task()]})])
    control(base, "POST", "/faults", {"kind": "503"})
    busy = composite(base, token, [sub("POST", "/composite/sobjects", "d", {"records": [task()]})])
    assert busy.status_code == 503 and error_of(busy)["errorCode"] == "SERVER_UNAVAILABLE"
    assert control(base, "GET", "/tasks")["totalSize"] == 2
    assert control(base, "GET", "/faults") == {"faults": []}
    assert control(base, "GET", "/calls")["by_status"] == {"200": 1, "dropped": 1, "503": 1}

# Surveys -----------------------------------------------------------------------------------

def test_survey_invitation_and_its_link(base, token):
    body = {"Name": "End of mission - Jean Dupont", "SurveyId": "0Kd000000000001AAA", "ParticipantId": JEAN,
            "OptionsAllowGuestUserResponse": True, "InviteExpiryDateTime": "2026-07-31T00:00:00.000Z"}
    created = api(base, token, "POST", "/sobjects/SurveyInvitation", json=body)
    assert created.status_code == 201
    got = api(base, token, "GET", f"/sobjects/SurveyInvitation/{created.json()['id']}").json()
    assert got["InvitationLink"].startswith(f"{base}/survey/runtimeApp.app?invitationId={created.json()['id']}")
    assert "surveyName=end_of_mission" in got["InvitationLink"]
    assert got["ResponseStatus"] == "NotStarted" and got["ContactId"] == JEAN
    no_name = api(base, token, "POST", "/sobjects/SurveyInvitation", json={"SurveyId": "0Kd000000000001AAA"})
    assert error_of(no_name)["errorCode"] == "REQUIRED_FIELD_MISSING"
    control(base, "POST", "/config", {"has_surveys": False})
    assert api(base, token, "POST", "/sobjects/SurveyInvitation", json=body).status_code == 404
    assert error_of(soql(base, token, "SELECT Id FROM SurveyInvitation"))["errorCode"] == "INVALID_TYPE"


# Outbound Messages (SOAP) --------------------------------------------------------------------

def parse_notifications(raw: bytes) -> ET.Element:
    """The <notifications> element of a SOAP message."""
    root = ET.fromstring(raw)
    assert root.tag == f"{{{SOAPENV}}}Envelope"
    return root.find(f"{{{SOAPENV}}}Body/{{{OM}}}notifications")


def test_outbound_message_shape_and_first_try_ack(base, receiver):
    target = control(base, "POST", "/outbound", {"url": receiver.om_url, "object": "Mission__c",
                                                  "fields": ["Id", "End_Date__c", "Consultant__c",
                                                             "LastModifiedDate"]})
    answer = new_mission(base, End_Date__c="2026-09-30")
    mission = answer["record"]["Id"]
    assert answer["deliveries"][0]["acked"] is True and answer["deliveries"][0]["attempts"] == 1
    assert len(receiver.hits) == 1
    hit = receiver.hits[0]
    assert hit["headers"]["Content-Type"] == "text/xml; charset=utf-8" and hit["headers"]["Soapaction"] == '""'
    assert answer["notifications"][0] == hit["body"].decode()
    notes = parse_notifications(hit["body"])
    assert notes.findtext(f"{{{OM}}}OrganizationId") == ORG_ID
    assert notes.findtext(f"{{{OM}}}ActionId") == target["id"]
    assert notes.find(f"{{{OM}}}SessionId").get(f"{{{XSI}}}nil") == "true"
    assert notes.findtext(f"{{{OM}}}EnterpriseUrl") == f"{base}/services/Soap/c/67.0/00D000000000001"
    [note] = notes.findall(f"{{{OM}}}Notification")
    assert re.fullmatch(r"04l[0-9A-Za-z]{15}", note.findtext(f"{{{OM}}}Id"))
    sobject = note.find(f"{{{OM}}}sObject")
    assert sobject.get(f"{{{XSI}}}type") == "sf:Mission__c"
    assert sobject.findtext(f"{{{SF}}}Id") == mission and sobject.findtext(f"{{{SF}}}End_Date__c") == "2026-09-30"
    assert sobject.findtext(f"{{{SF}}}Consultant__c") == JEAN
    assert sobject.findtext(f"{{{SF}}}LastModifiedDate").endswith(".000Z")
    assert control(base, "GET", "/outbound/pending")["notifications"] == []


def test_outbound_retries_until_the_exact_ack(base, receiver):
    control(base, "POST", "/outbound", {"url": receiver.om_url})
    receiver.script = [(500, "boom", "text/plain"), (200, "OK", "text/plain"), (200, NACK, "text/xml"),
                       (200, "<html><body>Login</body></html>", "text/html")]
    answer = new_mission(base)
    assert answer["deliveries"] == [{"url": receiver.om_url, "status": 200, "acked": True, "attempts": 5,
                                     "notification_ids": answer["deliveries"][0]["notification_ids"]}]
    bodies = {hit["body"] for hit in receiver.hits}
    assert len(receiver.hits) == 5 and len(bodies) == 1
    log = control(base, "GET", "/outbound/log")["attempts"]
    assert [(e["status"], e["acked"]) for e in log] == [(500, False), (200, False), (200, False), (200, False),
                                                        (200, True)]
    assert log[1]["body_excerpt"] == "OK"


def test_unacknowledged_notifications_stay_pending_until_flushed(base, receiver):
    control(base, "POST", "/outbound", {"url": receiver.om_url})
    receiver.script = [(200, "OK", "text/plain")] * 5
    answer = new_mission(base)
    assert answer["deliveries"][0]["acked"] is False and answer["deliveries"][0]["attempts"] == 5
    pending = control(base, "GET", "/outbound/pending")["notifications"]
    assert [n["record_id"] for n in pending] == [answer["record"]["Id"]]
    flushed = control(base, "POST", "/outbound/flush")["deliveries"]
    assert flushed[0]["acked"] is True and flushed[0]["notification_ids"] == [pending[0]["id"]]
    assert control(base, "GET", "/outbound/pending")["notifications"] == []


def test_batch_sends_held_notifications_in_one_message(base, receiver):
    control(base, "POST", "/outbound", {"url": receiver.om_url})
    mission = new_mission(base, deliver=False)["record"]["Id"]
    other = new_mission(base, deliver=False)["record"]["Id"]
    control(base, "POST", f"/missions/{mission}/update", {"End_Date__c": "2026-05-07", "Status__c": "Ended",
                                                          "End_Reason__c": "Client", "deliver": False})
    control(base, "DELETE", f"/missions/{other}", {"deliver": False})
    assert receiver.hits == []
    sent = control(base, "POST", "/outbound/batch")["deliveries"]
    assert len(sent) == 1 and len(sent[0]["notification_ids"]) == 4 and sent[0]["acked"]
    notes = parse_notifications(receiver.hits[0]["body"]).findall(f"{{{OM}}}Notification")
    assert [n.findtext(f"{{{OM}}}Id") for n in notes] == sent[0]["notification_ids"]
    assert len(set(sent[0]["notification_ids"])) == 4
    first = notes[0].find(f"{{{OM}}}sObject")
    assert first.findtext(f"{{{SF}}}End_Date__c") == "2026-05-07"  # latest data at send time
    deleted = [n.find(f"{{{OM}}}sObject") for n in notes if n.find(f"{{{OM}}}sObject").findtext(f"{{{SF}}}Id") == other]
    assert all(len(list(s)) == 1 for s in deleted) and len(deleted) == 2


def test_duplicates_resend_the_same_notification_ids(base, receiver):
    control(base, "POST", "/config", {"duplicate_rate": 1.0})
    control(base, "POST", "/outbound", {"url": receiver.om_url})
    new_mission(base)
    assert len(receiver.hits) == 2 and receiver.hits[0]["body"] == receiver.hits[1]["body"]
    assert [e["duplicate"] for e in control(base, "GET", "/outbound/log")["attempts"]] == [False, True]


def test_shuffle_sends_a_batch_in_seeded_random_order(base, receiver):
    control(base, "POST", "/config", {"shuffle": True, "seed": 7})
    control(base, "POST", "/outbound", {"url": receiver.om_url})
    made = [new_mission(base, deliver=False)["record"]["Id"] for _ in range(8)]
    control(base, "POST", "/outbound/batch")
    notes = parse_notifications(receiver.hits[0]["body"]).findall(f"{{{OM}}}Notification")
    sent = [n.findtext(f"{{{OM}}}sObject/{{{SF}}}Id") for n in notes]
    assert sorted(sent) == made and sent != made


def test_certinia_assignment_notifications(base, receiver):
    control(base, "POST", "/outbound", {"url": receiver.om_url, "object": "pse__Assignment__c"})
    new_mission(base)  # a Mission__c: nobody watches it
    answer = new_mission(base, object="pse__Assignment__c", pse__End_Date__c="2026-08-31")
    assert len(receiver.hits) == 1
    sobject = parse_notifications(receiver.hits[0]["body"]).find(f"{{{OM}}}Notification/{{{OM}}}sObject")
    assert sobject.get(f"{{{XSI}}}type") == "sf:pse__Assignment__c"
    assert sobject.findtext(f"{{{SF}}}pse__End_Date__c") == "2026-08-31"
    assert answer["record"]["pse__Project__c"] == PROJECT


# Flow HTTP callouts ---------------------------------------------------------------------------

def test_flow_callout_json_with_standard_webhooks_signature(base, receiver):
    control(base, "POST", "/outbound", {"url": receiver.flow_url, "mode": "flow", "flow_secret": FLOW_SECRET})
    answer = new_mission(base)
    mission = answer["record"]["Id"]
    hit = receiver.hits[0]
    assert hit["verified"] is True and hit["headers"]["Content-Type"] == "application/json"
    assert hit["json"] == {"organizationId": ORG_ID, "object": "Mission__c", "recordId": mission,
                           "event": "created", "eventId": hit["headers"]["Webhook-Id"]}
    assert answer["notifications"] == [hit["json"]] and answer["deliveries"][0]["acked"] is True
    control(base, "POST", f"/missions/{mission}/update", {"End_Date__c": "2026-05-07", "deliver": False})
    other = new_mission(base, deliver=False)["record"]["Id"]
    control(base, "POST", f"/missions/{other}/update", {"End_Date__c": "2026-04-30", "deliver": False})
    control(base, "POST", "/outbound/batch")
    batched = [h["json"] for h in receiver.hits[1:]]
    assert {json.dumps(b.get("recordIds") or b.get("recordId")) for b in batched} == {
        json.dumps([mission, other]), json.dumps(other)}
    assert all(h["verified"] for h in receiver.hits)


def test_flow_failures_are_retried_then_pending(base, receiver):
    control(base, "POST", "/outbound", {"url": receiver.flow_url, "mode": "flow"})
    receiver.script = [(503, "busy", "text/plain")] * 5
    answer = new_mission(base)
    assert answer["deliveries"][0]["attempts"] == 5 and answer["deliveries"][0]["acked"] is False
    assert "webhook-signature" not in {k.lower() for k in receiver.hits[0]["headers"]}
    assert control(base, "POST", "/outbound/flush")["deliveries"][0]["acked"] is True


def test_control_validates_targets_and_missions(base, receiver):
    bad = [{"url": "ftp://x"}, {"url": receiver.om_url, "object": "Task"}, {"url": receiver.om_url, "mode": "x"},
           {"url": receiver.om_url, "fields": ["Nope__c"]},
           {"url": receiver.flow_url, "mode": "flow", "flow_secret": "nope"}]
    for body in bad:
        assert requests.post(f"{base}/_control/outbound", json=body, timeout=5).status_code == 400
    for body in ({"End_Date__c": "2026-13-01"}, {"Status__c": "Weird"}, {"Manager__c": "005000000000099AAA"},
                 {"Start_Date__c": "2026-06-01", "End_Date__c": "2026-05-01"}):
        assert requests.post(f"{base}/_control/missions", json=body, timeout=5).status_code == 400
    assert requests.post(f"{base}/_control/missions/a0X000000000999AAA/update", json={},
                         timeout=5).status_code == 404


# Faults ------------------------------------------------------------------------------------

def test_fault_500_and_503_answer_error_arrays(base, token):
    control(base, "POST", "/faults", {"kind": "500", "path": "/composite/sobjects"})
    control(base, "POST", "/faults", {"kind": "503", "method": "GET"})
    first = api(base, token, "POST", "/composite/sobjects", json={"records": [task()]})
    assert first.status_code == 500 and error_of(first)["errorCode"] == "UNKNOWN_EXCEPTION"
    assert "Sforce-Limit-Info" in first.headers
    second = api(base, token, "GET", "/limits")
    assert second.status_code == 503 and error_of(second)["errorCode"] == "SERVER_UNAVAILABLE"
    assert api(base, token, "POST", "/composite/sobjects", json={"records": [task()]}).status_code == 200
    assert control(base, "GET", "/tasks")["totalSize"] == 1
    assert control(base, "GET", "/faults") == {"faults": []}


def test_fault_401_and_limit(base, token):
    control(base, "POST", "/faults", {"kind": "401", "times": 1})
    control(base, "POST", "/faults", {"kind": "limit", "times": 1})
    first = api(base, token, "GET", "/limits")
    assert first.status_code == 401 and error_of(first)["errorCode"] == "INVALID_SESSION_ID"
    second = api(base, token, "GET", "/limits")
    assert second.status_code == 403 and error_of(second)["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert api(base, token, "GET", "/limits").status_code == 200
    assert control(base, "GET", "/calls")["by_status"] == {"401": 1, "403": 1, "200": 1}


def test_fault_on_the_token_endpoint(base):
    tokens = connect(base)
    control(base, "POST", "/faults", {"kind": "503", "path": "/services/oauth2/token"})
    busy = token_call(base, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert busy.status_code == 503
    assert token_call(base, grant_type="refresh_token", refresh_token=tokens["refresh_token"]).status_code == 200


def test_fault_slow_delays_the_answer(base, token):
    control(base, "POST", "/faults", {"kind": "slow", "delay": 0.4})
    started = time.monotonic()
    assert api(base, token, "GET", "/limits").status_code == 200
    assert time.monotonic() - started >= 0.4
    control(base, "POST", "/faults", {"kind": "slow", "delay": 1.0})
    with pytest.raises(requests.Timeout):
        requests.get(f"{base}{API}/limits", headers={"Authorization": f"Bearer {token}"}, timeout=0.3)


def test_fault_drop_before_and_after(base, token):
    control(base, "POST", "/faults", {"kind": "drop", "path": "/composite/sobjects"})
    with pytest.raises(requests.ConnectionError):
        api(base, token, "POST", "/composite/sobjects", json={"records": [task()]})
    assert control(base, "GET", "/tasks")["totalSize"] == 0
    control(base, "POST", "/faults", {"kind": "drop", "when": "after", "method": "POST"})
    with pytest.raises(requests.ConnectionError):
        api(base, token, "POST", "/composite/sobjects", json={"records": [task()]})
    assert control(base, "GET", "/tasks")["totalSize"] == 1
    assert control(base, "GET", "/calls")["by_status"] == {"dropped": 2}


def test_unknown_routes_and_methods_use_salesforce_errors(base, token):
    missing = api(base, token, "GET", "/nope")
    assert missing.status_code == 404 and error_of(missing)["errorCode"] == "NOT_FOUND"
    wrong = api(base, token, "PUT", "/composite/sobjects", json={})
    assert wrong.status_code == 405 and error_of(wrong)["errorCode"] == "METHOD_NOT_ALLOWED"
    assert api(base, token, "GET", "/sobjects/Nope__c/001000000000010AAA").status_code == 404
    account = api(base, token, "GET", f"/sobjects/Account/{ACME}").json()
    assert account["Name"] == "Acme Industrie" and account["attributes"]["type"] == "Account"
    describe = api(base, token, "GET", "/sobjects/Task/describe").json()
    key = next(f for f in describe["fields"] if f["name"] == "Intermission_Key__c")
    assert key["externalId"] is True and key["unique"] is True
    versions = requests.get(f"{base}/services/data", timeout=5).json()
    assert versions[-1]["version"] == "67.0" and versions[0]["version"] == "31.0"  # oldest first, as Salesforce


def test_credentials_and_config(base):
    creds = control(base, "GET", "/credentials")
    assert creds == {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "org_id": ORG_ID, "login_url": base}
    assert requests.post(f"{base}/_control/config", json={"nope": 1}, timeout=5).status_code == 400
    assert requests.post(f"{base}/_control/config", json={"shuffle": 1}, timeout=5).status_code == 400
    assert control(base, "POST", "/config", {"max_query_batch": 3})["max_query_batch"] == 3
    control(base, "POST", "/reset")
    assert control(base, "GET", "/config")["max_query_batch"] == 2000
    assert control(base, "GET", "/config")["outbound_retry_delays"] == [0.0, 0.0, 0.0, 0.0]
