"""A burst of changes for one Salesforce tenant shares composite batches across missions."""
from __future__ import annotations

import json
from datetime import date, timedelta

from config.infra import clock
from tests.e2e.helpers import settle
from tests.e2e.sf_helpers import by_step, duplicates

T0 = date(2026, 3, 2)


def test_two_hundred_changes_arriving_together_cost_under_005_write_calls_each(sf_stack):
    clock.pin(T0)
    missions = [sf_stack.create_mission(date(2025, 11, 3), date(2026, 6, 1) + timedelta(days=i % 90),
                                        deliver=False)["record"]["Id"] for i in range(200)]
    sf_stack.control("POST", "/_control/calls/reset")
    sf_stack.control("POST", "/_control/outbound/batch")  # 200 notifications in two SOAP messages
    settle()
    calls = sf_stack.control("GET", "/_control/calls")["by_route"]
    writes = sum(n for route, n in calls.items() if "composite" in route)
    tasks = sf_stack.tasks()
    assert all(len(by_step(tasks, m)) == 8 for m in missions) and duplicates(tasks) == []
    per_change = writes / len(missions)
    print(json.dumps({"changes": len(missions), "tasks": len(tasks), "write_calls": writes,
                      "write_calls_per_change": per_change}))
    assert per_change <= 0.05
    reads = sum(n for route, n in calls.items() if route.startswith("GET /query"))
    assert reads <= 10  # missions and timelines read 100 at a time, not one by one
