"""Field values: JSON type checks on writes, storage form, and REST / SOAP rendering."""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone

from .schema import Field

DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})\Z")
RECORD_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?\Z")
JSON_TYPES = {"string": "string", "textarea": "string", "url": "string", "picklist": "string",
              "reference": "reference", "id": "id", "boolean": "boolean", "date": "date", "datetime": "datetime",
              "double": "double"}


class ValueTypeError(ValueError):
    """A value JSON cannot turn into the field's type (Salesforce: JSON_PARSER_ERROR)."""

    def __init__(self, field: str, kind: str, value):
        token = "VALUE_STRING" if isinstance(value, str) else _token(value)
        shown = value if isinstance(value, str) else json.dumps(value)
        super().__init__(f"Cannot deserialize instance of {kind} from {token} value {shown} "
                         "or request may be missing a required field")
        self.field, self.value = field, value


def _token(value) -> str:
    """Jackson's name for a JSON token."""
    if isinstance(value, bool):
        return "VALUE_TRUE" if value else "VALUE_FALSE"
    if isinstance(value, (int, float)):
        return "VALUE_NUMBER_INT" if isinstance(value, int) else "VALUE_NUMBER_FLOAT"
    return "START_ARRAY" if isinstance(value, list) else "START_OBJECT"


def parse_date(value: str) -> str | None:
    """The YYYY-MM-DD string if value is a real calendar date, else None."""
    if not isinstance(value, str) or not DATE.match(value):
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return None


def parse_datetime(value: str) -> datetime | None:
    """An aware datetime from an ISO value with a zone (Z, +HH:MM, +HHMM), else None."""
    if not isinstance(value, str) or not DATETIME.match(value):
        return None
    text = value.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}\Z", text):
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc)
    except ValueError:
        return None


def stamp(moment: datetime) -> str:
    """Storage form of a datetime: UTC with milliseconds and Z."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def coerce(field: Field, value):
    """Storage form of a JSON value for a field; ValueTypeError when JSON cannot deserialize it."""
    if value is None:
        return None
    kind = JSON_TYPES[field.type]
    if kind == "boolean":
        if isinstance(value, bool):
            return value
    elif kind == "date":
        if parse_date(value):
            return parse_date(value)
    elif kind == "datetime":
        if parse_datetime(value):
            return stamp(parse_datetime(value))
    elif kind == "double":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif isinstance(value, str):
        return value
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and kind == "string":
        return str(value)
    raise ValueTypeError(field.name, kind if kind != "reference" else "id", value)


def rest_value(field: Field, value):
    """REST JSON form: datetimes as 2026-07-01T09:15:00.000+0000."""
    if field.type == "datetime" and isinstance(value, str) and value.endswith("Z"):
        return value[:-1] + "+0000"
    return value


def soap_value(value) -> str:
    """Outbound Message text form: booleans true/false, everything else as stored (datetimes end in Z)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def is_record_id(value) -> bool:
    """True for a well-formed 15- or 18-char id."""
    return isinstance(value, str) and bool(RECORD_ID.match(value))


def json_column(raw: str, value) -> int:
    """1-based column of a value in the raw body, for parser error messages (1 when not found)."""
    return max(raw.find(json.dumps(value, ensure_ascii=False)), raw.find(json.dumps(value)), 0) + 1
