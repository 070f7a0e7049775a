"""Field values as hosts send them (numbers as text, floats, booleans), read the same way for every host."""

from __future__ import annotations

from datetime import date


def percent(value) -> int | None:
    """A rate (100, 100.0, "50") as a whole percent within 0–100; None when missing or unreadable."""
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        return max(0, min(100, round(float(value))))
    except (TypeError, ValueError):
        return None


def positive_amount(value) -> float | None:
    """A positive amount (a daily cost), or None when there is none or it cannot be read."""
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return None
    return amount if amount > 0 else None


def day(value) -> date | None:
    """A date as hosts send it (`2026-12-04`, or a datetime whose first ten characters are one); None otherwise."""
    if not value or not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None
