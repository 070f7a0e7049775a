"""The Salesforce client over `responses`: bearer refresh, API limit, collections in chunks, errors, retries."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import responses
from responses import matchers

from connectors.errors import (HostAuthError, HostForbidden, HostNotFound, HostRateLimited, HostUnavailable,
                               HostValidationError)
from connectors import http
from connectors.salesforce import client as sf_client
from connectors.salesforce.client import ApiLimitExceeded, SalesforceClient, SaveResult, escape_soql
from connectors.salesforce.soql import escape_like, format_soql, soql_literal

INSTANCE = "https://acme.my.salesforce.com"
BASE = f"{INSTANCE}/services/data/v67.0"
EXPIRED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
LIMIT = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]


class Tokens:
    """A token store: hands out `token-N`, and `token-N+1` when asked to refresh."""

    def __init__(self):
        self.current = "token-1"
        self.refreshed_from: list[str] = []

    def access_token(self) -> str:
        return self.current

    def refresh(self, stale: str) -> str:
        self.refreshed_from.append(stale)
        self.current = f"token-{int(stale.split('-')[1]) + 1}"
        return self.current


@pytest.fixture
def waits(monkeypatch):
    """Every sleep the client asks for, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(http, "time", SimpleNamespace(sleep=recorded.append))  # the one retry loop (connectors.http)
    return recorded


def client(tokens=None, **kwargs) -> SalesforceClient:
    return SalesforceClient(INSTANCE, tokens or Tokens(), max_attempts=3, **kwargs)


def bearer(call) -> str:
    return call.request.headers["Authorization"]


def echo_results(request):
    """A composite endpoint that saves every record it gets, ids numbered from the record's Subject."""
    records = json.loads(request.body)["records"]
    return 200, {}, json.dumps([{"id": f"00T{r['Subject']:0>12}", "success": True, "errors": []} for r in records])


# --- auth ----------------------------------------------------------------------------------------
@responses.activate
def test_every_call_carries_the_current_bearer_token():
    responses.get(f"{BASE}/sobjects/Task/00T000000000001", json={"Id": "00T000000000001"})
    assert client().get_record("Task", "00T000000000001") == {"Id": "00T000000000001"}
    assert bearer(responses.calls[0]) == "Bearer token-1"


@responses.activate
def test_an_expired_session_is_refreshed_from_the_stale_token_and_the_request_sent_again(waits):
    responses.post(f"{BASE}/composite/sobjects", status=401, json=EXPIRED)
    responses.post(f"{BASE}/composite/sobjects", json=[{"id": "00T000000000001", "success": True, "errors": []}])
    tokens = Tokens()
    results = client(tokens).create_records([{"Subject": "Call"}], sobject="Task")
    assert results == [SaveResult("00T000000000001", True, [], None)]
    assert tokens.refreshed_from == ["token-1"]
    assert [bearer(c) for c in responses.calls] == ["Bearer token-1", "Bearer token-2"]
    assert waits == []


@responses.activate
def test_a_second_401_after_the_refresh_is_an_auth_error():
    responses.get(f"{BASE}/query", status=401, json=EXPIRED)
    tokens = Tokens()
    with pytest.raises(HostAuthError) as info:
        client(tokens).query_all("SELECT Id FROM Task")
    assert info.value.status == 401 and info.value.code == "INVALID_SESSION_ID"
    assert tokens.refreshed_from == ["token-1"] and len(responses.calls) == 2


@responses.activate
def test_the_token_is_read_once_and_kept_until_the_org_refuses_it(waits):
    """A job's client reads the store once (given the token, not even once); a 401 refreshes, and the fresh
    token is kept for the calls after it."""
    responses.get(f"{BASE}/sobjects/Task/00T000000000001", json={"Id": "00T000000000001"})
    responses.get(f"{BASE}/sobjects/Task/00T000000000002", status=401, json=EXPIRED)
    responses.get(f"{BASE}/sobjects/Task/00T000000000002", json={"Id": "00T000000000002"})
    responses.get(f"{BASE}/sobjects/Task/00T000000000003", json={"Id": "00T000000000003"})

    class Counted(Tokens):
        reads = 0

        def access_token(self) -> str:
            Counted.reads += 1
            return super().access_token()

    tokens = Counted()
    sf = client(tokens, token="token-1")
    for record in ("00T000000000001", "00T000000000002", "00T000000000003"):
        sf.get_record("Task", record)
    assert Counted.reads == 0 and tokens.refreshed_from == ["token-1"]
    assert [bearer(c) for c in responses.calls] == ["Bearer token-1", "Bearer token-1", "Bearer token-2",
                                                  "Bearer token-2"]
    unseeded = client(tokens)
    unseeded.get_record("Task", "00T000000000001")
    unseeded.get_record("Task", "00T000000000003")
    assert Counted.reads == 1 and bearer(responses.calls[-1]) == "Bearer token-2"


