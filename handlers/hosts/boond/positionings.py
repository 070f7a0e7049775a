"""Boond positionings as the reconciler's writer: a suggested consultant positioned on an opportunity (state
"Positionné", nobody e-mailed), when the tenant turns it on.

The reconciler treats them like actions: the ledger records each one, a replay writes nothing, a person's change
(another state such as "CV envoyé", an edited comment) is kept, and an untouched one whose suggestion went away
(opportunity won, lost or closed, consultant restaffed) is deleted. The recovery marker sits in the positioning's
`informationComments` (≤ 250 characters, RAML `positioningsBody-post`).
Not documented, isolated here (docs/SANDBOXES.md, "Opportunities"): which state is "Positionné" (the tenant's label,
else 0 as on the demo tenant of reference §4).
"""
from __future__ import annotations

import re

from handlers.hosts.boond.dictionary import Dictionary
from handlers.state.ledger import LedgerEntry
from handlers.domain.model import DesiredAction
from handlers.hosts.marks import fingerprint, marker, ours
from handlers.hosts.protocol import HostState

POSITIONED = re.compile(r"^\s*positionn|^\s*positioned", re.I)
COMMENT_MAX = 250


def positioned_state(dictionary: Dictionary) -> int:
    """The tenant's "Positionné" state id (0 when its labels do not say)."""
    return next((int(i) for i, label in dictionary.states("positioning").items() if POSITIONED.search(label)), 0)


class PositioningWriter:
    """create / update / delete / host_states / find_marked for positionings (one Boond call each)."""

    def __init__(self, client, state: int):
        self.client, self.state = client, state

    def document(self, mission_id: str, action: DesiredAction) -> dict:
        """The JSON:API body: the consultant (`assignee`) positioned on the opportunity (`target`)."""
        tag = marker(mission_id, action.key)
        comment = f"{action.text[:COMMENT_MAX - len(tag) - 3]} — {tag}"
        return {"data": {"type": "positioning",
                         "attributes": {"state": self.state, "informationComments": comment},
                         "relationships": {"opportunity": {"data": {"id": action.target.id, "type": "opportunity"}},
                                           "dependsOn": {"data": {"id": action.assignee.id if action.assignee else "",
                                                                  "type": "resource"}}}}}

    def create(self, mission_id: str, action: DesiredAction) -> str:
        """POST /positionings (no e-mail)."""
        return str(self.client.create_positioning(self.document(mission_id, action))["id"])

    def update(self, host_id: str, mission_id: str, action: DesiredAction) -> None:
        """PUT /positionings/{id}: the new comment (the reason moved)."""
        body = self.document(mission_id, action)
        body["data"] = {"id": host_id, "type": "positioning",
                        "attributes": {"informationComments": body["data"]["attributes"]["informationComments"]}}
        self.client.update_positioning(host_id, body)

    def delete(self, host_id: str) -> None:
        """DELETE /positionings/{id}."""
        self.client.delete_positioning(host_id)

    def close(self, host_id: str, note: str, state: HostState) -> None:
        """A positioning someone moved on is left exactly as they left it (nothing to close)."""

    def fingerprint(self, mission_id: str, action: DesiredAction) -> str:
        """What Boond will show of this positioning once written."""
        return _print(self.document(mission_id, action)["data"]["attributes"])

    def host_states(self, entries: dict[str, list[LedgerEntry]]) -> dict[str, dict[str, HostState]]:
        """Our positionings as Boond holds them now (one read per opportunity)."""
        rows = {str(r.get("id")): r.get("attributes") or {}
                for opportunity in sorted({e.target_id for mine in entries.values() for e in mine})
                for r in self.client.positionings_of(opportunity)}
        return {mission_id: {e.host_id: HostState(e.host_id, _print(rows[e.host_id]), raw=rows[e.host_id])
                             for e in mine if e.host_id in rows}
                for mission_id, mine in entries.items()}

    def find_marked(self, mission_id: str, target_type: str, target_id: str) -> dict[str, list[str]]:
        """The opportunity's positionings back, ours by step key (crash recovery)."""
        rows = self.client.positionings_of(target_id)
        return ours(((row["id"], (row.get("attributes") or {}).get("informationComments")) for row in rows), mission_id)


def _print(attributes: dict) -> str:
    return fingerprint(attributes.get("state"), attributes.get("informationComments") or "")
