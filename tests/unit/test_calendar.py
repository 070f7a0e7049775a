"""Business-day arithmetic: weekends and French public holidays are skipped, calendar days are not."""
from __future__ import annotations

from datetime import date

import pytest

from handlers.domain.calendar import add_business_days, is_business_day, next_business_day_after, shift

D = date.fromisoformat


@pytest.mark.parametrize("start,expected", [
    ("2026-04-03", "2026-04-07"),  # Fri → weekend + Easter Monday → Tue
    ("2026-04-30", "2026-05-04"),  # Thu → 1 May (Fri) + weekend → Mon
    ("2026-05-07", "2026-05-11"),  # Thu → 8 May (Fri) + weekend → Mon
    ("2026-05-13", "2026-05-15"),  # Wed → Ascension (Thu) → Fri
    ("2026-07-13", "2026-07-15"),  # Mon → 14 July (Tue) → Wed
    ("2025-08-14", "2025-08-18"),  # Thu → 15 August (Fri) + weekend → Mon
    ("2026-12-24", "2026-12-28"),  # Thu → Christmas (Fri) + weekend → Mon
    ("2026-12-31", "2027-01-04"),  # Thu → New Year's Day of the next year (Fri) + weekend → Mon
    ("2026-06-01", "2026-06-02"),  # an ordinary Monday → Tuesday
])
def test_one_business_day_later_skips_weekends_and_french_holidays(start, expected):
    assert add_business_days(D(start), 1) == D(expected)


def test_counting_forward_skips_every_holiday_on_the_way():
    # Tue 5 May + 5 business days: 6, 7, (8 May), 11, 12, 13 → Wed 13 May
    assert add_business_days(D("2026-05-05"), 5) == D("2026-05-13")


@pytest.mark.parametrize("start,n,expected", [
    ("2026-04-07", -1, "2026-04-03"),  # Tue after Easter Monday → the Friday before
    ("2026-05-18", -5, "2026-05-07"),  # back over Ascension (14) and 8 May
    ("2026-04-04", -1, "2026-04-03"),  # from a Saturday → Friday
    ("2026-05-29", -30, "2026-04-13"),  # back over 25 May, 14 May, 8 May, 1 May
])
def test_negative_offsets_go_back_in_business_days(start, n, expected):
    assert add_business_days(D(start), n) == D(expected)


@pytest.mark.parametrize("start,expected", [
    ("2026-04-04", "2026-04-07"),  # Saturday before Easter Monday → Tuesday
    ("2026-05-01", "2026-05-04"),  # 1 May itself → Monday
    ("2026-12-25", "2026-12-28"),  # Christmas → Monday
    ("2026-06-03", "2026-06-03"),  # a business day stays put
])
def test_zero_offset_rolls_forward_to_a_business_day(start, expected):
    assert add_business_days(D(start), 0) == D(expected)


def test_holidays_and_weekends_are_not_business_days():
    for day in ("2026-04-06", "2026-05-01", "2026-05-08", "2026-05-14", "2026-07-14", "2025-08-15",
                "2026-12-25", "2026-06-06", "2026-06-07"):
        assert not is_business_day(D(day)), day
    assert is_business_day(D("2026-06-05"))


def test_french_holidays_are_working_days_in_another_country():
    assert is_business_day(D("2026-07-14"), "DE")
    assert add_business_days(D("2026-07-13"), 1, "DE") == D("2026-07-14")


def test_next_business_day_after_is_strictly_later():
    assert next_business_day_after(D("2026-06-01")) == D("2026-06-02")
    assert next_business_day_after(D("2026-05-29")) == D("2026-06-01")
    assert next_business_day_after(D("2026-05-13")) == D("2026-05-15")


def test_calendar_unit_counts_every_day_and_may_land_on_a_holiday():
    assert shift(D("2026-04-30"), 1, "calendar") == D("2026-05-01")
    assert shift(D("2026-05-01"), 3, "calendar") == D("2026-05-04")
    assert shift(D("2026-05-01"), -2, "calendar") == D("2026-04-29")
    assert shift(D("2026-04-30"), 1, "business") == D("2026-05-04")
