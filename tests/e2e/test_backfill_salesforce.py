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


def test_a_backfill_page_waits_for_a_batch_that_holds_the_lock_and_counts_only_what_it_planned(sf_stack, redis_conn):
    """A batch job may defer while another holds the tenant's lock; a backfill page does not: it waits, then plans,
    so the run's "planned" is true (the page's tasks are in the org when it says so)."""
    import threading

    from config import keys
    from config.tenants import get
    from handlers.sync import locks

    clock.pin(T0)
    consultant = sf_stack.new_consultant("Waiting")
    mission = sf_stack.create_mission(T0 - timedelta(days=100), T0 + timedelta(days=20), deliver=False,
                                      Consultant__c=consultant)["record"]["Id"]
    taken, release = threading.Event(), threading.Event()

    def another_batch() -> None:
        with locks.held(redis_conn, keys.batch_lock(sf_stack.tenant_id), ttl=60):
            taken.set()
            release.wait(10)

    holder = threading.Thread(target=another_batch)
    holder.start()
    taken.wait(5)
    threading.Timer(1.0, release.set).start()
    result = backfill._batched_page(redis_conn, get(sf_stack.tenant_id), [mission], {"kind": "backfill", "run": "r"})
    holder.join()
    assert result == {mission: ("planned", "")}
    assert {MARK.search(t["Description"]).group(1) for t in sf_stack.tasks()} == {mission}
