"""Classify a mission change into natural / client / consultant / extension / cancellation / restaffed."""
from __future__ import annotations

from datetime import date

from handlers.calendar import next_business_day_after
from handlers.model import Classification, MissionSnapshot


def classify(prev: MissionSnapshot | None, cur: MissionSnapshot, today: date, country: str = "FR") -> Classification:
    """Decide the case from the host's state fields first, then from the old and new end dates."""
    if cur.status in ("cancelled", "deleted"):
        return Classification(case="cancellation", end_case=None, reason=f"mission {cur.status}")
    if cur.end_date is None:
        return Classification(case="cancellation", end_case=None, reason="end date cleared")
    end_case, reason, unsure = _end_case(prev, cur)
    case = end_case
    if end_case == "natural" and prev and prev.end_date and cur.end_date > prev.end_date:
        case, reason = "extension", f"end moved later ({prev.end_date} → {cur.end_date})"
    bench = _on_bench(cur, today)
    if cur.next_start and not bench:
        restaffed_on = next_business_day_after(cur.end_date, country)
        when = "right after the end" if cur.next_start <= restaffed_on else f"on {cur.next_start}"
        case, reason = "restaffed", f"{reason}; next mission starts {when}"
    return Classification(case=case, end_case=end_case, reason=_noted(reason, cur), unsure=unsure, bench=bench)


def _noted(reason: str, cur: MissionSnapshot) -> str:
    """The reason with what the read could not decide or learn (unmapped state, refused tabs), for the provenance."""
    return "; ".join([reason, *([cur.state_note] if cur.state_note else []), *cur.degraded])


def _end_case(prev: MissionSnapshot | None, cur: MissionSnapshot) -> tuple[str, str, bool]:
    if cur.status in ("client", "consultant"):
        return cur.status, f"host state {cur.raw_state!r} mapped to {cur.status}", False
    if prev and prev.end_date and cur.end_date and cur.end_date < prev.end_date:
        return "natural", (f"end moved earlier ({prev.end_date} → {cur.end_date}) with no reason mapped to "
                           "client or consultant: treated as natural"), True
    return "natural", "planned end", False


def _on_bench(cur: MissionSnapshot, today: date) -> bool:
    """The consultant is on the bench once the end date has passed and no next mission is known (never one who left)."""
    return cur.end_date is not None and today > cur.end_date and cur.next_start is None and not cur.consultant_left