# --- limits --------------------------------------------------------------------------------------
@responses.activate
def test_the_daily_api_limit_is_raised_at_once_and_never_waited_for(waits):
    responses.get(f"{BASE}/query", status=403, json=LIMIT, headers={"Sforce-Limit-Info": "api-usage=100001/100000"})
    with pytest.raises(ApiLimitExceeded) as info:
        client(max_retry_after=100_000).query_all("SELECT Id FROM Task")
    assert isinstance(info.value, HostRateLimited) and info.value.retry_after == 3600
    assert info.value.code == "REQUEST_LIMIT_EXCEEDED" and len(responses.calls) == 1 and waits == []


@responses.activate
def test_the_pause_after_the_api_limit_is_configurable():
    responses.get(f"{BASE}/query", status=403, json=LIMIT)
    with pytest.raises(ApiLimitExceeded) as info:
        client(limit_pause=900).query_all("SELECT Id FROM Task")
    assert info.value.retry_after == 900


@responses.activate
def test_api_usage_is_read_from_every_answer_including_errors():
    seen: list[tuple[int, int]] = []
    sf = client(on_usage=lambda used, limit: seen.append((used, limit)))
    assert sf.api_usage is None
    responses.get(f"{BASE}/sobjects/Task/00T000000000001", json={}, headers={"Sforce-Limit-Info": "api-usage=10/1000"})
    responses.get(f"{BASE}/sobjects/Task/00T000000000002", status=404,
                  json=[{"message": "not found", "errorCode": "NOT_FOUND"}],
                  headers={"Sforce-Limit-Info": "api-usage=11/1000"})
    sf.get_record("Task", "00T000000000001")
    with pytest.raises(HostNotFound):
        sf.get_record("Task", "00T000000000002")
    assert seen == [(10, 1000), (11, 1000)] and sf.api_usage == (11, 1000)


# --- reads ---------------------------------------------------------------------------------------
@responses.activate
def test_a_query_follows_next_records_url_until_done():
    soql = "SELECT Id FROM Mission__c"
    responses.get(f"{BASE}/query", match=[matchers.query_param_matcher({"q": soql})],
                  json={"totalSize": 5, "done": False, "nextRecordsUrl": "/services/data/v67.0/query/01gA-2",
                        "records": [{"Id": "1"}, {"Id": "2"}]})
    responses.get(f"{BASE}/query/01gA-2", json={"totalSize": 5, "done": False,
                                                "nextRecordsUrl": "/services/data/v67.0/query/01gA-4",
                                                "records": [{"Id": "3"}, {"Id": "4"}]})
    responses.get(f"{BASE}/query/01gA-4", json={"totalSize": 5, "done": True, "records": [{"Id": "5"}]})
    assert [r["Id"] for r in client().query_all(soql)] == ["1", "2", "3", "4", "5"]
    assert len(responses.calls) == 3


@responses.activate
def test_a_record_is_read_with_only_the_fields_asked_for():
    responses.get(f"{BASE}/sobjects/Mission__c/a0X000000000001AAA",
                  match=[matchers.query_param_matcher({"fields": "Id,End_Date__c"})],
                  json={"Id": "a0X000000000001AAA"})
    assert client().get_record("Mission__c", "a0X000000000001AAA", ["Id", "End_Date__c"])["Id"] == "a0X000000000001AAA"


def test_object_names_and_ids_cannot_smuggle_a_path():
    with pytest.raises(ValueError):
        client().get_record("Task/../../limits", "00T000000000001")
    with pytest.raises(ValueError):
        client().get_record("Task", "00T0000/../x")


