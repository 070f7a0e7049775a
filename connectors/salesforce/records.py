"""What sObject Collections calls carry and answer: per-record results, subrequest answers, collection calls."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from connectors.salesforce.soql import api_name

COLLECTION_LIMIT = 200  # sObject Collections take at most 200 records per call
_RECORD_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?\Z")


@dataclass(frozen=True)
class SaveResult:
    """One record's outcome in an sObject Collections call."""

    id: str | None
    success: bool
    errors: list[dict] = field(default_factory=list)
    created: bool | None = None

    @classmethod
    def from_json(cls, item: dict) -> SaveResult:
        """Build from `{"id","success","errors","created"?}`."""
        return cls(id=item.get("id"), success=bool(item.get("success")), errors=list(item.get("errors") or []),
                   created=item.get("created"))

    def error_text(self) -> str:
        """Errors as one line: "INVALID_CROSS_REFERENCE_KEY: invalid id (OwnerId)"."""
        parts = []
        for error in self.errors:
            code = error.get("statusCode") or error.get("errorCode") or "ERROR"
            fields = ",".join(error.get("fields") or [])
            parts.append(f"{code}: {error.get('message') or ''}" + (f" ({fields})" if fields else ""))
        return "; ".join(parts)


@dataclass(frozen=True)
class SubResult:
    """One subrequest's answer in a POST /composite: its status and body."""

    reference_id: str
    status: int
    body: object = None


@dataclass(frozen=True)
class Collection:
    """One sObject Collections call (≤ 200 records or ids), to be sent as a composite subrequest."""

    method: str
    path: str
    records: list[dict] | None = None
    size: int = 0

    @classmethod
    def create(cls, records: list[dict], *, sobject: str | None = None) -> Collection:
        """POST /composite/sobjects (a create: not idempotent)."""
        return cls("POST", "/composite/sobjects", _within_limit([_typed(r, sobject) for r in records]), len(records))

    @classmethod
    def update(cls, records: list[dict], *, sobject: str | None = None) -> Collection:
        """PATCH /composite/sobjects, each record with its Id."""
        typed = _within_limit([_typed(r, sobject) for r in records])
        for record in typed:
            _record_id(record.get("Id") or "")
        return cls("PATCH", "/composite/sobjects", typed, len(typed))

    @classmethod
    def upsert(cls, sobject: str, ext_field: str, records: list[dict]) -> Collection:
        """PATCH /composite/sobjects/{object}/{ext_field}: create or update by external id."""
        typed = _within_limit([_typed(r, sobject) for r in records])
        if any(not record.get(ext_field) for record in typed):
            raise ValueError(f"every upserted record needs its {ext_field} value")
        return cls("PATCH", f"/composite/sobjects/{api_name(sobject)}/{api_name(ext_field)}", typed, len(typed))

    @classmethod
    def delete(cls, ids: list[str]) -> Collection:
        """DELETE /composite/sobjects?ids=…&allOrNone=false."""
        checked = _within_limit([_record_id(i) for i in ids])
        query = urlencode({"ids": ",".join(checked), "allOrNone": "false"}, safe=",")
        return cls("DELETE", f"/composite/sobjects?{query}", None, len(checked))

    def subrequest(self, reference_id: str) -> dict:
        """The compositeRequest entry (url relative to the API base)."""
        entry = {"method": self.method, "url": self.path, "referenceId": reference_id}
        return entry if self.records is None else {**entry, "body": {"allOrNone": False, "records": self.records}}


def _typed(record: dict, sobject: str | None) -> dict:
    """A copy of `record` carrying `attributes.type` (taken from `sobject` when missing)."""
    if (record.get("attributes") or {}).get("type"):
        return dict(record)
    if not sobject:
        raise ValueError("record has no attributes.type and no sobject was given")
    return {"attributes": {"type": api_name(sobject)}, **{k: v for k, v in record.items() if k != "attributes"}}


def _within_limit(items: list) -> list:
    if not 0 < len(items) <= COLLECTION_LIMIT:
        raise ValueError(f"a collections call takes 1 to {COLLECTION_LIMIT} records, not {len(items)}")
    return items


def _record_id(value: str) -> str:
    if not isinstance(value, str) or not _RECORD_ID.match(value):
        raise ValueError(f"not a Salesforce record id: {value!r}")
    return value
