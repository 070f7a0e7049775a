"""Effective use of the bench (issue #29, point 4): bench days covered by a host inactivity the tenant maps to an
activity count as that activity; the other days keep the bench steps done; unmapped types count as nothing."""
from __future__ import annotations

from datetime import date

from handlers.domain.model import Inactivity, MissionSnapshot, Person
from handlers.hosts.boond.adapter import inactivity_items
from handlers.hosts.boond.dictionary import Dictionary, labels_and_proposals
from handlers.reports.bench_report import Money, report

TODAY = date(2026, 11, 30)  # quarter: 1 Oct – 30 Nov; bench from Mon 2 Nov: 20 working days (11 Nov a holiday)
MAP = {"3": "training", "4": "internal_project", "internal": ""}


def snap(mission_id: str, consultant: str, *inactivities: Inactivity) -> MissionSnapshot:
    return MissionSnapshot(tenant="t", host="boond", mission_id=mission_id, title=f"Mission {mission_id}",
                           start_date=date(2026, 1, 5), end_date=date(2026, 10, 30),
                           consultant=Person(id=consultant, name=consultant.title()), inactivities=list(inactivities))


def test_bench_days_covered_by_a_mapped_inactivity_count_as_its_activity_and_the_rest_keep_the_steps_done():
    training = Inactivity(type="3", start=date(2026, 11, 9), end=date(2026, 11, 13))  # 4 working days (11 Nov off)
    internal = Inactivity(type="4", start=date(2026, 11, 12), end=date(2026, 11, 20))  # 12–13 already training: 5
    bench = Inactivity(type="internal", start=date(2026, 11, 23), end=date(2026, 11, 24))  # mapped to nothing
    found = report([snap("m1", "dan", training, internal, bench), snap("m2", "eve")],
                   {"m1": {"bench.cv_update"}}, Money(), today=TODAY, country="FR", inactivity_map=MAP)
    q = found.quarter
    assert q.days == 40
    assert q.host_days == {"training": 4, "internal_project": 5}
    # Dan: 9 days from Boond, his other 11 to the mission search he ticked done; Eve: nothing recorded
    assert q.shares == {"training": 4, "internal_project": 5, "mission_search": 11, "unrecorded": 20}
    assert q.effective_use == 0.5


def test_without_a_mapping_inactivities_count_as_nothing_and_a_period_fully_covered_has_no_unrecorded_days():
    whole = Inactivity(type="3", start=date(2026, 10, 1), end=None)  # open-ended training since before the bench
    assert report([snap("m1", "dan", whole)], {}, Money(), today=TODAY).quarter.effective_use == 0
    q = report([snap("m1", "dan", whole)], {}, Money(), today=TODAY, country="FR", inactivity_map=MAP).quarter
    assert q.shares == {"training": 20} and q.effective_use == 1.0


def test_the_timeline_keeps_the_inactivities_after_the_mission_end_with_their_type():
    timeline = [
        {"id": "100", "type": "delivery", "attributes": {"startDate": "2026-01-05", "endDate": "2026-10-30"}},
        {"id": "900", "type": "inactivity", "attributes": {"startDate": "2026-11-09", "endDate": "2026-11-13",
                                                           "inactivityType": "internal", "typeOf": 3}},
        {"id": "901", "type": "inactivity", "attributes": {"startDate": "2026-12-01", "endDate": "2026-12-02",
                                                           "inactivityType": "absence"}},
        {"id": "902", "type": "inactivity", "attributes": {"startDate": "2026-03-02", "endDate": "2026-03-06",
                                                           "inactivityType": "internal"}},  # before the end
    ]
    assert inactivity_items(timeline, date(2026, 10, 30)) == [
        Inactivity(type="3", start=date(2026, 11, 9), end=date(2026, 11, 13))]  # an absence is no bench activity


def test_inactivity_types_get_a_proposed_activity_from_their_labels():
    document = {"data": {"setting": {"state": {}, "typeOf": {"inactivity": [
        {"id": 1, "value": "Intercontrat"}, {"id": 3, "value": "Formation"}, {"id": 4, "value": "Projet interne"},
        {"id": 5, "value": "Mécénat de compétences"}, {"id": 6, "value": "Congés payés"}]}}}}
    labels, proposals = labels_and_proposals(Dictionary("acme", document))
    assert labels["inactivity"]["3"] == "Formation"
    assert proposals["inactivity"] == {"3": "training", "4": "internal_project", "5": "mecenat"}