# --- writes --------------------------------------------------------------------------------------
@responses.activate
def test_450_records_are_created_in_three_calls_of_200_200_50_with_results_in_order():
    responses.add_callback(responses.POST, f"{BASE}/composite/sobjects", callback=echo_results)
    records = [{"Subject": str(i)} for i in range(450)]
    results = client().create_records(records, sobject="Task")
    bodies = [json.loads(c.request.body) for c in responses.calls]
    assert [len(b["records"]) for b in bodies] == [200, 200, 50]
    assert all(b["allOrNone"] is False for b in bodies)
    assert all(r["attributes"] == {"type": "Task"} for b in bodies for r in b["records"])
    assert [r.id for r in results] == [f"00T{i:0>12}" for i in range(450)]
    assert records[0] == {"Subject": "0"}  # the caller's dicts are left alone


@responses.activate
def test_a_failure_after_the_first_chunk_still_reports_what_was_created(waits):
    responses.add_callback(responses.POST, f"{BASE}/composite/sobjects", callback=echo_results)
    responses.post(f"{BASE}/composite/sobjects", status=500)
    with pytest.raises(HostUnavailable) as info:
        client().create_records([{"Subject": str(i)} for i in range(250)], sobject="Task")
    assert [r.id for r in info.value.saved_results] == [f"00T{i:0>12}" for i in range(200)]
    assert len(responses.calls) == 2 and waits == []


@responses.activate
def test_a_record_that_fails_is_reported_in_its_save_result():
    responses.post(f"{BASE}/composite/sobjects", json=[
        {"id": "00T000000000001", "success": True, "errors": []},
        {"success": False, "errors": [{"statusCode": "INVALID_CROSS_REFERENCE_KEY",
                                       "message": "invalid cross reference id", "fields": ["OwnerId"]}]}])
    ok, failed = client().create_records([{"Subject": "a"}, {"Subject": "b", "OwnerId": "005000000000009"}],
                                         sobject="Task")
    assert ok.success and ok.error_text() == ""
    assert not failed.success and failed.id is None
    assert failed.error_text() == "INVALID_CROSS_REFERENCE_KEY: invalid cross reference id (OwnerId)"


@responses.activate
def test_updates_carry_each_records_id_and_type():
    responses.patch(f"{BASE}/composite/sobjects", json=[{"id": "00T000000000001", "success": True, "errors": []}])
    client().update_records([{"Id": "00T000000000001", "Status": "Completed"}], sobject="Task")
    assert json.loads(responses.calls[0].request.body) == {
        "allOrNone": False, "records": [{"attributes": {"type": "Task"}, "Id": "00T000000000001", "Status": "Completed"}]}


def test_an_update_without_an_id_or_a_record_without_a_type_is_refused_before_any_call():
    with pytest.raises(ValueError):
        client().update_records([{"Status": "Completed"}], sobject="Task")
    with pytest.raises(ValueError):
        client().create_records([{"Subject": "x"}])


@responses.activate
def test_deletes_go_by_200_ids_without_all_or_none():
    ids = [f"00T{i:0>12}" for i in range(250)]
    for chunk in (ids[:200], ids[200:]):
        responses.delete(f"{BASE}/composite/sobjects",
                         match=[matchers.query_param_matcher({"ids": ",".join(chunk), "allOrNone": "false"})],
                         json=[{"id": i, "success": True, "errors": []} for i in chunk])
    results = client().delete_records(ids)
    assert [r.id for r in results] == ids and len(responses.calls) == 2


@responses.activate
def test_upsert_goes_to_the_external_id_path_and_reports_created_or_updated():
    responses.patch(f"{BASE}/composite/sobjects/Task/Intermission_Key__c", json=[
        {"id": "00T000000000001", "success": True, "errors": [], "created": True},
        {"id": "00T000000000002", "success": True, "errors": [], "created": False}])
    results = client().upsert_records("Task", "Intermission_Key__c", [
        {"Intermission_Key__c": "a0X1/end-30", "Subject": "a"}, {"Intermission_Key__c": "a0X1/end-7", "Subject": "b"}])
    assert [r.created for r in results] == [True, False]
    sent = json.loads(responses.calls[0].request.body)["records"]
    assert [r["attributes"]["type"] for r in sent] == ["Task", "Task"]


