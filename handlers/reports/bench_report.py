"""The bench dashboard's figures, computed from mission snapshots, the bench steps done and the tenant's money.

Pure: no Redis, no host call (handlers.reports.bench_data reads the inputs). Definitions (docs/ADMIN.md):
- a bench period starts on the first working day after a mission's end when no other mission of the consultant
  covers that day, and lasts until the day before the consultant's next mission starts (or today);
- bench days are the working days of a period in the tenant's holiday calendar;
- the cost is bench days × the daily cost of the mission that ended (host), else the tenant's default;
- a bench day covered by a host inactivity whose type the tenant maps to an activity counts as that activity (the
  first such inactivity when they overlap); the other bench days of a period are shared equally between the
  activities whose bench steps someone ticked done.
"""
from __future__ import annotations

from typing import NamedTuple

from dataclasses import dataclass, field
from datetime import date, timedelta

from handlers.domain.calendar import is_business_day, next_business_day_after
from handlers.domain.model import MissionSnapshot

MECENAT_RATE = 0.60  # the share of the gross salary that mécénat de compétences gives back (white paper)
LOADED_COST_FACTOR = 1.5  # daily cost ≈ 1.5 × gross daily salary (employer contributions), when no salary is set
ONE_IN = 5  # five consultants on mission pay for one on the bench (white paper)
BENCHMARK = (0.10, 0.15)  # the usual bench rate of an ESN (white paper)
ACTIVITIES = {"training": ("bench.training",), "internal_project": ("bench.internal_project",),
              "mission_search": ("bench.self_review", "bench.cv_update", "bench.linkedin", "bench.ambassadors",
                                 "bench.platforms"),
              "mecenat": ("bench.skills_volunteering", "bench.volunteering_followup")}
ENDED = ("active", "client", "consultant")


@dataclass(frozen=True)
class Money:
    """The tenant's money settings (config.tenants.BenchSettings), as plain numbers."""

    default_daily_cost: float | None = None
    daily_margin: float | None = None
    gross_daily_salary: float | None = None


@dataclass
class BenchPeriod:
    """One consultant's time between a mission's end and the next mission's start."""

    consultant_id: str
    name: str
    mission_id: str
    mission_title: str
    start: date
    until: date | None  # the day before the next mission starts, when one is known
    daily_cost: float | None
    cost_source: str  # "host", "default" or "unknown"
    activities: frozenset[str] = frozenset()
    days: dict[str, float] = field(default_factory=dict)  # window name → bench days
    host_time: tuple[tuple[str, date, date | None], ...] = ()  # (activity, first day, last day) of mapped inactivities

    def on_bench(self, today: date) -> bool:
        """Still on the bench today."""
        return self.start <= today and (self.until is None or self.until >= today)

    def cost(self, window: str) -> float | None:
        """Bench days of the window × the daily cost."""
        return None if self.daily_cost is None else self.days.get(window, 0) * self.daily_cost


class WorkingDays:
    """Count working days in a range quickly (a prefix sum over the tenant's calendar)."""

    def __init__(self, first: date, last: date, country: str):
        self.first, self.country = first, country
        self.prefix = [0]
        day = first
        while day <= last:
            self.prefix.append(self.prefix[-1] + (1 if is_business_day(day, country) else 0))
            day += timedelta(days=1)
        self.last = last

    def count(self, a: date, b: date) -> int:
        """Working days from `a` to `b`, both included (0 when b < a)."""
        a, b = max(a, self.first), min(b, self.last)
        if b < a:
            return 0
        return self.prefix[(b - self.first).days + 1] - self.prefix[(a - self.first).days]


Span = tuple[date, "date | None"]


class Periods(NamedTuple):
    """Every bench period, and each consultant's mission spans."""

    periods: list[BenchPeriod]
    spans: dict[str, list[Span]]


def periods(snapshots: list[MissionSnapshot], done: dict[str, set[str]], money: Money, *, today: date,
            country: str, inactivity_map: dict[str, str] | None = None
            ) -> Periods:
    """Every bench period up to today, and each consultant's mission spans (consultants who left: neither);
    `inactivity_map`: host inactivity type → bench activity (types it lacks, or maps to "", count as none)."""
    by_consultant: dict[str, list[MissionSnapshot]] = {}
    for snap in snapshots:
        if snap.consultant is not None:
            by_consultant.setdefault(snap.consultant.id, []).append(snap)
    found, spans = [], {}
    for consultant_id, snaps in by_consultant.items():
        if any(s.consultant_left for s in snaps):
            continue
        spans[consultant_id] = _spans(snaps)
        found.extend(_consultant_periods(consultant_id, snaps, spans[consultant_id], done, money, today, country,
                                         inactivity_map or {}))
    return Periods(found, spans)


def _spans(snaps: list[MissionSnapshot]) -> list[Span]:
    """(start, end) of the consultant's missions still on (not cancelled or deleted), the other missions included."""
    live = [s for s in snaps if s.status in ENDED and s.start_date is not None]
    return [(s.start_date, s.end_date) for s in live] + [(o.start, o.end) for s in live for o in s.others if o.start]


