"""A backfill run's day load (issue #27), on a real Redis: each mission's share replaces the one it had (a retried
job or a resumed run never counts twice), and a mission reads only what the others hold."""
from __future__ import annotations

from datetime import date

from handlers.domain.model import DesiredAction, Person
from handlers.state.day_load import MemoryLoad, RunLoad

D = date.fromisoformat


def _action(key: str, person: str | None, due: str) -> DesiredAction:
    day = D(due)
    return DesiredAction(key=key, step_id=key, kind="task", assignee_role="manager",
                         assignee=Person(id=person) if person else None, target=Person(id="7"), nominal_due=day,
                         due=day, late=False, priority="normal", case="natural", title=key, text=key)


def test_a_mission_planned_again_replaces_its_share(redis_conn):
    for load in (RunLoad(redis_conn, "acme", "run1"), MemoryLoad()):
        load.record("m1", [_action("a", "2", "2026-03-03"), _action("b", "2", "2026-03-03"),
                           _action("c", None, "2026-03-04")])
        load.record("m2", [_action("a", "2", "2026-03-03")])
        load.record("m1", [_action("a", "2", "2026-03-03"), _action("b", "2", "2026-03-05")])  # replayed, moved
        assert load.taken("m3", {"2", None}) == {("2", D("2026-03-03")): 2, ("2", D("2026-03-05")): 1}
        assert load.taken("m1", {"2"}) == {("2", D("2026-03-03")): 1}  # its own share is not in its way
        assert load.taken("m2", {"3"}) == {}


def test_each_run_has_its_own_load_and_it_expires(redis_conn):
    RunLoad(redis_conn, "acme", "run1").record("m1", [_action("a", "2", "2026-03-03")])
    assert RunLoad(redis_conn, "acme", "run2").taken("m2", {"2"}) == {}
    assert RunLoad(redis_conn, "acme", "run1").missions() == {"m1"}
    assert all(0 < redis_conn.ttl(k) <= 14 * 24 * 3600 for k in redis_conn.keys("im:t:acme:backfill:*"))
