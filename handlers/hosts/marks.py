"""How we recognise our own records in a host: the marker in an action's text, and the fingerprint of what a
person sees of it.

The marker lets a lost ledger write be recovered by reading the host back; the fingerprint, kept in the ledger as
we last wrote the action, tells whether a person changed it since (handlers.sync.people_work judges).
"""
from __future__ import annotations

import hashlib
import html
import re

MARKER = re.compile(r"intermission:([A-Za-z0-9_.-]+)/([A-Za-z0-9_.#-]+)")
_TAGS = re.compile(r"<[^>]+>")


def marker(mission_id: str, key: str) -> str:
    """The tag embedded in an action's text so a lost ledger write can be recovered by reading back."""
    return f"intermission:{mission_id}/{key}"


def ours(records, mission_id: str) -> dict[str, list[str]]:
    """Our records among (host id, text) pairs read back from a host, by step key (their marker names `mission_id`)."""
    found: dict[str, list[str]] = {}
    for host_id, text in records:
        for m_id, key in MARKER.findall(text or ""):
            if m_id == mission_id:
                found.setdefault(key, []).append(str(host_id))
    return found


def fingerprint(*parts: object) -> str:
    """A short digest of host-visible fields, insensitive to markup and white space."""
    text = "\x1f".join(normalise(p) for p in parts)
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def normalise(value: object) -> str:
    """Text as a person reads it: tags dropped, entities decoded, white space collapsed."""
    text = html.unescape(_TAGS.sub(" ", "" if value is None else str(value)))
    return " ".join(text.split())  # runs of white space (str.isspace, as the regex \s) as one space, ends stripped
