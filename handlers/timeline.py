"""When does the consultant's next piece of work start? Shared by every host adapter."""
from __future__ import annotations

from datetime import date
from typing import Iterable

from handlers.model import MissionSnapshot


def next_start(snap: MissionSnapshot, others: Iterable[tuple[str, date | None, date | None]]) -> date | None:
    """Earliest start among the consultant's other active missions that run past this one's end."""
    if snap.end_date is None:
        return None
    starts = [start for mission_id, start, end in others
              if mission_id != snap.mission_id and start and (end is None or end > snap.end_date)]
    return min(starts) if starts else None
