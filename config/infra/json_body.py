"""A request's JSON object read from bytes, as strictly as every intake reads one: UTF-8, any JSON error or a
nesting past the parser's depth is unreadable, and anything but an object is refused; each with the caller's words."""

from __future__ import annotations

import json


def json_object(raw: bytes, *, error: type[Exception], unreadable: str, not_object: str) -> dict:
    """The JSON object `raw` holds; else `error(unreadable)` (not UTF-8 JSON, or nested too deeply) or
    `error(not_object)` (JSON, but not an object)."""
    try:
        found = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise error(unreadable) from None
    if not isinstance(found, dict):
        raise error(not_object)
    return found
