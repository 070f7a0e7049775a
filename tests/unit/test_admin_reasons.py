"""The classifier's reasons read in the admin's language: every phrase classify writes has a French rendering."""
from __future__ import annotations

from datetime import date

from handlers.domain.classify import classify
from handlers.domain.model import MissionSnapshot, OtherMission, Person
from webhooks.admin.reasons import reason_in

D = date.fromisoformat


def _snap(**fields) -> MissionSnapshot:
    return MissionSnapshot(tenant="t", host="boond", mission_id="m", consultant=Person(id="7"),
                           start_date=D("2025-11-03"), **fields)


def test_each_phrase_the_classifier_writes_reads_in_french():
    cases = [
        classify(None, _snap(end_date=D("2026-04-16")), D("2026-03-02")),
        classify(_snap(end_date=D("2026-04-16")), _snap(end_date=D("2026-05-07")), D("2026-03-02")),
        classify(_snap(end_date=D("2026-06-30")), _snap(end_date=D("2026-05-29")), D("2026-03-02")),
        classify(None, _snap(end_date=None), D("2026-03-02")),
        classify(None, _snap(end_date=D("2026-03-12"), consultant_left=True), D("2026-03-16")),
        classify(None, _snap(end_date=D("2026-03-12"), others=[OtherMission(id="n", title="Data lake",
                                                                              start=D("2026-01-05"))]),
                 D("2026-03-16")),
        classify(None, _snap(end_date=D("2026-03-12"), others=[OtherMission(id="n", start=D("2026-04-06"))]),
                 D("2026-03-16")),
    ]
    english = ("planned", "moved", "cleared", "left the firm", "staffed", "next mission", "bench", "to confirm")
    for found in cases:
        french = reason_in("fr", found.reason)
        assert french and not any(word in french for word in english), (found.reason, french)
        assert reason_in("en", found.reason) == found.reason


def test_an_unknown_phrase_is_kept_as_it_is():
    assert reason_in("fr", "planned end; something new") == "fin prévue; something new"