@responses.activate
def test_survey_invitation_is_created_then_its_link_read_back():
    responses.post(f"{BASE}/sobjects/SurveyInvitation", status=201,
                   json={"id": "0Ki000000000001", "success": True, "errors": []})
    responses.get(f"{BASE}/sobjects/SurveyInvitation/0Ki000000000001",
                  match=[matchers.query_param_matcher({"fields": "InvitationLink"})],
                  json={"InvitationLink": "https://acme.my.site.com/survey/runtimeApp.app?invitationId=0Ki"})
    sf = client()
    invitation = sf.create_survey_invitation({"Name": "End of mission", "SurveyId": "0Kd000000000001"})
    assert sf.survey_invitation_link(invitation).endswith("invitationId=0Ki")



# --- composite -----------------------------------------------------------------------------------
def composite_echo(request):
    """A POST /composite that answers each sObject Collections subrequest; records with Subject "bad" are refused."""
    answers = []
    for sub in json.loads(request.body)["compositeRequest"]:
        if sub["method"] == "DELETE":
            ids = sub["url"].split("ids=")[1].split("&")[0].split(",")
            body = [{"id": i, "success": True, "errors": []} for i in ids]
        else:
            body = [{"success": False, "errors": [{"statusCode": "INVALID_CROSS_REFERENCE_KEY", "message": "invalid",
                                                   "fields": ["OwnerId"]}]} if r.get("Subject") == "bad" else
                    {"id": r.get("Id") or f"00T{r['Subject']:0>12}", "success": True, "errors": []}
                    for r in sub["body"]["records"]]
        answers.append({"body": body, "httpHeaders": {}, "httpStatusCode": 200, "referenceId": sub["referenceId"]})
    return 200, {"Sforce-Limit-Info": "api-usage=7/1000"}, json.dumps({"compositeResponse": answers})


@responses.activate
def test_five_collections_calls_go_in_one_composite_call_with_their_results_in_order():
    responses.add_callback(responses.POST, f"{BASE}/composite", callback=composite_echo)
    seen: list[tuple[int, int]] = []
    sf = client(on_usage=lambda used, limit: seen.append((used, limit)))
    ids = ["00T000000000001", "00T000000000002"]
    calls = [sf_client.Collection.create([{"Subject": "1"}, {"Subject": "bad"}], sobject="Task"),
             sf_client.Collection.update([{"Id": ids[0], "Subject": "moved"}], sobject="Task"),
             sf_client.Collection.upsert("Task", "Intermission_Key__c",
                                         [{"Intermission_Key__c": "m/k", "Subject": "2"}]),
             sf_client.Collection.delete(ids), sf_client.Collection.create([{"Subject": "3"}], sobject="Task")]
    created, updated, upserted, deleted, more = sf.collections(calls)
    assert [r.success for r in created] == [True, False] and created[1].error_text().startswith("INVALID_CROSS")
    assert [r.id for r in updated] == [ids[0]] and [r.id for r in deleted] == ids and more[0].id == "00T000000000003"
    assert upserted[0].success and len(responses.calls) == 1 and seen == [(7, 1000)]
    sent = json.loads(responses.calls[0].request.body)
    assert sent["allOrNone"] is False and sent["collateSubrequests"] is False
    assert [(s["method"], s["url"], s["referenceId"]) for s in sent["compositeRequest"]] == [
        ("POST", "/services/data/v67.0/composite/sobjects", "c0"),
        ("PATCH", "/services/data/v67.0/composite/sobjects", "c1"),
        ("PATCH", "/services/data/v67.0/composite/sobjects/Task/Intermission_Key__c", "c2"),
        ("DELETE", f"/services/data/v67.0/composite/sobjects?ids={ids[0]},{ids[1]}&allOrNone=false", "c3"),
        ("POST", "/services/data/v67.0/composite/sobjects", "c4")]
    assert sent["compositeRequest"][0]["body"] == {"allOrNone": False, "records": [
        {"attributes": {"type": "Task"}, "Subject": "1"}, {"attributes": {"type": "Task"}, "Subject": "bad"}]}
    assert "body" not in sent["compositeRequest"][3]


