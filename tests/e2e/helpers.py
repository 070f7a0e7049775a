"""Helpers for end-to-end stories: run the worker in burst mode, read the host's actions."""
from __future__ import annotations

import re
from collections import Counter

from handlers.intake.queues import run_burst

MARK = re.compile(r"intermission:([^/<\s]+)/([^<\s]+)")


def settle() -> None:
    """Run the worker until the queue is empty (no sleeping)."""
    run_burst()


def by_step(actions: list[dict]) -> dict[str, dict]:
    """Actions keyed by (mission/step) from the marker embedded in their text."""
    out = {}
    for row in actions:
        found = MARK.search(row["attributes"].get("text") or "")
        assert found, f"action {row['id']} has no Intermission marker"
        out[f"{found.group(1)}/{found.group(2)}"] = row
    return out


def markers(actions: list[dict]) -> Counter:
    """How many host actions carry each marker (any count above 1 is a duplicate)."""
    return Counter(MARK.search(r["attributes"].get("text") or "").group(0) for r in actions)


def host_state(actions: list[dict]) -> list[tuple]:
    """What a user sees in Boond, independent of ids: sorted (marker, due, title, owner, target)."""
    rows = []
    for r in actions:
        a, rel = r["attributes"], r.get("relationships") or {}
        owner = ((rel.get("mainManager") or {}).get("data") or {}).get("id")
        target = ((rel.get("dependsOn") or {}).get("data") or {})
        rows.append((MARK.search(a.get("text") or "").group(0), a.get("startDate"), a.get("title"),
                     a.get("typeOf"), owner, target.get("type"), target.get("id")))
    return sorted(rows)


def due(row: dict) -> str:
    """The action's due day (YYYY-MM-DD)."""
    return row["attributes"]["startDate"][:10]


def owner(row: dict) -> str | None:
    return ((row.get("relationships", {}).get("mainManager") or {}).get("data") or {}).get("id")


def assert_planned_once(market, redis_conn, missions: set[str], today) -> None:
    """Each of these missions (and no other) has exactly the actions its plan wants, nothing left to write, none
    twice (a Boond stack with an installed tenant)."""
    from handlers.state.store import SnapshotStore
    from handlers.sync import pipeline

    counts = markers(market.actions())
    assert counts and set(counts.values()) == {1}, "a duplicated action"
    with_actions = {MARK.search(m).group(1) for m in counts}
    assert with_actions == missions, (sorted(missions - with_actions), sorted(with_actions - missions))
    tenant, store = market.installed(), SnapshotStore(redis_conn, market.tenant.id)
    for mission_id in missions:
        snap = store.get(mission_id)
        plan = pipeline.prepare(redis_conn, tenant, snap, current=snap, trigger={"kind": "check"}, today=today,
                                write=False)
        rows = pipeline.dry_run(redis_conn, plan)
        assert rows and {r["op"] for r in rows} <= {"unchanged", "kept"}, (mission_id, rows)
        assert sum(1 for m in counts if m.startswith(f"intermission:{mission_id}/")) == len(rows)
