"""Open missions whose manager steps fall back (no project manager named): a list for the admin's planning card."""

from __future__ import annotations

from config import keys
from handlers.domain.owners import without_manager
from handlers.state.store import SnapshotStore


def missions_without_manager(conn, tenant_id: str, limit: int = 50) -> list[dict]:
    """Open missions whose manager steps fall back (no project manager): id, title, end, who gets them instead."""
    store, out = SnapshotStore(conn, tenant_id), []
    for key in conn.scan_iter(match=keys.missions_pattern(tenant_id), count=500):
        snap = store.get(key.decode().rsplit(":", 1)[1])
        if snap is None or snap.status in ("cancelled", "deleted") or snap.end_date is None or not without_manager(snap):
            continue
        via = snap.consultant_manager
        out.append({"mission": snap.mission_id, "title": snap.title or snap.mission_id, "end": snap.end_date,
                    "fallback": (via.name or via.id) if via else None})
        if len(out) >= limit:
            break
    return sorted(out, key=lambda row: (row["end"], row["mission"]))
