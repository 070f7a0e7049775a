"""Helpers for Salesforce stories: read the org's Tasks by the marker in their Description."""
from __future__ import annotations

import re
from collections import Counter

MARK = re.compile(r"intermission:([^/\s]+)/(\S+)")


def by_step(tasks: list[dict], mission: str) -> dict[str, dict]:
    """The mission's Tasks keyed by step."""
    out = {}
    for task in tasks:
        found = MARK.search(task.get("Description") or "")
        assert found, f"task {task.get('Id')} has no Intermission marker"
        if found.group(1) == mission:
            out[found.group(2)] = task
    return out


def duplicates(tasks: list[dict]) -> list[str]:
    """Markers carried by more than one Task."""
    counts = Counter(MARK.search(t.get("Description") or "").group(0) for t in tasks)
    return [m for m, n in counts.items() if n > 1]


def org_state(tasks: list[dict]) -> list[tuple]:
    """What users see in Salesforce, independent of ids."""
    return sorted((MARK.search(t["Description"]).group(0), t.get("Subject"), t.get("ActivityDate"),
                   t.get("OwnerId"), t.get("WhoId"), t.get("Priority")) for t in tasks)


def queued_syncs() -> int:
    """Jobs queued by webhooks (the install backfill that connecting queues is left out)."""
    from handlers.intake.queues import get_queue

    return len([j for j in get_queue().job_ids if not j.startswith("backfill-")])


def spend_the_budget_mid_story(sf_stack, redis_conn) -> str:
    """A mission written, then the org's usage at its limit and an end date moved: the change is held."""
    from datetime import date

    from config.infra import clock
    from handlers.sync.holds import held
    from tests.e2e.helpers import settle

    clock.pin(date(2026, 3, 2))
    mission = sf_stack.create_mission(date(2025, 11, 3), date(2026, 4, 16))["record"]["Id"]
    settle()
    limit = sf_stack.control("GET", "/_control/config")["daily_api_limit"]
    sf_stack.control("POST", "/_control/limits", json={"used": limit})
    sf_stack.move_end(mission, date(2026, 5, 7))
    settle()
    assert mission in held(redis_conn, "acme-sf") and redis_conn.get("im:t:acme-sf:sf:usage") == f"{limit}/{limit}".encode()
    return mission