def _consultant_periods(consultant_id: str, snaps: list[MissionSnapshot], spans: list[Span],
                        done: dict[str, set[str]], money: Money, today: date, country: str,
                        inactivity_map: dict[str, str]) -> list[BenchPeriod]:
    live = [s for s in snaps if s.status in ENDED and s.start_date is not None]
    starts = sorted({a for a, _ in spans} | {s.next_start for s in live if s.next_start})
    out: dict[date, BenchPeriod] = {}
    for snap in sorted((s for s in live if s.end_date is not None), key=lambda s: (s.end_date, s.mission_id)):
        begin = next_business_day_after(snap.end_date, country)
        if begin > today or any(a <= begin and (b is None or b >= begin) for a, b in spans):
            continue
        nxt = next((d for d in starts if d > snap.end_date), None)
        until = nxt - timedelta(days=1) if nxt else None
        if until is not None and until < begin:
            continue
        out[begin] = _merge(out.get(begin), _period(consultant_id, snap, begin, until, done, money, inactivity_map))
    return list(out.values())


def _period(consultant_id: str, snap: MissionSnapshot, begin: date, until: date | None,
            done: dict[str, set[str]], money: Money, inactivity_map: dict[str, str]) -> BenchPeriod:
    cost, source = snap.daily_cost, "host"
    if cost is None:
        cost, source = money.default_daily_cost, "default" if money.default_daily_cost else "unknown"
    host_time = tuple((inactivity_map[i.type], i.start, i.end) for i in snap.inactivities
                      if inactivity_map.get(i.type) in ACTIVITIES)
    return BenchPeriod(consultant_id, snap.consultant.name if snap.consultant else "", snap.mission_id,
                       snap.title, begin, until, cost, source, activities_of(done.get(snap.mission_id, set())),
                       host_time=host_time)


def _merge(old: BenchPeriod | None, new: BenchPeriod) -> BenchPeriod:
    """Two missions ending the same day open one bench period: their steps done count together."""
    if old is None:
        return new
    keep = old if old.daily_cost is not None or new.daily_cost is None else new
    keep.activities = old.activities | new.activities
    keep.host_time = tuple(sorted(set(old.host_time) | set(new.host_time), key=lambda t: (t[1], t[0])))
    return keep


def activities_of(step_ids: set[str]) -> frozenset[str]:
    """The bench activities these done steps belong to (a tenant's own `bench.training_x` counts as training)."""
    return frozenset(name for name, ids in ACTIVITIES.items()
                     if any(step == i or step.startswith(i + "_") for step in step_ids for i in ids))


def gross_daily(period: BenchPeriod, money: Money) -> float | None:
    """The gross daily salary used for the mécénat saving: the tenant's, else daily cost / 1.5."""
    if money.gross_daily_salary:
        return money.gross_daily_salary
    return None if period.daily_cost is None else period.daily_cost / LOADED_COST_FACTOR


@dataclass
class Figures:
    """One window's figures (this month, this quarter, one month of the chart)."""

    name: str
    first: date
    last: date
    working_days: int
    headcount: int
    days: float = 0
    cost: float = 0
    unknown_cost_days: float = 0
    shares: dict[str, float] = field(default_factory=dict)  # activity (or "unrecorded") → bench days
    host_days: dict[str, float] = field(default_factory=dict)  # activity → bench days covered by a host inactivity
    mecenat_days: float = 0
    mecenat_saving: float = 0

    @property
    def rate(self) -> float:
        """Bench days / (headcount × working days): the share of the workforce's time on the bench."""
        capacity = self.headcount * self.working_days
        return self.days / capacity if capacity else 0.0

    @property
    def effective_use(self) -> float:
        """The share of bench days spent on an activity: covered by a mapped host inactivity or with a step ticked done
        (issue #29: effective use of the bench)."""
        return 1 - self.shares.get("unrecorded", 0) / self.days if self.days else 0.0

    @property
    def mecenat_gross_daily(self) -> float:
        """The average gross daily salary behind the saving (an input of its formula)."""
        return self.mecenat_saving / MECENAT_RATE / self.mecenat_days if self.mecenat_days else 0.0


class Margin(NamedTuple):
    """The margin a bench day costs, and where the figure comes from ("one_in_five", "tenant")."""

    per_day: float | None
    source: str


