"""When does the consultant's next piece of work start? Shared by every host adapter."""
from __future__ import annotations

from datetime import date
from typing import Iterable

from handlers.domain.model import MissionSnapshot, OtherMission


def others_after(snap: MissionSnapshot, items: Iterable[OtherMission]) -> list[OtherMission]:
    """The consultant's other missions that still run after this one's end (started before it or later)."""
    if snap.end_date is None:
        return []
    return sorted((o for o in items if o.id != snap.mission_id and o.start and (o.end is None or o.end > snap.end_date)),
                  key=lambda o: (o.start, o.id))


def placed(snap: MissionSnapshot, items: Iterable[OtherMission]) -> MissionSnapshot:
    """The snapshot with its consultant's other missions after its end and the earliest start among them."""
    others = others_after(snap, items)
    return snap.model_copy(update={"others": others, "next_start": min((o.start for o in others if o.start), default=None)})


def next_start(snap: MissionSnapshot, others: Iterable[tuple[str, date | None, date | None]]) -> date | None:
    """Earliest start among the consultant's other active missions that run past this one's end."""
    items = [OtherMission(id=i, start=s, end=e) for i, s, e in others]
    return placed(snap, items).next_start
