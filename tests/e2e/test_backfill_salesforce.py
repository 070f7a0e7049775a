"""Backfill after Salesforce connect: the org's missions ending soon are planned through the tenant batch, once."""
from __future__ import annotations

from datetime import date, timedelta

from handlers.sync import backfill
from config.infra import clock
from tests.e2e.helpers import settle
from tests.e2e.sf_helpers import MARK, duplicates

T0 = date(2026, 3, 2)


def test_connect_plans_the_missions_ending_within_the_window_once(sf_stack, redis_conn):
    clock.pin(T0)
    ends = [T0 + timedelta(days=d) for d in (10, 40, 80, 120, 300)]
    made = {}
    for i, end in enumerate(ends):
        consultant = sf_stack.new_consultant(f"Backfill{i}")
        made[sf_stack.create_mission(end - timedelta(days=150), end, deliver=False,
                                     Consultant__c=consultant)["record"]["Id"]] = end
    sf_stack.connect()  # the admin connects (again): the callback starts the backfill
    settle()
    tasks = sf_stack.tasks()
    planned = {MARK.search(t["Description"]).group(1) for t in tasks}
    assert planned == {m for m, end in made.items() if end <= T0 + timedelta(days=90)} and len(planned) == 3
    assert duplicates(tasks) == []
    run = backfill.progress(redis_conn, sf_stack.tenant_id)
    assert (run["status"], run["total"], run["planned"], run["failed"]) == ("done", 3, 3, 0)
    backfill.start(redis_conn, sf_stack.tenant_id, "cli", enqueue=False)
    again = backfill.carry_on(redis_conn, sf_stack.tenant_id)
    assert again["planned"] == 3
    after = sf_stack.tasks()
    assert duplicates(after) == [] and sorted(t["Id"] for t in after) == sorted(t["Id"] for t in tasks)
