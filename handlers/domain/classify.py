"""Classify a mission change into natural / client / consultant / extension / cancellation / restaffed.

The classification is the single source of a mission's case and reason: the worker, the preview, `plan` and the
activity log all show what `classify` says, and the planner's "why" line in each host text is made from it.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal, NamedTuple

from handlers.domain.model import NEXT_UNKNOWN, CaseName, Classification, MissionSnapshot, OtherMission
from handlers.domain.rules import Rules

EndCase = Literal["natural", "client", "consultant"]
LONG_AGO = date(2000, 1, 1)  # `end_seen` of a mission stored before Intermission kept that day
# a replacement starts at most this many days before the early end it takes over (an overlap for the handover)
HANDOVER_DAYS = 30


def carry(prev: MissionSnapshot | None, cur: MissionSnapshot, today: date) -> MissionSnapshot:
    """The re-read snapshot with what only earlier reads know: notice day, first-seen day, the end's last move."""
    keep: dict = {"notice_date": None}
    if cur.status in ("client", "consultant"):
        keep["notice_date"] = prev.notice_date if prev and prev.status == cur.status and prev.notice_date else today
    if prev is None:
        keep.update(first_seen=cur.first_seen or today, end_seen=today, previous_end=None)
    elif cur.end_date != prev.end_date:
        keep.update(first_seen=prev.first_seen, end_seen=today, previous_end=prev.end_date)
    else:  # a snapshot stored before these fields: its end was learnt on a day unknown, so nothing counts as late
        keep.update(first_seen=prev.first_seen, end_seen=prev.end_seen or LONG_AGO, previous_end=prev.previous_end)
    return cur.model_copy(update=keep)


def classify(prev: MissionSnapshot | None, cur: MissionSnapshot, today: date, *, country: str = "FR",
             rules: Rules | None = None) -> Classification:
    """Decide the case from the host's state fields first, then from the old and new end dates, then staffing."""
    rules = Rules.coerce(rules, country)
    if cur.status in ("cancelled", "deleted"):
        return Classification(case="cancellation", end_case=None, reason=f"mission {cur.status}")
    if cur.end_date is None:
        return Classification(case="cancellation", end_case=None, reason="end date cleared")
    before = cur.previous_end if cur.end_seen is not None else (prev.end_date if prev else None)
    end_case, reason, unsure = _end_case(before, cur)
    case: CaseName = end_case
    if end_case == "natural" and before and cur.end_date > before:
        case, reason = "extension", f"end moved later ({before} → {cur.end_date})"
    stale = is_stale(cur, rules)
    if stale and cur.first_seen:  # (stale implies both days are known)
        reason += (f"; first seen on {cur.first_seen}, {(cur.first_seen - cur.end_date).days} days after the end "
                   f"(over {rules.stale_after_days}): no end-of-mission steps")
    base: dict[str, Any] = dict(end_case=end_case, unsure=unsure, stale=stale)
    carried_on = continuation(cur, rules)
    if carried_on is not None:
        return Classification(case="continued", end_case=None, reason=_noted(
            f"{reason}; continues in {carried_on.title or carried_on.id} from {carried_on.start} "
            f"(same {rules.chain_by}): not an end, the mission ends with the chain's last one", cur))
    replaced_by = replacements(cur, rules)
    if replaced_by:
        base["replaced_by"] = replaced_by
        reason += "; replaced by " + ", ".join(f"{(o.consultant.name if o.consultant else '') or 'another consultant'} "
                                               f"from {o.start}" for o in replaced_by)
    if is_leaver(cur):
        why = "left the firm" if cur.consultant_left else f"contract ends on {cur.contract_end}"
        return Classification(case=case, reason=_noted(f"{reason}; the consultant {why}: no bench", cur), leaver=True, **base)
    unbenched = not_on_the_bench(cur, stale)
    if unbenched:
        return Classification(case=case, reason=_noted(f"{reason}; {unbenched}: no bench", cur), **base)
    restaff_on, busy = staffing(cur, rules)
    bench_start = rules.after(cur.end_date)
    if restaff_on and restaff_on <= bench_start:
        concurrent = [label(o) for o in _running(cur, restaff_on) if o.start and o.start <= cur.end_date]
        if concurrent:  # nothing starts: the consultant was busy elsewhere all along (no bench, the whole end list)
            return Classification(case="staffed_elsewhere", reason=_noted(
                f"{reason}; still staffed elsewhere: {', '.join(concurrent)} keeps the consultant busy", cur),
                busy=busy, **base)
        return Classification(case="restaffed", reason=_noted(f"{reason}; next mission starts right after the end", cur),
                              busy=busy, next_known=True, **base)
    if restaff_on and today >= restaff_on:
        return Classification(case="restaffed", reason=_noted(f"{reason}; next mission started on {restaff_on}: bench closed", cur),
                              busy=busy, **base)
    if restaff_on:
        reason += f"; next mission starts on {restaff_on}: on the bench until then"
    elif busy:
        reason += (f"; still staffed elsewhere ({', '.join(busy)}) below the {rules.bench_threshold} % "
                   "threshold: on the bench")
    return Classification(case=case, reason=_noted(reason, cur), bench=today > cur.end_date, bench_until=restaff_on, busy=busy,
                          **base)


