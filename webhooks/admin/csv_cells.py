"""CSV cells an admin opens in a spreadsheet: text starting with = + - @ (or a tab, a carriage return) is prefixed
with ' so that the spreadsheet shows it instead of running it as a formula (CSV injection)."""
from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """The cell as text, defused when a spreadsheet would read it as a formula."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def safe_row(values) -> list[str]:
    """Every cell of a row, defused."""
    return [safe_cell(v) for v in values]
