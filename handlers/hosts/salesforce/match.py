"""What opportunity matching reads from and writes to Salesforce: open Opportunities with the tenant's mapped skills
field, consultants' (Contacts') mapped skills and places, and the suggestions Task on the Opportunity itself.

Documented: `Opportunity.IsClosed`, `OwnerId` (the business engineer who owns it), Task `WhatId` (an Opportunity
is one of its targets, reference "Task fields"). The skills, start and place fields are the tenant's own custom
fields (`SalesforceMapping.opportunity_*`, `consultant_*`); matching reads nothing until the skills ones are mapped.
"""
from __future__ import annotations

from connectors.salesforce.soql import escape_soql
from handlers.domain.matching import Need, Opening
from handlers.domain.model import Person
from handlers.hosts.values import day
from handlers.hosts.salesforce.adapter import SalesforceAdapter
from handlers.hosts.marks import ours

CHUNK = 100  # ids in one `WHERE Id IN (…)`


class SalesforceMatching:
    """What a matching run asks of Salesforce: the openings, each consultant's (skills, places), the writer."""

    positionings = False  # Salesforce has no positioning record: the Task is the suggestion

    def __init__(self, adapter: SalesforceAdapter):
        self.adapter, self.client, self.mapping = adapter, adapter.client, adapter.mapping

    def openings(self) -> list[Opening]:
        """Every Opportunity not closed (neither won nor lost), with its owner; none when skills are not mapped."""
        m = self.mapping
        if not (m.opportunity_skills and m.consultant_skills):
            return []
        fields = ["Id", "Name", "OwnerId", m.opportunity_skills] + [f for f in (m.opportunity_start, m.opportunity_place) if f]
        rows = self.client.query_all(f"SELECT {', '.join(fields)} FROM Opportunity WHERE IsClosed = false")
        return [self._opening(row) for row in rows]

    def _opening(self, row: dict) -> Opening:
        m = self.mapping
        start = row.get(m.opportunity_start) if m.opportunity_start else None
        need = Need(row["Id"], str(row.get("Name") or ""), (str(row.get(m.opportunity_skills) or ""),), day(start),
                    (row.get(m.opportunity_place) or None) if m.opportunity_place else None)
        owner = Person(id=row["OwnerId"], type="User") if row.get("OwnerId") else None
        return Opening(need, owner, Person(id=row["Id"], type="Opportunity", name=need.title))

    def profiles(self, consultant_ids: list[str]) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
        """Contact id → (skills, places), from the mapped Contact fields (one query per 100 consultants)."""
        m = self.mapping
        fields = ["Id"] + [f for f in (m.consultant_skills, m.consultant_places) if f]
        out = {}
        for n in range(0, len(consultant_ids), CHUNK):
            ids = ", ".join(f"'{escape_soql(i)}'" for i in consultant_ids[n:n + CHUNK])
            for row in self.client.query_all(f"SELECT {', '.join(fields)} FROM Contact WHERE Id IN ({ids})"):
                places = str(row.get(m.consultant_places) or "") if m.consultant_places else ""
                out[row["Id"]] = ((str(row.get(m.consultant_skills) or ""),),
                                  tuple(p.strip() for p in places.replace(",", ";").split(";") if p.strip()))
        return {i: out.get(i) or out.get(i[:15]) or ((), ()) for i in consultant_ids}

    def writers(self) -> dict:
        """Ledger prefix → writer: the suggestions Task on the Opportunity, the digest Task of a business engineer."""
        tasks = HostTasks(self.adapter.tenant, self.adapter.conn, self.client)
        return {"opportunity": tasks, "digest": tasks}


class HostTasks(SalesforceAdapter):
    """The adapter's Task writer for Tasks that hang on no mission: on an Opportunity (`WhatId`), or a business
    engineer's own Task (target a User: no `WhatId`, no `WhoId`)."""

    def task(self, mission_id: str, action, *, with_key: bool = True) -> dict:
        """The Task fields, its `WhatId` the Opportunity (or none)."""
        record = {**super().task(mission_id, action, with_key=with_key)}
        record.pop("WhatId", None)
        if action.target.type == "Opportunity":
            record["WhatId"] = action.target.id
        return record

    def find_marked(self, mission_id: str, target_type: str, target_id: str) -> dict[str, list[str]]:
        """The target's Tasks back (an Opportunity's, or a User's own), ours by step key (crash recovery)."""
        field = "OwnerId" if target_type == "User" else "WhatId"
        rows = self.client.query_all(f"SELECT Id, Description FROM Task WHERE {field} = '{escape_soql(target_id)}'")
        return ours(((row["Id"], row.get("Description")) for row in rows), mission_id)
