"""SOQL literals built safely: every value that goes into a query passes through here.

Escapes: https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_quotedstringescapes.htm
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime, timezone
from decimal import Decimal

_ESCAPES = str.maketrans({"\\": "\\\\", "'": "\\'", '"': '\\"', "\n": "\\n", "\r": "\\r",
                          "\t": "\\t", "\b": "\\b", "\f": "\\f"})
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def escape_soql(value: str) -> str:
    """The body of a SOQL string literal: backslash, quotes and control characters escaped."""
    if not isinstance(value, str):
        raise TypeError(f"escape_soql wants a str, got {type(value).__name__}")
    return value.translate(_ESCAPES)


def escape_like(value: str) -> str:
    """Like `escape_soql`, plus the LIKE wildcards `%` and `_` taken literally."""
    return escape_soql(value).replace("%", "\\%").replace("_", "\\_")


def soql_literal(value) -> str:
    """A Python value as a SOQL literal: 'text', 42, true, null, 2026-08-31, 2026-08-31T07:00:00Z, ('a','b')."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("SOQL has no NaN or infinity")
        return repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a SOQL dateTime needs a time zone (give an aware datetime)")
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return f"'{escape_soql(value)}'"
    if isinstance(value, (list, tuple, set, frozenset)):
        if not value:
            raise ValueError("SOQL IN () cannot be empty")
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return "(" + ", ".join(soql_literal(item) for item in items) + ")"
    raise TypeError(f"no SOQL literal for {type(value).__name__}")


def format_soql(template: str, *args, **kwargs) -> str:
    """`str.format` where every argument becomes a SOQL literal: format_soql("… WHERE Id = {}", rid)."""
    return template.format(*(soql_literal(a) for a in args), **{k: soql_literal(v) for k, v in kwargs.items()})


def api_name(name: str, *, dotted: bool = False) -> str:
    """Check an object or field API name (`Mission__c`; `pse__Project__r.OwnerId` when dotted) and return it."""
    parts = (name.split(".") if dotted else [name]) if isinstance(name, str) else [None]
    if not all(isinstance(part, str) and _NAME.match(part) for part in parts):
        raise ValueError(f"not a Salesforce API name: {name!r}")
    return name
