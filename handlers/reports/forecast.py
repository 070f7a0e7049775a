"""The bench forecast: who comes back in the next 13 weeks, and what their bench will cost, week by week.

Pure: no Redis, no host call (handlers.reports.bench_data reads the snapshots). The bench rules are the dashboard's
(handlers.reports.bench_report.periods), run up to the horizon instead of today, so the forecast and the history agree:
- a consultant comes back on the first working day after a mission's end when no other mission covers that day
  and none starts by then; they stay on the bench until the day before their next known mission starts, or, when
  none is known, to the end of the horizon;
- a week's bench days are working days on the bench from `today` on; its cost is days × daily cost (host, else
  the tenant's default; days with neither are counted apart, never priced at 0);
- a week's rate is bench days / (headcount × working days); headcount: consultants on a mission or on the bench
  during the week (not those who left).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from handlers.reports.bench_report import BENCHMARK, BenchPeriod, Figures, Money, WorkingDays, periods, window
from handlers.domain.classify import classify
from handlers.domain.model import Classification, MissionSnapshot

WEEKS = 13
LAYERS = ("on_bench", "coming_back", "to_confirm")  # the chart's stack, bottom to top


@dataclass(frozen=True)
class Return:
    """One consultant coming back to the bench inside the horizon."""

    consultant_id: str
    name: str
    mission_title: str
    end: date  # the mission's last day
    first_day: date  # the first bench day
    until: date | None  # the day before the next known mission starts; None: no next mission known
    case: str  # natural, client or consultant
    to_confirm: bool  # the end is not settled (moved earlier with no known reason, or the host did not say all)
    days: int  # bench days from today to the horizon
    daily_cost: float | None
    cost_source: str  # host, default or unknown
    mission_id: str = ""  # the mission that ends (its business engineer gets the digest)

    @property
    def next_start(self) -> date | None:
        """The first day of the next known mission."""
        return None if self.until is None else self.until + timedelta(days=1)

    @property
    def cost(self) -> float | None:
        """Projected bench cost inside the horizon."""
        return None if self.daily_cost is None else self.days * self.daily_cost


@dataclass(frozen=True)
class Week:
    """One week of the forecast and its stacked bench days."""

    first: date
    last: date
    figures: Figures
    layers: dict[str, float]  # LAYERS → bench days

    @property
    def benchmark(self) -> str:
        """"below", "within" or "above" the 10–15 % benchmark."""
        rate = self.figures.rate
        return "below" if rate < BENCHMARK[0] else "within" if rate <= BENCHMARK[1] else "above"


@dataclass(frozen=True)
class Forecast:
    """The 13 weeks ahead: who comes back, and each week's bench days, rate and cost."""

    today: date
    available: list[Return]  # on the bench today or coming back inside the horizon, by first bench day
    weeks: list[Week]

    @property
    def returns(self) -> list[Return]:
        """Those coming back inside the horizon (not those already on the bench)."""
        return [r for r in self.available if r.first_day >= self.today]

    @property
    def days(self) -> float:
        """Projected bench days over the horizon (those on the bench today included)."""
        return sum(w.figures.days for w in self.weeks)

    @property
    def cost(self) -> float:
        """Projected bench cost over the horizon (days with a known daily cost)."""
        return sum(w.figures.cost for w in self.weeks)

    @property
    def unknown_cost_days(self) -> float:
        """Projected bench days with no daily cost known (neither the host's nor the tenant's default)."""
        return sum(w.figures.unknown_cost_days for w in self.weeks)


def forecast(snapshots: list[MissionSnapshot], money: Money, today: date, *, country: str = "FR", weeks: int = WEEKS) -> Forecast:
    """Who comes back between `today` and `weeks` weeks later, and each week's projected bench figures."""
    last = today + timedelta(days=7 * weeks - 1)
    found, spans = periods(snapshots, {}, money, today=last, country=country)
    live = [p for p in found if p.until is None or p.until >= today]
    calendar = WorkingDays(min([today] + [p.start for p in live]), last, country)
    by_id = {s.mission_id: s for s in snapshots}
    found_case = {id(p): classify(None, by_id[p.mission_id], today, country=country) for p in live}
    kinds = {id(p): _layer(p, by_id[p.mission_id], found_case[id(p)], today) for p in live}
    out = []
    for n in range(weeks):
        a, b = today + timedelta(days=7 * n), today + timedelta(days=7 * n + 6)
        figures = window(f"w{n}", a, b, found=live, spans=spans, calendar=calendar, money=money)
        layers = dict.fromkeys(LAYERS, 0.0)
        for p in live:
            layers[kinds[id(p)]] += p.days.get(f"w{n}", 0)
        out.append(Week(a, b, figures, layers))
    people = [_return(p, by_id[p.mission_id], found_case[id(p)], calendar.count(max(p.start, today), min(p.until or last, last)))
              for p in live]
    return Forecast(today, sorted(people, key=lambda r: (r.first_day, r.name, r.consultant_id)), out)


def _layer(period: BenchPeriod, snap: MissionSnapshot, found: Classification, today: date) -> str:
    if period.start < today:
        return "on_bench"
    return "to_confirm" if _unsure(snap, found) else "coming_back"


def _unsure(snap: MissionSnapshot, found: Classification) -> bool:
    """The end may still move: moved earlier with no known reason, an unmapped state, or a read that missed facts."""
    return found.unsure or bool(snap.state_note or snap.degraded)


def _return(period: BenchPeriod, snap: MissionSnapshot, found: Classification, days: int) -> Return:
    return Return(period.consultant_id, period.name, period.mission_title, snap.end_date or period.start,
                  period.start, period.until, found.end_case or "natural", _unsure(snap, found), days,
                  period.daily_cost, period.cost_source, period.mission_id)
