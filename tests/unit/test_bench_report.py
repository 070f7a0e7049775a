"""The bench dashboard's figures, recomputed day by day from the host-like facts of a generated 300-consultant
tenant (written to a real Redis through the real stores), and a few hand-made cases."""
from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest

from handlers.reports.bench_data import bench_report
from handlers.reports.bench_report import Money, report
from handlers.domain.model import MissionSnapshot, Person
from tests.bench_tenant import generate, write

TODAY = date(2026, 5, 20)
FR = holidays.country_holidays("FR", years=range(2024, 2028))
GROUPS = {"bench.training": "training", "bench.internal_project": "internal_project",
          "bench.self_review": "mission_search", "bench.cv_update": "mission_search", "bench.linkedin": "mission_search",
          "bench.ambassadors": "mission_search", "bench.platforms": "mission_search",
          "bench.skills_volunteering": "mecenat", "bench.volunteering_followup": "mecenat"}


def _working(day: date) -> bool:
    return day.weekday() < 5 and day not in FR


def _days(a: date, b: date):
    while a <= b:
        yield a
        a += timedelta(days=1)


def _expected(people, first: date, last: date, default_cost: float) -> dict:
    """Bench days, cost, headcount and mécénat saving in [first, last], one day at a time from the host facts."""
    days = cost = saving = 0.0
    headcount = 0
    for person in people:
        if person.left:
            continue
        live = [m for m in person.missions if not m.cancelled]
        active = any(m.start <= last and (m.end is None or m.end >= first) for m in live)
        benched = False
        for m in live:
            if m.end is None:
                continue
            begin = next(d for d in _days(m.end + timedelta(days=1), m.end + timedelta(days=10)) if _working(d))
            if begin > TODAY or any(x.start <= begin and (x.end is None or x.end >= begin) for x in live):
                continue
            later = [x.start for x in live if x.start > m.end]
            stop = min(later) - timedelta(days=1) if later else TODAY
            mine = [d for d in _days(max(begin, first), min(stop, last, TODAY)) if _working(d)]
            benched |= begin <= last and stop >= first
            rate = m.daily_cost or default_cost
            days += len(mine)
            cost += len(mine) * rate
            groups = {GROUPS[s] for s in m.done_steps if s in GROUPS}
            if "mecenat" in groups:
                saving += 0.6 * (rate / 1.5) * len(mine) / len(groups)
        headcount += active or benched
    working = sum(1 for d in _days(first, last) if _working(d))
    return {"days": days, "cost": cost, "headcount": headcount, "saving": saving,
            "rate": days / (headcount * working)}


@pytest.fixture(scope="module")
def people():
    return generate(300, TODAY)


def test_300_consultants_month_and_quarter_figures_match_a_day_by_day_recount(redis_conn, people):
    tenant = write(redis_conn, "bench-300", people, default_cost=500.0)
    found = bench_report(redis_conn, tenant, TODAY)
    for figures, first in ((found.month, date(2026, 5, 1)), (found.quarter, date(2026, 4, 1))):
        want = _expected(people, first, TODAY, 500.0)
        assert figures.days == want["days"] and figures.headcount == want["headcount"]
        assert figures.cost == pytest.approx(want["cost"])
        assert figures.rate == pytest.approx(want["rate"])
        assert figures.mecenat_saving == pytest.approx(want["saving"])
    assert found.month.days > 100 and found.month.mecenat_saving > 0  # the data does exercise each figure


def test_300_consultants_each_month_of_the_chart_matches_a_recount(redis_conn, people):
    tenant = write(redis_conn, "bench-300", people, default_cost=500.0)
    found = bench_report(redis_conn, tenant, TODAY)
    assert len(found.monthly) == 12 and found.monthly[-1].first == date(2026, 5, 1)
    for figures in found.monthly[:-1]:
        want = _expected(people, figures.first, figures.last, 500.0)
        assert (figures.days, figures.headcount) == (want["days"], want["headcount"])
        assert figures.cost == pytest.approx(want["cost"])


def test_on_the_bench_today_are_the_consultants_without_a_mission_today(redis_conn, people):
    tenant = write(redis_conn, "bench-300", people)
    found = bench_report(redis_conn, tenant, TODAY)
    expected = set()
    for person in people:
        live = [m for m in person.missions if not m.cancelled]
        if person.left or any(m.start <= TODAY and (m.end is None or m.end >= TODAY) for m in live):
            continue
        last_end = max((m.end for m in live if m.end and m.end < TODAY), default=None)
        if last_end and next(d for d in _days(last_end + timedelta(days=1), TODAY + timedelta(days=9))
                             if _working(d)) <= TODAY:
            expected.add(person.id)
    assert {p.consultant_id for p in found.on_bench} == expected and expected


def _snap(mission: str, start: date, end: date | None, **extra) -> MissionSnapshot:
    return MissionSnapshot(tenant="t", host="boond", mission_id=mission, start_date=start, end_date=end,
                           consultant=Person(id="r1", name="Jean Dupont"), **extra)


def test_a_bench_closes_when_the_next_mission_starts_and_costs_the_host_daily_cost():
    snaps = [_snap("a", date(2026, 1, 5), date(2026, 4, 30), daily_cost=400.0),
             _snap("b", date(2026, 5, 11), date(2026, 12, 18))]
    found = report(snaps, {"a": {"bench.training", "bench.skills_volunteering"}}, Money(), today=date(2026, 5, 20))
    period = found.periods[0]
    # 30/04 is a Thursday; 1 May and 8 May are holidays: bench days are 4, 5, 6, 7 May (14 May: Ascension)
    assert (period.start, period.until, found.month.days) == (date(2026, 5, 4), date(2026, 5, 10), 4)
    assert found.month.cost == 1600.0 and period.cost_source == "host"
    assert found.month.shares == {"training": 2.0, "mecenat": 2.0}
    assert found.month.mecenat_saving == pytest.approx(0.6 * 400 / 1.5 * 2)
    assert found.on_bench == []


def test_no_bench_for_a_consultant_who_left_or_is_restaffed_the_next_working_day():
    left = [_snap("a", date(2026, 1, 5), date(2026, 4, 30), consultant_left=True)]
    restaffed = [_snap("a", date(2026, 1, 5), date(2026, 4, 30)), _snap("b", date(2026, 5, 4), None)]
    for snaps in (left, restaffed):
        assert report(snaps, {}, Money(default_daily_cost=500), today=date(2026, 5, 20)).periods == []


def test_unknown_cost_is_said_and_the_margin_falls_back_to_one_in_five():
    found = report([_snap("a", date(2026, 1, 5), date(2026, 4, 30))], {}, Money(), today=date(2026, 5, 20))
    assert found.month.unknown_cost_days == 11 and found.month.cost == 0 and found.margin_equivalent() is None
    paid = report([_snap("a", date(2026, 1, 5), date(2026, 4, 30))], {}, Money(default_daily_cost=500),
                  today=date(2026, 5, 20))
    assert paid.margin_per_day() == (100.0, "one_in_five")
    assert paid.margin_equivalent() == pytest.approx(5.0)  # 11 bench days of 11 working days: 5 on mission
    assert paid.rate_now == 1.0 and paid.benchmark(paid.rate_now) == "above"
