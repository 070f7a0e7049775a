"""REQUEST_LIMIT_EXCEEDED told apart by its message, and org ids checked the way Salesforce builds them."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import responses

from connectors import http
from connectors.salesforce import client as sf_client
from connectors.salesforce.client import ApiLimitExceeded, ConcurrencyLimited, SalesforceClient
from connectors.salesforce.ids import BadId, checksum, id_18, org_id
from tests.unit.test_salesforce_client import BASE, INSTANCE, Tokens
from connectors.salesforce.settings import salesforce_settings

OK = {"totalSize": 1, "done": True, "records": [{"Id": "00T000000000001AAA"}]}


def busy(message: str) -> list[dict]:
    return [{"message": message, "errorCode": "REQUEST_LIMIT_EXCEEDED"}]


@pytest.fixture
def waits(monkeypatch):
    recorded: list[float] = []
    monkeypatch.setattr(http, "time", SimpleNamespace(sleep=recorded.append))  # the one retry loop (connectors.http)
    return recorded


@pytest.fixture
def seen():
    kinds: list[str] = []
    sf_client.observe_limits(kinds.append)
    yield kinds
    sf_client._limit_observers.remove(kinds.append)


@pytest.mark.parametrize("message", ["ConcurrentPerOrgLongTxn Limit exceeded.", "ConcurrentRequests Limit exceeded."])
@responses.activate
def test_a_concurrency_refusal_is_retried_within_seconds_even_for_a_create(waits, seen, message):
    responses.post(f"{BASE}/composite/sobjects", status=403, json=busy(message))
    responses.post(f"{BASE}/composite/sobjects", status=403, json=busy(message))
    responses.post(f"{BASE}/composite/sobjects", json=[{"id": "00T000000000001AAA", "success": True, "errors": []}])
    results = SalesforceClient(INSTANCE, Tokens(), max_attempts=3).create_records([{"Subject": "x"}], sobject="Task")
    assert [r.success for r in results] == [True] and len(responses.calls) == 3
    assert waits == [0.5, 1.0] and seen == ["concurrency", "concurrency"]


@responses.activate
def test_concurrency_refusals_that_do_not_clear_end_the_attempt_without_an_hours_hold(waits, seen):
    responses.get(f"{BASE}/query", status=403, json=busy("ConcurrentPerOrgLongTxn Limit exceeded."))
    with pytest.raises(ConcurrencyLimited) as info:
        SalesforceClient(INSTANCE, Tokens(), concurrency_attempts=4).query_all("SELECT Id FROM Task")
    assert not isinstance(info.value, ApiLimitExceeded) and len(responses.calls) == 4
    assert waits == [0.5, 1.0, 2.0] and max(waits) < 10 and seen == ["concurrency"] * 4


@pytest.mark.parametrize("message", ["TotalRequests Limit exceeded.", "Some limit we never saw."])
@responses.activate
def test_the_daily_total_and_unknown_limits_are_held_not_retried(waits, seen, message):
    responses.get(f"{BASE}/query", status=403, json=busy(message))
    with pytest.raises(ApiLimitExceeded) as info:
        SalesforceClient(INSTANCE, Tokens()).query_all("SELECT Id FROM Task")
    assert info.value.retry_after == 3600 and len(responses.calls) == 1 and waits == [] and seen == ["daily"]


def test_checksum_and_18_character_ids():
    assert checksum("00D000000000001") == "EAA" and id_18("00D000000000001") == "00D000000000001EAA"
    assert id_18("00D5e000000AbCd") == "00D5e000000AbCdEAK"
    with pytest.raises(BadId, match="should be EAA"):
        id_18("00D000000000001AAA")


@pytest.mark.parametrize("value, why", [
    ("006000000000021AAA", "start with 00D"),  # an Opportunity id
    ("00D000000000001AAB", "last 3 characters"),  # a bad checksum
    ("00D000000000001eaa", "last 3 characters"),  # its letter case changed
    ("00Dxx0000001gPL", "placeholder"),  # the documentation's redacted id
    ("00D000000000000", "placeholder"),
    ("00D************", "letters and digits"),
    ("00D00000000001", "letters and digits"),
])
def test_org_ids_refused_with_the_reason(value, why):
    with pytest.raises(BadId, match=why):
        org_id(value)


def test_org_ids_accepted_in_both_forms():
    assert org_id("00D5e000000AbCd") == org_id("00D5e000000AbCdEAK") == "00D5e000000AbCdEAK"
    assert org_id(" 00D000000000001EAA ") == "00D000000000001EAA"


@pytest.mark.parametrize("value", ["006000000000021AAA", "00D000000000001AAB", "00Dxx0000001gPL"])
def test_tenant_add_refuses_a_bad_org_id(redis_conn, capsys, value):
    from config import tenants
    from intermission_cli import main as cli

    code = cli.main(["tenant", "add", "salesforce", "--id", "acme-bad", "--client-id", "c", "--client-secret", "s",
                     "--org-id", value])
    assert code == 2 and "--org-id" in capsys.readouterr().err and tenants.get("acme-bad") is None
    assert cli.main(["tenant", "add", "salesforce", "--id", "acme-ok", "--client-id", "c", "--client-secret", "s",
                     "--org-id", "00D5e000000AbCd", "--json"]) == 0
    assert salesforce_settings(tenants.get("acme-ok")).org_id == "00D5e000000AbCdEAK"
