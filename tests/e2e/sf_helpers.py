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