def continuation(cur: MissionSnapshot, rules: Rules) -> OtherMission | None:
    """The consultant's next mission that carries this one on (the mission chain), or None.

    It starts between this one's end and the next business day after it, on the same project (or, with the tenant's
    `chain_by = "client"` or when either project is unknown, for the same client). This end is then not an end.
    """
    if cur.end_date is None:
        return None
    limit = rules.after(cur.end_date)
    for other in sorted(_others(cur), key=lambda o: (o.start or limit, o.id)):
        if other.start and cur.end_date <= other.start <= limit and same_mission(cur, other, rules):
            return other
    return None


def ends_early(cur: MissionSnapshot) -> bool:
    """On a carried snapshot: a state mapped to an early end, or an end moved earlier (its last move)."""
    return cur.status in ("client", "consultant") or bool(
        cur.end_date and cur.previous_end and cur.end_date < cur.previous_end)


def takes_over(end: date, start: date | None, successor_start: date | None, *, rules: Rules) -> bool:
    """Does a mission starting on `successor_start` take over one running from `start` to `end`: it starts after that
    one began, at most HANDOVER_DAYS before its end, and at the latest the next business day after it."""
    return bool(successor_start and (start is None or start < successor_start)
                and end - timedelta(days=HANDOVER_DAYS) <= successor_start <= rules.after(end))


def replacements(cur: MissionSnapshot, rules: Rules) -> list[OtherMission]:
    """Other consultants' missions on this one's project that take over its early end (white paper case 3: "intégration
    d'un consultant remplaçant"), first start first; none for an end that is not early."""
    if cur.end_date is None or not ends_early(cur):
        return []
    end = cur.end_date
    return sorted((o for o in cur.crew if _teammate(cur, o) and replaces(cur, o.start, o.end, rules=rules)),
                  key=lambda o: (o.start or end, o.id))


def taken_over(cur: MissionSnapshot, rules: Rules) -> list[str]:
    """The project's missions of other consultants this one may take over (read them again: an early end among them
    names its replacement)."""
    return sorted(o.id for o in cur.crew if _teammate(cur, o) and replaced_by(cur, o.start, o.end, rules=rules))


def replaces(cur: MissionSnapshot, start: date | None, end: date | None, *, rules: Rules) -> bool:
    """Would another mission of the project, running from `start` to `end`, take over this one at its end: it goes
    on after this end and `takes_over` it (the dates alone; `replacements` also asks for an early end)."""
    return bool(cur.end_date and (end is None or end > cur.end_date)
                and takes_over(cur.end_date, cur.start_date, start, rules=rules))


def replaced_by(cur: MissionSnapshot, start: date | None, end: date | None, *, rules: Rules) -> bool:
    """Would this mission take over another of the project running from `start` to `end` (the dates alone)."""
    return bool(end and (cur.end_date is None or cur.end_date > end) and takes_over(end, start, cur.start_date, rules=rules))


def in_reach(cur: MissionSnapshot, start: date | None, end: date | None, *, rules: Rules) -> bool:
    """Is a crew row from `start` to `end` worth naming: one this mission may hand over to or take over from. The
    adapters keep only these, so a project of hundreds of missions costs a job the few around its dates."""
    return replaces(cur, start, end, rules=rules) or replaced_by(cur, start, end, rules=rules)


def _teammate(cur: MissionSnapshot, other: OtherMission) -> bool:
    """Another consultant's mission (a renewal of one's own is the chain's business)."""
    return bool(other.consultant and other.consultant.id != (cur.consultant.id if cur.consultant else None))


def crew_matters(prev: MissionSnapshot | None, cur: MissionSnapshot, today: date) -> bool:
    """Is the project's crew worth a read for this mission: an end that came or moved early (its replacement), or a
    mission first seen that starts from HANDOVER_DAYS ago on (it may replace someone)."""
    if not cur.project_id or cur.consultant is None:
        return False
    if prev is None:
        return cur.start_date is None or cur.start_date >= today - timedelta(days=HANDOVER_DAYS)
    return (cur.status in ("client", "consultant") or prev.end_date != cur.end_date
            or ends_early(prev.model_copy(update={"status": cur.status})))


