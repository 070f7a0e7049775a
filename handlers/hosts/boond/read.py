"""Completing a delivery whose `included` is thin (reference §10): the project, the consultant, the opportunity
and the client company read once each per job, merged into the delivery's `included`.

The people records are also kept per tenant in Redis for PEOPLE_TTL seconds (5 minutes), shared by every job of
the tenant: the ten missions of one project read the project, its opportunity and its company once, not ten times.
A Boond webhook about one of those records drops its copy (`forget`); a change made without a webhook shows
within the five minutes. A 404 is remembered for the job only."""
from __future__ import annotations

import json
import os
from typing import Callable

import redis

from config import keys
from connectors.boond.client import BoondClient
from connectors.errors import HostNotFound

# seconds a project/resource/opportunity/company read is shared by the tenant's jobs (0: per job only)
PEOPLE_TTL = int(os.environ.get("INTERMISSION_BOOND_PEOPLE_TTL", "300"))
KINDS = ("project", "resource", "opportunity", "company", "contact")
# the people a snapshot names, by the record and relationship that point at them: each must carry a name
PEOPLE = {"project": ("mainManager", "contact"), "opportunity": ("mainManager", "contact"),
          "resource": ("mainManager", "hrManager")}

# what each record must carry for the snapshot; a record in `included` without them is read in full
NEEDED = {
    "project": {"relationships": ("mainManager", "contact", "opportunity", "company")},
    "resource": {"relationships": ("mainManager", "hrManager"), "attributes": ("state",)},
    "opportunity": {"relationships": ("mainManager", "contact")},
    "company": {"attributes": ("name",)},
}
Fetch = Callable[[str, str], "dict | None"]


class RecordCache:
    """GET /projects|resources|opportunities|companies|contacts/{id}, at most once per record for the adapter's life
    (a job)."""

    def __init__(self, client: BoondClient, conn: redis.Redis | None = None, tenant_id: str | None = None):
        self.client, self.conn, self.tenant_id = client, conn, tenant_id
        self.docs: dict[tuple[str, str], dict | None] = {}
        self.refused: list[str] = []  # the reads that answered 404, for the provenance

    def get(self, kind: str, record_id: str) -> dict | None:
        """The record's document, or None when Boond answers 404 (remembered too)."""
        if kind not in KINDS:
            raise ValueError(f"not a Boond people record: {kind}")
        key = (kind, str(record_id))
        if key not in self.docs:
            self.docs[key] = self._shared(kind, str(record_id))
        return self.docs[key]

    def _shared(self, kind: str, record_id: str) -> dict | None:
        """The tenant's copy of the last PEOPLE_TTL seconds, else Boond's answer (then kept for the others)."""
        shared = (people_key(self.tenant_id, kind, record_id)
                  if self.conn is not None and self.tenant_id and PEOPLE_TTL > 0 else None)
        if shared:
            raw = self.conn.get(shared)
            if raw is not None:
                return json.loads(raw)
        try:
            doc = getattr(self.client, kind)(record_id)  # project, resource, opportunity, company or contact
        except HostNotFound:
            self.refused.append(f"{kind} {record_id}")
            return None
        if shared:
            self.conn.set(shared, json.dumps(doc, separators=(",", ":")), ex=PEOPLE_TTL)
        return doc


def people_key(tenant_id: str, kind: str, record_id: str) -> str:
    """Where the tenant's shared copy of one Boond record lives (for PEOPLE_TTL seconds)."""
    return keys.host_record(tenant_id, "boond", kind=kind, record_id=record_id)


def forget(conn: redis.Redis, tenant_id: str, kind: str, *, record_id: str) -> None:
    """Drop the shared copy of a record Boond says changed (a webhook about it)."""
    if kind in KINDS:
        conn.delete(people_key(tenant_id, kind, str(record_id)))


def completed(doc: dict, fetch: Fetch) -> dict:
    """The delivery document with the people-bearing records of `included` read in full where they were thin."""
    data = doc.get("data") if isinstance(doc.get("data"), dict) else {}
    index = {(str(i.get("type")), str(i.get("id"))): i for i in doc.get("included") or [] if isinstance(i, dict)}
    rels = data.get("relationships") or {}
    project = _complete(index, _ref(rels, "project"), fetch)
    consultant = _ref(rels, "dependsOn")
    if consultant and consultant[0] == "resource":
        _complete(index, consultant, fetch)
    p_rels = (project or {}).get("relationships") or {}
    opportunity = _complete(index, _ref(p_rels, "opportunity"), fetch)
    _complete(index, _ref(p_rels, "company"), fetch)
    person = index.get(consultant) if consultant and consultant[0] == "resource" else None
    for record in (project, opportunity, person):
        for name in PEOPLE.get(str((record or {}).get("type")), ()):
            _named(index, _ref((record or {}).get("relationships") or {}, name), fetch)
    return {**doc, "included": list(index.values())}


def _named(index: dict, ref: tuple[str, str] | None, fetch: Fetch) -> None:
    """A person the snapshot names, read in full when `included` has no name for them (Boond's thin answers, §10:
    the deliveries without an opportunity, the HR manager)."""
    if ref is None or ref[0] not in ("resource", "contact"):
        return
    attrs = (index.get(ref) or {}).get("attributes") or {}
    if attrs.get("firstName") or attrs.get("lastName") or attrs.get("name"):
        return
    full = fetch(*ref)
    if isinstance(full, dict) and isinstance(full.get("data"), dict):
        index[ref] = _merged(index.get(ref), full["data"])


def _complete(index: dict, ref: tuple[str, str] | None, fetch: Fetch) -> dict | None:
    """The record as `included` has it, read in full and merged when it lacks what the snapshot needs."""
    if ref is None:
        return None
    have = index.get(ref)
    if have is not None and not _thin(have):
        return have
    full = fetch(*ref)
    if not isinstance(full, dict) or not isinstance(full.get("data"), dict):
        return have
    for item in full.get("included") or []:
        if isinstance(item, dict):
            key = (str(item.get("type")), str(item.get("id")))
            index[key] = _merged(index.get(key), item)
    index[ref] = _merged(have, full["data"])
    return index[ref]


def _thin(item: dict) -> bool:
    needed = NEEDED.get(str(item.get("type")), {})
    return any(name not in (item.get(member) or {}) for member, names in needed.items() for name in names)


def _merged(old: dict | None, new: dict) -> dict:
    """Two views of one record: the fuller one's members win, nothing known is lost."""
    if old is None:
        return new
    return {**old, **new, "attributes": {**(old.get("attributes") or {}), **(new.get("attributes") or {})},
            "relationships": {**(old.get("relationships") or {}), **(new.get("relationships") or {})}}


def _ref(rels: dict, name: str) -> tuple[str, str] | None:
    data = (rels.get(name) or {}).get("data") if isinstance(rels.get(name), dict) else None
    if isinstance(data, dict) and data.get("id") is not None:
        return str(data.get("type") or name), str(data["id"])
    return None