@dataclass
class BenchReport:
    """Everything the dashboard shows."""

    today: date
    periods: list[BenchPeriod]
    month: Figures
    quarter: Figures
    monthly: list[Figures]
    headcount_now: int
    money: Money

    @property
    def on_bench(self) -> list[BenchPeriod]:
        """The consultants on the bench today, longest first."""
        return sorted((p for p in self.periods if p.on_bench(self.today)), key=lambda p: (p.start, p.name))

    @property
    def rate_now(self) -> float:
        """Consultants on the bench today / consultants on a mission or on the bench today."""
        return len(self.on_bench) / self.headcount_now if self.headcount_now else 0.0

    def benchmark(self, rate: float) -> str:
        """"below", "within" or "above" the 10–15 % benchmark."""
        return "below" if rate < BENCHMARK[0] else "within" if rate <= BENCHMARK[1] else "above"

    def margin_per_day(self) -> Margin:
        """The margin a consultant on mission earns per day: the tenant's, else this month's daily cost / 5."""
        if self.money.daily_margin:
            return Margin(self.money.daily_margin, "tenant")
        known = self.month.days - self.month.unknown_cost_days
        return Margin(((self.month.cost / known / ONE_IN) if known else None), "one_in_five")

    def margin_equivalent(self) -> float | None:
        """This month's bench cost in consultants on mission: cost / (margin per day × working days so far)."""
        margin, _ = self.margin_per_day()
        if not margin or not self.month.working_days:
            return None
        return self.month.cost / (margin * self.month.working_days)


def report(snapshots: list[MissionSnapshot], done: dict[str, set[str]], money: Money, *, today: date,
           country: str = "FR", inactivity_map: dict[str, str] | None = None) -> BenchReport:
    """The dashboard's figures on `today` (bench periods, this month, this quarter, the last twelve months);
    `inactivity_map`: host inactivity type → bench activity (see `periods`)."""
    found, spans = periods(snapshots, done, money, today=today, country=country, inactivity_map=inactivity_map)
    first = _month_start(today, -11)
    calendar = WorkingDays(min([first] + [p.start for p in found]), today, country)
    quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    windows = [("month", today.replace(day=1), today), ("quarter", quarter, today)]
    windows += [(f"m{i}", _month_start(today, -i), min(_month_start(today, -i + 1) - timedelta(days=1), today))
                for i in range(11, -1, -1)]
    figures = {name: _figures(name, a, b, found, spans, calendar, money) for name, a, b in windows}
    now = {p.consultant_id for p in found if p.on_bench(today)}
    now |= {c for c, rows in spans.items() if any(a <= today and (b is None or b >= today) for a, b in rows)}
    return BenchReport(today, found, figures["month"], figures["quarter"],
                       [figures[f"m{i}"] for i in range(11, -1, -1)], len(now), money)


def _figures(name: str, a: date, b: date, found: list[BenchPeriod], spans: dict[str, list[Span]],
             calendar: WorkingDays, money: Money) -> Figures:
    people = {c for c, rows in spans.items() if any(s <= b and (e is None or e >= a) for s, e in rows)}
    people |= {p.consultant_id for p in found if p.start <= b and (p.until is None or p.until >= a)}
    out = Figures(name, a, b, calendar.count(a, b), len(people))
    for p in found:
        days = calendar.count(max(p.start, a), min(p.until or b, b))
        p.days[name] = days
        if not days:
            continue
        out.days += days
        if p.daily_cost is None:
            out.unknown_cost_days += days
        else:
            out.cost += days * p.daily_cost
        _share(out, p, days, host_covered(p, max(p.start, a), min(p.until or b, b), calendar=calendar), money)
    return out


def host_covered(p: BenchPeriod, a: date, b: date, *, calendar: WorkingDays) -> dict[str, int]:
    """Activity → the working days of [a, b] covered by the period's mapped host inactivities (a day once: the
    inactivity that starts first takes it)."""
    out: dict[str, int] = {}
    cursor = a  # the first day no inactivity has taken yet
    for activity, start, end in p.host_time:
        first, last = max(start, cursor), min(end or b, b)
        if last < first:
            continue
        out[activity] = out.get(activity, 0) + calendar.count(first, last)
        cursor = last + timedelta(days=1)
    return out


def _share(out: Figures, p: BenchPeriod, days: float, covered: dict[str, int], money: Money) -> None:
    """A period's days: those a mapped host inactivity covers go to its activity, the rest are split between the
    activities with a step done (none: "unrecorded"); mécénat days earn the saving."""
    for activity, n in covered.items():
        if n:
            out.host_days[activity] = out.host_days.get(activity, 0) + n
            _add(out, p, activity, n, money)
    rest = days - sum(covered.values())
    if rest <= 0:
        return
    if not p.activities:
        out.shares["unrecorded"] = out.shares.get("unrecorded", 0) + rest
        return
    for activity in p.activities:
        _add(out, p, activity, rest / len(p.activities), money)


def _add(out: Figures, p: BenchPeriod, activity: str, part: float, money: Money) -> None:
    out.shares[activity] = out.shares.get(activity, 0) + part
    if activity == "mecenat":
        out.mecenat_days += part
        gross = gross_daily(p, money)
        out.mecenat_saving += MECENAT_RATE * part * (gross or 0)


def _month_start(today: date, shift: int) -> date:
    index = today.year * 12 + today.month - 1 + shift
    return date(index // 12, index % 12 + 1, 1)


def window(name: str, a: date, b: date, *, found: list[BenchPeriod], spans: dict[str, list[Span]],
           calendar: WorkingDays, money: Money) -> Figures:
    """One window's figures from [a, b] (the forecast's weeks); each period's days are kept under `name`."""
    return _figures(name, a, b, found, spans, calendar, money)
