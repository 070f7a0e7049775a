"""The 13-week bench forecast, recomputed day by day from the host-like facts of a generated 300-consultant tenant
(written to a real Redis through the real stores), and a few hand-made cases."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from handlers.reports.bench_data import forecast_report
from handlers.reports.bench_report import Money
from handlers.reports.forecast import forecast
from handlers.domain.model import MissionSnapshot, Person
from tests.bench_tenant import generate, write
from tests.unit.test_bench_report import _days, _working  # the same calendar, one day at a time

TODAY = date(2026, 5, 20)
LAST = TODAY + timedelta(days=7 * 13 - 1)


def _first_bench_day(end: date) -> date:
    return next(d for d in _days(end + timedelta(days=1), end + timedelta(days=10)) if _working(d))


def _bench_spells(person):
    """(mission, first bench day, last bench day or None) of one consultant, from the host facts alone."""
    live = [m for m in person.missions if not m.cancelled]
    for m in live:
        if m.end is None:
            continue
        begin = _first_bench_day(m.end)
        if any(x.start <= begin and (x.end is None or x.end >= begin) for x in live):
            continue
        later = [x.start for x in live if x.start > m.end]
        stop = min(later) - timedelta(days=1) if later else None
        if stop is None or stop >= begin:
            yield m, begin, stop


def _expected_week(people, first: date, last: date, default_cost: float) -> dict:
    """One week's bench days, cost, headcount and rate, one day at a time."""
    days = cost = 0.0
    headcount = 0
    for person in people:
        if person.left:
            continue
        live = [m for m in person.missions if not m.cancelled]
        active = any(m.start <= last and (m.end is None or m.end >= first) for m in live)
        benched = False
        for m, begin, stop in _bench_spells(person):
            if stop is not None and stop < TODAY:
                continue
            benched |= begin <= last and (stop is None or stop >= first)
            mine = sum(1 for d in _days(max(begin, first), min(stop or last, last)) if _working(d))
            days += mine
            cost += mine * (m.daily_cost or default_cost)
        headcount += active or benched
    working = sum(1 for d in _days(first, last) if _working(d))
    return {"days": days, "cost": cost, "headcount": headcount, "rate": days / (headcount * working)}


@pytest.fixture(scope="module")
def people():
    return generate(300, TODAY, seed=29, until=LAST + timedelta(days=40))


def test_300_consultants_13_weeks_match_a_day_by_day_recount_of_the_host_facts(redis_conn, people):
    tenant = write(redis_conn, "forecast-300", people, default_cost=500.0)
    found = forecast_report(redis_conn, tenant, TODAY)
    assert len(found.weeks) == 13 and found.weeks[-1].last == LAST
    for week in found.weeks:
        want = _expected_week(people, week.first, week.last, 500.0)
        assert week.figures.days == want["days"] and week.figures.headcount == want["headcount"]
        assert week.figures.cost == pytest.approx(want["cost"])
        assert week.figures.rate == pytest.approx(want["rate"])
        assert sum(week.layers.values()) == week.figures.days
    assert found.days > 500 and found.cost > 0 and found.unknown_cost_days == 0  # the data exercises each figure


def test_300_consultants_who_comes_back_with_end_case_and_to_confirm(redis_conn, people):
    tenant = write(redis_conn, "forecast-300b", people, default_cost=500.0)
    found = forecast_report(redis_conn, tenant, TODAY)
    want = {(p.id, begin): (m, stop) for p in people if not p.left for m, begin, stop in _bench_spells(p)
            if TODAY <= begin <= LAST}
    got = {(r.consultant_id, r.first_day): r for r in found.returns}
    assert got.keys() == want.keys() and len(got) > 50
    for key, (m, stop) in want.items():
        back = got[key]
        assert (back.end, back.until, back.case) == (m.end, stop, "natural" if m.status == "active" else m.status)
        assert back.to_confirm == (m.moved_from is not None)
        assert back.days == sum(1 for d in _days(key[1], min(stop or LAST, LAST)) if _working(d))
    assert any(r.to_confirm for r in got.values()) and any(r.until for r in got.values())
    assert any(r.case == "client" for r in got.values())


def _snap(mission_id: str, consultant: str, start: date, end: date | None, **extra) -> MissionSnapshot:
    return MissionSnapshot(tenant="t", host="boond", mission_id=mission_id, title=f"Mission {mission_id}",
                           start_date=start, end_date=end, consultant=Person(id=consultant, name=consultant.title()),
                           **extra)


def test_a_consultant_ending_in_three_weeks_comes_back_until_the_next_mission_and_costs_their_daily_cost():
    today = date(2026, 11, 2)  # a Monday
    snaps = [_snap("m1", "alice", date(2026, 1, 5), date(2026, 11, 20), daily_cost=450.0,
                   next_start=date(2026, 12, 7)),
             _snap("m2", "alice", date(2026, 12, 7), date(2027, 6, 30)),
             _snap("m3", "bob", date(2026, 2, 2), date(2026, 11, 13), previous_end=date(2026, 12, 31),
                   end_seen=date(2026, 10, 30)),
             _snap("m4", "carol", date(2026, 3, 2), date(2026, 11, 27), consultant_left=True)]
    found = forecast(snaps, Money(default_daily_cost=400.0), today)
    bob, alice = found.returns  # by first bench day
    assert (alice.name, alice.first_day, alice.until, alice.days, alice.cost) == (
        "Alice", date(2026, 11, 23), date(2026, 12, 6), 10, 4500.0)
    assert (bob.first_day, bob.until, bob.to_confirm, bob.cost_source) == (date(2026, 11, 16), None, True, "default")
    assert found.weeks[2].layers == {"on_bench": 0, "coming_back": 0, "to_confirm": 5}  # 16–22 Nov: Bob only
    assert found.weeks[3].layers == {"on_bench": 0, "coming_back": 5, "to_confirm": 5}
    assert found.weeks[3].figures.headcount == 2 and found.weeks[3].figures.rate == 1.0  # Carol left: not counted
    assert found.weeks[3].benchmark == "above"


def test_someone_on_the_bench_today_counts_in_the_bottom_layer_and_is_not_listed_as_coming_back():
    today = date(2026, 11, 2)
    found = forecast([_snap("m1", "dan", date(2026, 1, 5), date(2026, 10, 23))], Money(), today=today)
    assert found.returns == [] and found.weeks[0].layers["on_bench"] == 5
    assert found.weeks[0].figures.unknown_cost_days == 5 and found.cost == 0


def test_effective_use_is_the_share_of_bench_days_spent_on_an_activity_ticked_done():
    from handlers.reports.bench_report import report

    today = date(2026, 11, 30)
    snaps = [_snap("m1", "dan", date(2026, 1, 5), date(2026, 10, 30)), _snap("m2", "eve", date(2026, 1, 5),
                                                                            date(2026, 10, 30))]
    found = report(snaps, {"m1": {"bench.training"}}, Money(), today=today)
    assert found.quarter.days == 2 * 20  # 2 Nov – 30 Nov (11 Nov a holiday): 20 working days each
    assert found.quarter.effective_use == 0.5  # Dan's days went to training, Eve's to nothing ticked
