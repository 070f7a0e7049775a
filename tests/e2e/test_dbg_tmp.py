from tests.e2e.test_missions_boond import *
from handlers.ledger import ActivityLog
def test_dbg(stack):
    clock.pin(date(2026, 3, 2))
    nina = stack.control("POST", "/_control/resources", json={"firstName": "Nina", "lastName": "Nouveau"})["id"]
    m = deliver(stack, date(2025, 11, 3), date(2026, 5, 29))
    settle()
    print("RESP", stack.control("POST", f"/_control/deliveries/{m}/resource", json={"resource": nina})["data"]["relationships"]["dependsOn"])
    settle()
    print("PREVIEW", preview(stack.tenant_id, m)["actions"][:2] if "actions" in preview(stack.tenant_id, m) else preview(stack.tenant_id, m).keys())
    for r in ActivityLog(get_redis(), stack.tenant_id).recent(mission=m)[:5]: print("ACT", r)
    h = steps(stack, m)["natural.handover"]; print("H", h["relationships"], h["attributes"]["title"])
    assert 0
