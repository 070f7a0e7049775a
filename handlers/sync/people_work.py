"""What a person did to an action we wrote: read from the host before we change it, so their work is kept.

The ledger remembers a fingerprint (handlers.hosts.marks) of each action as Intermission last wrote it (title, text, due date and type,
normalised the same way on both sides). Before an update or a cancel the reconciler reads the host's records back
and judges each one: gone (someone deleted it), closed (someone ticked it done), edited (no longer what we wrote),
or untouched. Only an untouched action is ever rewritten or deleted.
"""
from __future__ import annotations

from typing import Literal

from handlers.hosts.protocol import HostState
from handlers.state.ledger import LedgerEntry

Verdict = Literal["untouched", "gone", "done", "edited", "unverified"]


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
