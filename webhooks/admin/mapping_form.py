"""What every host's mapping form shares: `value=case` pairs, written and read, and validation messages."""

from __future__ import annotations

from pydantic import ValidationError

__all__ = ["PairError", "message", "pairs", "written"]


class PairError(ValueError):
    """A part of a `value=case` list without its `=`."""

    def __init__(self, part: str):
        super().__init__(f"'{part}': write value=case")
        self.part = part


def pairs(text: str) -> dict[str, str]:
    """'2=client, 3=consultant' → {'2': 'client', '3': 'consultant'}."""
    out = {}
    for part in (p.strip() for p in text.replace("\n", ",").split(",")):
        if part:
            key, sep, value = part.partition("=")
            if not sep:
                raise PairError(part)
            out[key.strip()] = value.strip()
    return out


def written(values: dict) -> str:
    """{'2': 'client'} → '2=client' (what the form shows)."""
    return ", ".join(f"{k}={v}" for k, v in values.items())


def message(exc: Exception, lang: str | None = None) -> str:
    """A validation error in one line, in the page's language (webhooks/admin/validation.py)."""
    from webhooks.admin.i18n import say
    from webhooks.admin.validation import one_line

    if lang is None:
        from flask import g

        from webhooks.admin.render import lang_for

        lang = lang_for(g.admin.tenant if g.get("admin") else None)
    if isinstance(exc, PairError):
        return say("err_pair", lang, part=exc.part[:60])
    return one_line(exc, lang) if isinstance(exc, ValidationError) else str(exc)
