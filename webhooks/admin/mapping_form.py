"""What every host's mapping form shares: `value=case` pairs, written and read, and validation messages."""

from __future__ import annotations

from pydantic import ValidationError


def pairs(text: str) -> dict[str, str]:
    """'2=client, 3=consultant' → {'2': 'client', '3': 'consultant'}."""
    out = {}
    for part in (p.strip() for p in text.replace("\n", ",").split(",")):
        if part:
            key, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"'{part}': write value=case")
            out[key.strip()] = value.strip()
    return out


def written(values: dict) -> str:
    """{'2': 'client'} → '2=client' (what the form shows)."""
    return ", ".join(f"{k}={v}" for k, v in values.items())


def message(exc: Exception) -> str:
    """A validation error in one line."""
    if isinstance(exc, ValidationError):
        return "; ".join(e["msg"] for e in exc.errors())
    return str(exc)
