"""The activity log keeps each mission's provenance: the last N records per mission, whole old missions dropped."""
from __future__ import annotations

from handlers.state.ledger import ActivityLog


def _write(log: ActivityLog, mission: str, n: int, pipe=None) -> None:
    for i in range(n):
        log.add({"mission": mission, "op": "created", "key": f"{mission}-{i}"}, pipe=pipe)


def test_a_quiet_missions_history_survives_a_busy_tenant(redis_conn):
    log = ActivityLog(redis_conn, "acme", cap=50, per_mission=5, tenant_cap=1000)
    _write(log, "quiet", 3)
    _write(log, "busy", 400)  # 400 records of another mission: the feed (cap 50) no longer has the quiet one
    assert [r["key"] for r in log.recent(mission="quiet")] == ["quiet-2", "quiet-1", "quiet-0"]
    assert all(r["mission"] == "busy" for r in log.recent(limit=50))


def test_each_mission_keeps_its_last_n_records_newest_first(redis_conn):
    log = ActivityLog(redis_conn, "acme", per_mission=4)
    _write(log, "100", 10)
    assert [r["key"] for r in log.recent(mission="100")] == ["100-9", "100-8", "100-7", "100-6"]
    assert len(log.recent(limit=2, mission="100")) == 2


def test_the_tenant_cap_drops_the_missions_written_longest_ago_whole(redis_conn):
    log = ActivityLog(redis_conn, "acme", per_mission=3, tenant_cap=7)
    for mission in ("old", "middle", "new"):
        _write(log, mission, 3)  # 9 records > 7: "old" goes, all of it; "middle" is kept whole
    assert log.recent(mission="old") == []
    assert len(log.recent(mission="middle")) == 3 and len(log.recent(mission="new")) == 3
    log.add({"mission": "middle", "op": "rescheduled", "key": "m"})  # written again: now the newest
    _write(log, "newest", 3)
    assert log.recent(mission="new") == [] and log.recent(mission="middle")[0]["key"] == "m"


def test_records_on_a_callers_pipeline_land_when_it_executes(redis_conn):
    log = ActivityLog(redis_conn, "acme")
    pipe = redis_conn.pipeline(transaction=False)
    _write(log, "100", 2, pipe=pipe)
    assert log.recent(mission="100") == []
    pipe.execute()
    assert [r["key"] for r in log.recent(mission="100")] == ["100-1", "100-0"]


def test_tenant_records_without_a_mission_stay_in_the_feed(redis_conn):
    log = ActivityLog(redis_conn, "acme")
    log.add({"mission": "", "op": "installed", "key": ""})
    assert [r["op"] for r in log.recent()] == ["installed"]
