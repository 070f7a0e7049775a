"""What a person did to an action we wrote: read from the host before we change it, so their work is kept.

The ledger remembers a fingerprint of each action as Intermission last wrote it (title, text, due date and type,
normalised the same way on both sides). Before an update or a cancel the reconciler reads the host's records back
and judges each one: gone (someone deleted it), closed (someone ticked it done), edited (no longer what we wrote),
or untouched. Only an untouched action is ever rewritten or deleted.
"""
from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from typing import Literal

from handlers.state.ledger import LedgerEntry

Verdict = Literal["untouched", "gone", "done", "edited", "unverified"]
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class HostState:
    """One of our actions as the host holds it now."""

    host_id: str
    fingerprint: str
    closed: bool = False  # ticked done / completed by someone (Salesforce IsClosed, a Boond "done" type)
    raw: dict = field(default_factory=dict, compare=False)  # the host's fields, for a closing note
    known: bool = True  # False: the host's answers could not tell whether it is there (refused, incomplete)

    @classmethod
    def unverified(cls, host_id: str) -> HostState:
        """A record no authoritative answer covered: neither gone nor present, held until a read can tell."""
        return cls(host_id, "", known=False)


class CannotVerify(Exception):
    """A read-back that found no authoritative answer (a refused tab, a search that may miss, an incomplete listing):
    `found` holds what it did find (marker key -> host ids); a key absent from it is not known to be absent."""

    def __init__(self, why: str, found: dict[str, list[str]] | None = None):
        super().__init__(why)
        self.why, self.found = why, found or {}


def fingerprint(*parts: object) -> str:
    """A short digest of host-visible fields, insensitive to markup and white space."""
    text = "\x1f".join(normalise(p) for p in parts)
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def normalise(value: object) -> str:
    """Text as a person reads it: tags dropped, entities decoded, white space collapsed."""
    text = html.unescape(_TAGS.sub(" ", "" if value is None else str(value)))
    return _SPACES.sub(" ", text).strip()


def judge(entry: LedgerEntry, state: HostState | None) -> Verdict:
    """What a person did to the action since we wrote it."""
    if state is None:
        return "gone"
    if not state.known:
        return "unverified"
    ours = state.fingerprint in (entry.fingerprint, entry.pending)  # pending: our update a crash left unrecorded
    if state.closed and (not entry.fingerprint or not ours):
        return "done"
    if entry.fingerprint and not ours:
        return "edited"
    return "untouched"


REASONS = {
    "gone": "deleted in the host by someone: left deleted, never recreated",
    "done": "closed in the host by someone: kept as it is, never rewritten or recreated",
    "edited": "edited in the host by someone: kept as it is, never rewritten or recreated",
    "closed": "edited in the host by someone, then no longer planned: closed with a note, not deleted",
    "unverified": "cannot be verified in the host (its answers were refused or incomplete): held and retried, "
                  "neither taken for deleted nor created again",
}

CLOSING_NOTE = {
    "fr": "Intermission : cette étape n'est plus prévue ({reason}). Elle est close mais conservée, "
          "car quelqu'un l'avait modifiée.",
    "en": "Intermission: this step is no longer planned ({reason}). It is closed but kept, "
          "because someone had edited it.",
}


def closing_note(language: str, reason: str) -> str:
    """The note added to an edited action that its plan no longer wants."""
    return CLOSING_NOTE.get(language, CLOSING_NOTE["en"]).format(reason=reason)
