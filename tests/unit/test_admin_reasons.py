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
        # issue #25: a chain, a replacement, people never on the bench
        classify(None, _snap(end_date=D("2026-03-12"), project_id="p",
                             others=[OtherMission(id="n", title="Lot 2", start=D("2026-03-13"), project="p")]),
                 D("2026-03-02")),
        classify(_snap(end_date=D("2026-06-30")),
                 _snap(end_date=D("2026-05-29"), status="client", raw_state="2", notice_date=D("2026-05-04"),
                       project_id="p", crew=[OtherMission(id="b", start=D("2026-06-01"), end=D("2026-12-31"), project="p",
                                          consultant=Person(id="9", name="Nina Nouveau"))]), D("2026-05-04")),
        classify(None, _snap(end_date=D("2026-03-12"), consultant_external=True), D("2026-03-16")),
        classify(None, _snap(end_date=D("2026-03-12"), consultant_staffed=True), D("2026-03-16")),
    ]
    english = ("planned", "moved", "cleared", "left the firm", "staffed", "next mission", "bench", "to confirm",
               "continues", "replaced", "another consultant", "external", "record says", " from ")
    assert [c.case for c in cases[-4:]] == ["continued", "client", "natural", "natural"]
    assert "replaced by Nina Nouveau" in cases[-3].reason
    assert "the host marks an early end by the client" in cases[-3].reason and "'" not in cases[-3].reason  # no code
    for found in cases:
        french = reason_in("fr", found.reason)
        assert french and not any(word in french for word in english), (found.reason, french)
        assert reason_in("en", found.reason) == found.reason


def test_the_phrases_kept_from_before_read_in_words_too():
    assert reason_in("fr", "host state '2' mapped to client") == "l'outil indique une fin anticipée par le client"
    assert reason_in("fr", "replacement unknown: GET /projects/45/deliveries-groupments answered 403") == \
        "remplaçant inconnu : l'outil ne laisse pas lire les autres missions du projet"


def test_days_read_as_french_pages_write_them():
    assert reason_in("fr", "next mission started on 2026-03-30: bench closed") == \
        "mission suivante commencée le 30/03/2026 : intercontrat clos"
    assert reason_in("en", "next mission started on 2026-03-30: bench closed") == \
        "next mission started on 2026-03-30: bench closed"


def test_an_unknown_phrase_is_kept_as_it_is():
    assert reason_in("fr", "planned end; something new") == "fin prévue; something new"
