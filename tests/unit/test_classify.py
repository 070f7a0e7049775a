"""Classification of a mission change into the case whose playbook applies."""
from __future__ import annotations

from datetime import date

import pytest

from handlers.domain.classify import classify
from handlers.domain.model import MissionSnapshot, Person

D = date.fromisoformat
TODAY = D("2026-05-04")


def mission(end: str | None = "2026-06-30", **changes) -> MissionSnapshot:
    """A mission of consultant 7 ending on `end`."""
    fields = {"tenant": "acme", "host": "boond", "mission_id": "100", "consultant": Person(id="7"),
              "end_date": D(end) if end else None}
    return MissionSnapshot(**{**fields, **changes})


def test_a_first_seen_mission_ends_naturally():
    found = classify(None, mission(), TODAY)
    assert (found.case, found.end_case, found.unsure, found.bench) == ("natural", "natural", False, False)


def test_an_unchanged_end_date_stays_natural():
    assert classify(mission(), mission(), TODAY).case == "natural"


def test_end_moved_later_is_an_extension_of_a_natural_end():
    found = classify(mission("2026-06-30"), mission("2026-09-30"), TODAY)
    assert (found.case, found.end_case, found.unsure) == ("extension", "natural", False)
    assert "2026-06-30" in found.reason and "2026-09-30" in found.reason


@pytest.mark.parametrize("status", ["client", "consultant"])
def test_mapped_host_state_decides_who_ended_the_mission(status):
    found = classify(mission("2026-06-30"), mission("2026-05-29", status=status, raw_state="2"), TODAY)
    assert (found.case, found.end_case, found.unsure) == (status, status, False)
    assert found.reason == f"the host marks an early end by the {status}"  # in words: no state code, no repr


def test_end_moved_earlier_without_a_mapped_reason_falls_back_to_natural_and_says_so():
    found = classify(mission("2026-06-30"), mission("2026-05-29"), TODAY)
    assert (found.case, found.end_case, found.unsure) == ("natural", "natural", True)
    assert "end moved earlier" in found.reason and "treated as natural" in found.reason


@pytest.mark.parametrize("status", ["cancelled", "deleted"])
def test_cancelled_or_deleted_mission_is_a_cancellation_with_no_steps(status):
    found = classify(mission(), mission(status=status), TODAY)
    assert (found.case, found.end_case, found.bench) == ("cancellation", None, False)
    assert status in found.reason


def test_cleared_end_date_cancels_and_never_benches():
    found = classify(mission("2026-04-30"), mission(None), TODAY)
    assert (found.case, found.end_case, found.bench) == ("cancellation", None, False)
    assert found.reason == "end date cleared"


def test_next_mission_right_after_the_end_means_restaffed_not_bench():
    found = classify(None, mission("2026-04-30", next_start=D("2026-05-04")), TODAY)
    assert (found.case, found.end_case, found.bench) == ("restaffed", "natural", False)
    assert "right after the end" in found.reason


def test_next_mission_starting_later_leaves_a_bench_gap_named_in_the_reason():
    found = classify(None, mission("2026-06-30", next_start=D("2026-09-01")), TODAY)
    assert (found.case, found.bench, found.bench_until) == ("natural", False, D("2026-09-01"))  # not ended yet
    assert "starts on 2026-09-01" in found.reason
    during = classify(None, mission("2026-06-30", next_start=D("2026-09-01")), D("2026-07-01"))
    assert (during.case, during.bench) == ("natural", True)


def test_end_passed_with_no_next_mission_puts_the_consultant_on_the_bench():
    found = classify(None, mission("2026-04-30"), TODAY)
    assert (found.case, found.end_case, found.bench) == ("natural", "natural", True)


def test_the_last_day_of_the_mission_is_not_yet_bench():
    assert classify(None, mission("2026-05-04"), TODAY).bench is False


def test_bench_keeps_the_early_end_case_for_its_steps():
    found = classify(None, mission("2026-04-30", status="client"), TODAY)
    assert (found.case, found.end_case, found.bench) == ("client", "client", True)