def same_mission(cur: MissionSnapshot, other: OtherMission, rules: Rules) -> bool:
    """Does `other` continue the same piece of work: same project, or same client (by setting, or no project known)."""
    if rules.chain_by == "project" and cur.project_id and other.project:
        return other.project == cur.project_id
    return bool(cur.client_id and other.client and other.client == cur.client_id)


def _noted(reason: str, cur: MissionSnapshot) -> str:
    """The reason with what the read could not decide or learn (unmapped state, refused tabs), for the provenance."""
    return "; ".join([reason, *([cur.state_note] if cur.state_note else []), *cur.degraded])


def is_stale(cur: MissionSnapshot, rules: Rules) -> bool:
    """First seen more than `stale_after_days` after its end (a mission Intermission only learnt of late)."""
    return bool(cur.first_seen and cur.end_date and (cur.first_seen - cur.end_date).days > rules.stale_after_days)


def is_leaver(cur: MissionSnapshot) -> bool:
    """The consultant left the firm, or their contract ends by this mission's end."""
    return cur.consultant_left or bool(cur.contract_end and cur.end_date and cur.contract_end <= cur.end_date)


def not_on_the_bench(cur: MissionSnapshot, stale: bool) -> str | None:
    """Why the consultant cannot be on the bench whatever the dates say (None: the dates decide).

    An external person (subcontractor, freelance) or one the host says is staffed is never on the bench; nor is the
    consultant of a mission ended long before it was first seen (history) when their other missions could not be
    read: whether a bench starts must not depend on the order in which the missions are read."""
    if cur.consultant_external:
        return "the consultant is external (subcontractor or freelance)"
    if cur.consultant_staffed:
        return "the consultant's record says they are on a mission"
    if stale and any(line.startswith(NEXT_UNKNOWN) for line in cur.degraded):
        return "an old mission and the consultant's other missions are unknown"
    return None


class Staffing(NamedTuple):
    """The first day from the bench start the consultant's other missions fill the threshold (None: never), and what
    they are."""

    until: date | None
    busy: list[str]


def staffing(cur: MissionSnapshot, rules: Rules) -> Staffing:
    """The first day from the bench start the consultant's other missions fill the threshold, and what they are."""
    if cur.end_date is None:  # no end, no bench
        return Staffing(None, [])
    bench_start = rules.after(cur.end_date)
    others = _others(cur)
    days = sorted({bench_start} | {o.start for o in others if o.start and o.start > bench_start})
    for day in days:
        running = _running(cur, day)
        if sum(occupation(o) for o in running) >= rules.bench_threshold:
            return Staffing(day, [label(o) for o in running])
    return Staffing(None, [label(o) for o in _running(cur, bench_start)])


def occupation(other: OtherMission) -> int:
    """Its share of the consultant's time; unknown counts as full time."""
    return 100 if other.occupation is None else other.occupation


def label(other: OtherMission) -> str:
    """'title (60 %)' for reasons and texts."""
    return f"{other.title or other.id} ({occupation(other)} %)"


def wakeup(cur: MissionSnapshot, found: Classification, today: date) -> date | None:
    """When time alone will change this mission's plan: the bench start, each check-in week, the next mission's start."""
    if found.end_case is None or cur.end_date is None or found.leaver or found.case in ("restaffed",
                                                                                          "staffed_elsewhere"):
        return None
    if found.bench:
        week = today + timedelta(days=7)
        return min(week, found.bench_until) if found.bench_until else week
    return max(cur.end_date + timedelta(days=1), today + timedelta(days=1))


def _others(cur: MissionSnapshot) -> list[OtherMission]:
    if cur.others:
        return list(cur.others)
    return [OtherMission(id="next", start=cur.next_start)] if cur.next_start else []


def _running(cur: MissionSnapshot, day: date) -> list[OtherMission]:
    return [o for o in _others(cur) if o.start and o.start <= day and (o.end is None or o.end >= day)]


def _end_case(before: date | None, cur: MissionSnapshot) -> tuple[EndCase, str, bool]:
    if cur.status in ("client", "consultant"):
        return cur.status, f"the host marks an early end by the {cur.status}", False
    if before and cur.end_date and cur.end_date < before:
        return "natural", (f"end moved earlier ({before} → {cur.end_date}) with no reason mapped to "
                           "client or consultant: treated as natural, to confirm"), True
    return "natural", "planned end", False
