"""Salesforce record ids: the 18-character checksum, org ids (`00D`), key prefixes of standard objects.

Id format: 15 case-sensitive characters, the first 3 being the object's key prefix; the 18-character form adds
3 characters, each encoding which of 5 characters of the 15 are upper case (A-Z then 0-5).
https://help.salesforce.com/s/articleView?id=000385585&type=1 (reference/salesforce-api.md, Addendum [C])
"""
from __future__ import annotations

import re

ORG_PREFIX = "00D"
CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_SHAPE = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?\Z")
# documentation placeholders and redactions people paste: 00Dxx0000001gPL, 00DXXXXXXXXXXXX, 00D000000000000
_PLACEHOLDER = re.compile(r"00D(?:xx|XX)|00D(.)\1{11}", re.ASCII)
# fixed key prefixes of the standard objects an admin may wire a trigger on by mistake (custom objects' vary per org)
STANDARD_PREFIXES = {"Account": "001", "Contact": "003", "Opportunity": "006", "Lead": "00Q", "Case": "500",
                     "User": "005", "Task": "00T", "Event": "00U", "Contract": "800", "Order": "801",
                     "Campaign": "701", "Product2": "01t", "Organization": "00D"}


class BadId(ValueError):
    """A value that is not the Salesforce id it should be (the message says why, for an admin)."""


def checksum(id15: str) -> str:
    """The 3-character suffix of a 15-character id."""
    suffix = ""
    for start in (0, 5, 10):
        bits = sum(1 << i for i, ch in enumerate(id15[start:start + 5]) if "A" <= ch <= "Z")
        suffix += CHECKSUM_ALPHABET[bits]
    return suffix


def id_18(value: str) -> str:
    """The 18-character form of a 15- or 18-character id; BadId when malformed or the checksum is wrong."""
    if not isinstance(value, str) or not _SHAPE.match(value) or not value.isascii():
        raise BadId(f"a Salesforce id is 15 or 18 letters and digits, not {value!r}")
    expected = checksum(value[:15])
    if len(value) == 18 and value[15:] != expected:
        raise BadId(f"{value!r} is not a valid 18-character id: its last 3 characters should be {expected} "
                    "(copied with a typo, or with its letter case changed?)")
    return value[:15] + expected


def org_id(value: str) -> str:
    """An org id in its 18-character form: `00D`, a valid checksum, not a placeholder; else BadId."""
    text = (value or "").strip() if isinstance(value, str) else value
    normal = id_18(text)
    if not normal.startswith(ORG_PREFIX):
        raise BadId(f"{text!r} is not an org id: org ids start with 00D (Setup > Company Information > "
                    f"Salesforce.com Organization ID); this one starts with {text[:3]!r}")
    if _PLACEHOLDER.match(normal):
        raise BadId(f"{text!r} looks like a placeholder or a redacted id, not your org's id")
    return normal


def key_prefix(record_id: str) -> str:
    """The key prefix (first 3 characters) of a record id."""
    return record_id[:3]