@responses.activate
def test_a_subrequest_that_fails_is_reported_as_its_error_and_the_others_stand():
    responses.post(f"{BASE}/composite", json={"compositeResponse": [
        {"body": [{"id": "00T000000000001", "success": True, "errors": []}], "httpHeaders": {},
         "httpStatusCode": 200, "referenceId": "c0"},
        {"body": [{"message": "Server is temporarily unavailable.", "errorCode": "SERVER_UNAVAILABLE"}],
         "httpHeaders": {}, "httpStatusCode": 503, "referenceId": "c1"},
        {"body": [{"message": "No such column 'X'", "errorCode": "INVALID_FIELD", "fields": ["X"]}],
         "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "c2"},
        {"body": [], "httpHeaders": {}, "httpStatusCode": 200, "referenceId": "c3"}]})
    calls = [sf_client.Collection.create([{"Subject": str(i)}], sobject="Task") for i in range(4)]
    ok, busy, invalid, short = client().collections(calls)
    assert ok[0].id == "00T000000000001"
    assert isinstance(busy, HostUnavailable) and busy.code == "SERVER_UNAVAILABLE" and busy.status == 503
    assert isinstance(invalid, HostValidationError) and (invalid.code, invalid.parameter) == ("INVALID_FIELD", "X")
    assert type(short) is sf_client.HostError and "expected 1 results" in str(short)


@responses.activate
def test_a_composite_with_a_create_is_not_retried_but_one_of_updates_and_deletes_is(waits):
    responses.post(f"{BASE}/composite", status=500)
    with pytest.raises(HostUnavailable):
        client().collections([sf_client.Collection.delete(["00T000000000001"]),
                              sf_client.Collection.create([{"Subject": "1"}], sobject="Task")])
    assert len(responses.calls) == 1 and waits == []
    responses.replace(responses.POST, f"{BASE}/composite", status=503)
    responses.add_callback(responses.POST, f"{BASE}/composite", callback=composite_echo)
    done = client().collections([sf_client.Collection.delete(["00T000000000001"]), sf_client.Collection.update(
        [{"Id": "00T000000000002", "Subject": "x"}], sobject="Task")])
    assert [r.success for results in done for r in results] == [True, True]
    assert len(responses.calls) == 3 and len(waits) == 1


@responses.activate
def test_a_composite_refreshes_an_expired_session_and_raises_the_daily_limit(waits):
    responses.post(f"{BASE}/composite", status=401, json=EXPIRED)
    responses.add_callback(responses.POST, f"{BASE}/composite", callback=composite_echo)
    tokens = Tokens()
    assert client(tokens).collections([sf_client.Collection.delete(["00T000000000001"])])[0][0].success
    assert [bearer(c) for c in responses.calls] == ["Bearer token-1", "Bearer token-2"]
    responses.replace(responses.POST, f"{BASE}/composite", status=403, json=LIMIT)
    with pytest.raises(ApiLimitExceeded):
        client().composite([{"method": "GET", "url": "/limits", "referenceId": "limits"}])
    assert waits == []


def test_composite_and_collections_limits_are_checked_before_any_call():
    sf = client()
    reads = [{"method": "GET", "url": "/limits", "referenceId": f"r{n}"} for n in range(26)]
    queries = [{"method": "GET", "url": f"/query?q=SELECT+Id+FROM+Task+LIMIT+{n}", "referenceId": f"q{n}"}
               for n in range(6)]
    for subrequests in (reads, [], queries, reads[:1] * 2):
        with pytest.raises(ValueError):
            sf.composite(subrequests)
    with pytest.raises(ValueError):
        sf_client.Collection.create([{"Subject": str(i)} for i in range(201)], sobject="Task")
    with pytest.raises(ValueError):
        sf_client.Collection.delete(["00T0000/../x"])
    with pytest.raises(ValueError):
        sf_client.Collection.update([{"Subject": "no id"}], sobject="Task")

# --- errors and retries --------------------------------------------------------------------------
@pytest.mark.parametrize("status,code,error", [
    (400, "MALFORMED_QUERY", HostValidationError), (404, "NOT_FOUND", HostNotFound),
    (403, "INSUFFICIENT_ACCESS", HostForbidden), (405, "METHOD_NOT_ALLOWED", HostValidationError)])
@responses.activate
def test_error_arrays_map_to_one_class_per_meaning(status, code, error):
    responses.get(f"{BASE}/query", status=status, json=[{"message": "nope", "errorCode": code}])
    with pytest.raises(error) as info:
        client().query_all("SELECT Id FROM Task")
    assert type(info.value) is error and info.value.code == code and len(responses.calls) == 1


@responses.activate
def test_an_invalid_field_carries_its_code_and_fields():
    responses.post(f"{BASE}/composite/sobjects", status=400, json=[
        {"message": "No such column 'Foo__c' on sobject of type Task", "errorCode": "INVALID_FIELD",
         "fields": ["Foo__c", "Bar__c"]}])
    with pytest.raises(HostValidationError) as info:
        client().create_records([{"Subject": "x", "Foo__c": 1}], sobject="Task")
    error = info.value
    assert (error.status, error.code, error.parameter) == (400, "INVALID_FIELD", "Foo__c,Bar__c")
    assert str(error) == ("salesforce HTTP 400 code INVALID_FIELD: "
                          "No such column 'Foo__c' on sobject of type Task (Foo__c,Bar__c)")


@responses.activate
def test_a_create_is_not_retried_on_a_server_error(waits):
    responses.post(f"{BASE}/composite/sobjects", status=500)
    with pytest.raises(HostUnavailable):
        client().create_records([{"Subject": "x"}], sobject="Task")
    assert len(responses.calls) == 1 and waits == []


@pytest.mark.parametrize("call", [
    lambda sf: sf.upsert_records("Task", "Intermission_Key__c", [{"Intermission_Key__c": "k", "Subject": "x"}]),
    lambda sf: sf.update_records([{"Id": "00T000000000001", "Subject": "x"}], sobject="Task")])
@responses.activate
def test_an_upsert_or_update_is_retried_on_a_server_error(waits, call):
    for url in (f"{BASE}/composite/sobjects/Task/Intermission_Key__c", f"{BASE}/composite/sobjects"):
        responses.patch(url, status=500)
        responses.patch(url, json=[{"id": "00T000000000001", "success": True, "errors": []}])
    assert call(client())[0].success
    assert len(responses.calls) == 2 and len(waits) == 1


@responses.activate
def test_a_read_gives_up_after_the_last_attempt(waits):
    responses.get(f"{BASE}/query", status=503)
    with pytest.raises(HostUnavailable):
        client().query_all("SELECT Id FROM Task")
    assert len(responses.calls) == 3 and len(waits) == 2


# --- SOQL literals -------------------------------------------------------------------------------
def test_escape_soql_escapes_quotes_and_backslashes():
    assert escape_soql("O'Brien") == "O\\'Brien"
    assert escape_soql('say "hi"') == 'say \\"hi\\"'
    assert escape_soql("C:\\temp\\'x") == "C:\\\\temp\\\\\\'x"
    assert escape_soql("a\nb\tc") == "a\\nb\\tc"


def test_like_patterns_and_literals_cannot_break_out_of_the_query():
    assert escape_like("100%_done") == "100\\%\\_done"
    assert soql_literal("x' OR Id != '") == "'x\\' OR Id != \\''"
    assert format_soql("SELECT Id FROM Task WHERE WhatId IN {} AND IsClosed = {}", ["a0X1", "a0X2"], False) == \
        "SELECT Id FROM Task WHERE WhatId IN ('a0X1', 'a0X2') AND IsClosed = false"


@responses.activate
def test_a_server_error_s_retry_after_is_waited_for_not_the_short_back_off(waits):
    responses.get(f"{BASE}/query", status=503, headers={"Retry-After": "7"}, json=[{"errorCode": "SERVER_UNAVAILABLE",
                                                                                   "message": "maintenance"}])
    responses.get(f"{BASE}/query", json={"done": True, "records": [{"Id": "a0X000000000100AAA"}]})
    assert client().query_all("SELECT Id FROM Mission__c") == [{"Id": "a0X000000000100AAA"}]
    assert waits == [7.0]  # the header's 7 s, not 0.2 × 2


@responses.activate
def test_a_retry_after_longer_than_allowed_fails_the_call_at_once(waits):
    responses.get(f"{BASE}/query", status=503, headers={"Retry-After": "3600"})
    with pytest.raises(HostUnavailable) as raised:
        client(max_retry_after=60).query_all("SELECT Id FROM Mission__c")
    assert raised.value.retry_after == 3600 and len(responses.calls) == 1 and waits == []


@responses.activate
def test_a_server_error_without_retry_after_keeps_the_back_off(waits):
    responses.get(f"{BASE}/query", status=500)
    responses.get(f"{BASE}/query", json={"done": True, "records": []})
    client(backoff=0.2).query_all("SELECT Id FROM Mission__c")
    assert waits == [0.4]
