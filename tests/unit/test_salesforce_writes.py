"""The Salesforce adapter's round of writes: 200 records a subrequest, five subrequests a composite call."""
from __future__ import annotations

import json

import responses

from config.tenants import Tenant
from handlers.hosts.protocol import Create, Update
from handlers.hosts.salesforce.adapter import SalesforceAdapter
from tests.unit.test_reconcile import action
from tests.unit.test_salesforce_client import BASE, client
from connectors.salesforce.settings import SalesforceConfig

REFUSED_SUBREQUEST = "c1"  # in the second composite call: the second chunk of updates


def answer(request):
    """Each sObject Collections subrequest succeeds record by record, except REFUSED_SUBREQUEST of the 2nd call."""
    second = len(responses.calls) > 0
    out = []
    for sub in json.loads(request.body)["compositeRequest"]:
        if second and sub["referenceId"] == REFUSED_SUBREQUEST:
            out.append({"body": [{"message": "Server is temporarily unavailable.", "errorCode": "SERVER_UNAVAILABLE"}],
                        "httpHeaders": {}, "httpStatusCode": 503, "referenceId": sub["referenceId"]})
            continue
        if sub["method"] == "DELETE":
            ids = sub["url"].split("ids=")[1].split("&")[0].split(",")
        else:
            ids = [r.get("Id") or "00T{:0>12}".format(r["Description"].split("/s")[-1]) for r in sub["body"]["records"]]
        out.append({"body": [{"id": i, "success": True, "errors": []} for i in ids], "httpHeaders": {},
                    "httpStatusCode": 200, "referenceId": sub["referenceId"]})
    return 200, {}, json.dumps({"compositeResponse": out})


@responses.activate
def test_a_big_round_takes_two_composite_calls_and_a_failed_subrequest_fails_only_its_records(redis_conn):
    responses.add_callback(responses.POST, f"{BASE}/composite", callback=answer)
    tenant = Tenant(id="acme-sf", host="salesforce", host_settings=SalesforceConfig(client_id="c", client_secret="s"))
    adapter = SalesforceAdapter(tenant, redis_conn, client=client())
    creates = [Create("a0X000000000001AAA", action(f"s{i}")) for i in range(1100)]
    updates = [Update(f"00T{i:0>12}", "a0X000000000001AAA", action(f"u{i}")) for i in range(250)]
    deletes = [f"00T{9000 + i:0>12}" for i in range(10)]
    results = list(adapter.write_all(creates, updates, deletes))
    bodies = [json.loads(c.request.body)["compositeRequest"] for c in responses.calls]
    assert [[(s["method"], len((s.get("body") or {}).get("records") or s["url"].split(","))) for s in body]
            for body in bodies] == [[("POST", 200)] * 5, [("POST", 100), ("PATCH", 200), ("PATCH", 50), ("DELETE", 10)]]
    assert [(o.kind, o.index) for o in results] == (
        [("create", n) for n in range(1100)] + [("update", n) for n in range(250)] + [("delete", n) for n in range(10)])
    assert all(o.result.ok and o.result.host_id == f"00T{o.index:0>12}" for o in results if o.kind == "create")
    failed = [(o.kind, o.index) for o in results if not o.result.ok]
    assert failed == [("update", n) for n in range(200)]  # the refused subrequest held the first 200 updates
    first = next(o.result for o in results if not o.result.ok)
    assert not first.not_found and first.error.startswith("update subrequest: salesforce HTTP 503 code SERVER_UNAV")


@responses.activate
def test_the_orgs_usage_is_stored_once_a_second_and_at_once_past_the_budget(redis_conn, monkeypatch):
    """Every answer carries the org's usage; the job stores its first reading, then at most one a second, and every
    reading past the tenant's budget (what stops the next job) the moment it is seen."""
    from handlers.hosts.salesforce import adapter as sf_adapter

    tenant = Tenant(id="acme-sf", host="salesforce",
                    host_settings=SalesforceConfig(client_id="c", client_secret="s", budget_fraction=0.5))
    now = [1000.0]
    monkeypatch.setattr(sf_adapter.time, "monotonic", lambda: now[0])
    for used in (10, 11, 12, 13):
        responses.get(f"{BASE}/sobjects/Task/00T{used:0>12}", json={}, headers={"Sforce-Limit-Info": f"api-usage={used}/100"})
    responses.get(f"{BASE}/sobjects/Task/00T{50:0>12}", json={}, headers={"Sforce-Limit-Info": "api-usage=50/100"})
    sf = client(on_usage=sf_adapter.UsageKept(tenant, redis_conn))
    stored = []
    for used, later in ((10, 0), (11, 0.4), (12, 0.4), (13, 0.3), (50, 0.1)):
        now[0] += later
        sf.get_record("Task", f"00T{used:0>12}")
        stored.append(redis_conn.get("im:t:acme-sf:sf:usage").decode())
    assert stored == ["10/100", "10/100", "10/100", "13/100", "50/100"]
    assert sf_adapter.budget_left(tenant, redis_conn) is False
