"""Salesforce adapter: mission record → snapshot, desired actions → Tasks (sObject Collections inside Composite)."""
from __future__ import annotations

import logging
import time
from datetime import date, datetime, timezone
from typing import Iterator
from zoneinfo import ZoneInfo

import redis

from config.settings import get_settings
from config.tenants import Tenant
from connectors.errors import HostError, HostNotFound, HostValidationError
from connectors.salesforce import keys as org_keys
from connectors.salesforce.client import COMPOSITE_COLLECTIONS, Collection, SalesforceClient, SaveResult
from connectors.salesforce.soql import escape_soql, soql_literal
from connectors.salesforce.tokens import TenantTokens
from handlers.state.ledger import LedgerEntry
from handlers.domain.model import DesiredAction, MissionSnapshot, OtherMission, Person
from handlers.hosts.marks import fingerprint, marker, ours
from handlers.hosts.protocol import (Close, Contact, Create, HostState, MissionRead, MissionsRead, Outcome, Update,
                                     WriteKind, WriteResult)
from handlers.hosts.values import day, percent, positive_amount
from handlers.domain.timeline import placed
from handlers.domain.classify import crew_matters, in_reach
from handlers.domain.rules import Rules
from handlers.state.store import SnapshotStore
from config.infra import clock
from connectors.salesforce.settings import salesforce_env, salesforce_settings

log = logging.getLogger(__name__)
CHUNK = 200
GONE = {"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY", "NOT_FOUND", "INVALID_ID_FIELD"}


def tokens_for(tenant: Tenant, conn: redis.Redis) -> TenantTokens:
    """The tenant's token store."""
    cfg = salesforce_settings(tenant)
    return TenantTokens(conn, tenant.id, login_url=cfg.login_url, client_id=cfg.client_id,
                        client_secret=cfg.client_secret, timeout=get_settings().http_timeout_seconds)


def make_client(tenant: Tenant, conn: redis.Redis) -> SalesforceClient:
    """A client at the org's instance URL that records the API usage it sees.

    The token store is read once here (instance URL and access token): the client keeps the token until the org
    refuses it (a 401 refreshes it once across the workers), so a call costs no Redis read."""
    tokens, settings = tokens_for(tenant, conn), get_settings()
    record = tokens.usable()
    return SalesforceClient(record["instance_url"], tokens, token=record["access_token"],
                            api_version=salesforce_settings(tenant).api_version, on_usage=UsageKept(tenant, conn),
                            limit_pause=salesforce_env().sf_limit_pause_seconds, timeout=settings.http_timeout_seconds,
                            max_attempts=settings.http_max_attempts, max_retry_after=settings.max_retry_after_seconds,
                            backoff=settings.http_backoff_seconds)


class UsageKept:
    """Stores the org's API usage a client reads from its answers (`budget_left` decides on it), sparingly.

    Every answer carries it; storing each was a write, and its fsync, a host call. Stored: a client's first reading,
    then at most one a second, and at once every reading at or past the tenant's budget, the one that stops the work.
    A reading skipped is at most a second of this job's calls behind, against a daily limit in the tens of thousands.
    """

    INTERVAL = 1.0

    def __init__(self, tenant: Tenant, conn: redis.Redis):
        self.conn, self.key = conn, org_keys.usage(tenant.id)
        self.fraction = salesforce_settings(tenant).budget_fraction
        self.stored_at: float | None = None

    def __call__(self, used: int, limit: int) -> None:
        now = time.monotonic()
        recent = self.stored_at is not None and now - self.stored_at < self.INTERVAL
        if recent and used < limit * self.fraction:
            return
        self.conn.set(self.key, f"{used}/{limit}", ex=86400)
        self.stored_at = now


def budget_left(tenant: Tenant, conn: redis.Redis) -> bool:
    """False once the org's rolling usage passed the share of the daily limit this tenant allows us."""
    raw = conn.get(org_keys.usage(tenant.id))
    if not raw:
        return True
    used, _, limit = raw.decode().partition("/")
    return int(used) < int(limit) * salesforce_settings(tenant).budget_fraction


def read_budget(tenant: Tenant, conn: redis.Redis) -> None:
    """Read the org's usage now (GET /limits, one call) instead of trusting the last answer's: resumes and sweeps
    ask it before holding again, since a held tenant makes no call that would refresh its reading."""
    try:
        make_client(tenant, conn).limits()
    except HostError as exc:  # still refused, not connected: the stored reading stands (a 403 carries the usage too)
        log.info("limits of %s not read: %s", tenant.id, exc)


def budget_pause() -> float:
    """How long a tenant's work held for a spent budget waits (INTERMISSION_SF_LIMIT_PAUSE_SECONDS)."""
    return salesforce_env().sf_limit_pause_seconds


def has_survey_tool(tenant: Tenant) -> bool:
    """Whether the org sends the tenant's surveys itself (Salesforce Surveys: no e-mail from us)."""
    return salesforce_settings(tenant) is not None and salesforce_settings(tenant).has_surveys


class SalesforceAdapter:
    """Reads missions from and writes Tasks to one tenant's org (a BatchWriter)."""

    def __init__(self, tenant: Tenant, conn: redis.Redis, client: SalesforceClient | None = None):
        self.tenant, self.conn = tenant, conn
        self.cfg, self.mapping = salesforce_settings(tenant), salesforce_settings(tenant).mapping
        self.client = client or make_client(tenant, conn)

    # --- reading ---------------------------------------------------------------------------
    def read_mission(self, mission_id: str) -> MissionRead:
        """The mission as a snapshot plus the consultant's other missions; (None, []) once deleted."""
        m = self.mapping
        rows = self.client.query_all(f"SELECT {', '.join(m.fields())} FROM {m.object} "
                                     f"WHERE Id = '{escape_soql(mission_id)}'")
        if not rows:
            return MissionRead(None, [])
        snap = self.with_crew(snapshot_from_record(self.tenant, rows[0]))
        timeline = self._timeline(snap.consultant.id) if snap.consultant and "." not in m.consultant_contact else []
        return MissionRead(self.placed(snap, timeline), timeline)

    def with_crew(self, snap: MissionSnapshot) -> MissionSnapshot:
        """The snapshot with the other consultants' missions on its project (who replaces an early end), queried
        only when it matters (`crew_matters`) and the mapping has a project (Certinia `pse__Project__c`)."""
        m = self.mapping
        if not m.project or "." in m.project or not snap.project_id or not crew_matters(
                SnapshotStore(self.conn, self.tenant.id).get(snap.mission_id), snap, clock.today(self.tenant.timezone)):
            return snap
        person = [f for f in (m.consultant_contact, _name(m.consultant_contact)) if f]
        fields = sorted({"Id", *person, *(f for f in (m.start_date, m.end_date, m.status, m.name) if f)})
        rows = self.client.query_all(f"SELECT {', '.join(fields)} FROM {m.object} WHERE {m.project} = "
                                     f"'{escape_soql(snap.project_id)}' AND Id != '{escape_soql(snap.mission_id)}'")
        crew = [OtherMission(id=r["Id"], title=str(_get(r, m.name) or "") if m.name else "", start=day(_get(r, m.start_date)),
                             end=day(_get(r, m.end_date)), project=snap.project_id,
                             consultant=_person(r, m.consultant_contact, "Contact"))
                for r in rows if m.status_values.get(str(_get(r, m.status)) if m.status else "") != "cancelled"]
        rules = Rules.of(self.tenant)
        return snap.model_copy(update={"crew": [o for o in crew if in_reach(snap, o.start, o.end, rules=rules)]})

    def read_missions(self, mission_ids: list[str]) -> MissionsRead:
        """Many missions in one query per 100 ids, and their consultants' timelines in one query per 100 consultants."""
        m = self.mapping
        snaps: dict[str, MissionSnapshot] = {}
        for chunk in _chunks_of(mission_ids, 100):
            ids = ", ".join(f"'{escape_soql(i)}'" for i in chunk)
            for row in self.client.query_all(f"SELECT {', '.join(m.fields())} FROM {m.object} WHERE Id IN ({ids})"):
                snaps[row["Id"]] = self.with_crew(snapshot_from_record(self.tenant, row))
        consultants = sorted({s.consultant.id for s in snaps.values() if s.consultant})
        timelines: dict[str, list[tuple]] = {c: [] for c in consultants}
        if "." not in m.consultant_contact:
            fields = ["Id", m.consultant_contact, *self._timeline_fields()]
            for chunk in _chunks_of(consultants, 100):
                ids = ", ".join(f"'{escape_soql(i)}'" for i in chunk)
                rows = self.client.query_all(f"SELECT {', '.join(fields)} FROM {m.object} "
                                             f"WHERE {m.consultant_contact} IN ({ids})")
                for r in rows:
                    timelines.setdefault(str(_get(r, m.consultant_contact)), []).append(self._timeline_item(r))
        for mission_id, snap in snaps.items():
            line = timelines.get(snap.consultant.id, []) if snap.consultant else []
            snaps[mission_id] = self.placed(snap, line)
        return MissionsRead(snaps, timelines)

    def contact(self, person_type: str, person_id: str, name: str = "") -> Contact:
        """A Contact's, User's or Lead's e-mail address (a Contact unless the type says otherwise)."""
        kind = person_type if person_type in ("Contact", "User", "Lead") else "Contact"
        ident = "".join(c for c in person_id if c.isalnum())[:18]
        rows = self.client.query_all(f"SELECT Id, Email FROM {kind} WHERE Id = '{ident}'")
        return Contact(str((rows[0].get("Email") if rows else None) or ""))

    def _timeline_fields(self) -> list[str]:
        m = self.mapping
        return sorted({f for f in (m.start_date, m.end_date, m.status, m.name, m.occupation, m.project, m.account) if f})

    def _timeline_item(self, r: dict) -> tuple:
        """(id, start, end, state, title, occupation, project, client) of one of the consultant's missions."""
        m = self.mapping
        return (r["Id"], day(_get(r, m.start_date)), day(_get(r, m.end_date)),
                m.status_values.get(str(_get(r, m.status)) if m.status else "", "active"),
                str(_get(r, m.name) or "") if m.name else "", percent(_get(r, m.occupation)) if m.occupation else None,
                _id(_get(r, m.project)) if m.project else None, _id(_get(r, m.account)) if m.account else None)

    def _timeline(self, contact_id: str) -> list[tuple]:
        m = self.mapping
        rows = self.client.query_all(f"SELECT {', '.join(['Id', *self._timeline_fields()])} FROM {m.object} "
                                     f"WHERE {m.consultant_contact} = '{escape_soql(contact_id)}'")
        return [self._timeline_item(r) for r in rows]

    def placed(self, snap: MissionSnapshot, timeline: list[tuple]) -> MissionSnapshot:
        """The snapshot with the consultant's other active missions after its end (`others`) and `next_start`."""
        items = [OtherMission(id=row[0], start=row[1], end=row[2], title=row[4] if len(row) > 4 else "",
                              occupation=row[5] if len(row) > 5 else None, project=row[6] if len(row) > 6 else None,
                              client=row[7] if len(row) > 7 else None)
                 for row in timeline if row[3] != "cancelled"]
        return placed(snap, items)

    def next_start(self, snap: MissionSnapshot, timeline: list[tuple]) -> date | None:
        """The consultant's next mission start among the active ones (see `placed`)."""
        return self.placed(snap, timeline).next_start

    def changed_since(self, since: datetime) -> list[str]:
        """Missions modified or deleted since `since` (SOQL on LastModifiedDate, through /queryAll)."""
        soql = f"SELECT Id FROM {self.mapping.object} WHERE LastModifiedDate >= {soql_literal(since)}"
        return sorted({row["Id"] for row in self.client.query_all(soql, include_deleted=True)})

    def missions_ending(self, start_day: date, end_day: date) -> list[str]:
        """Missions whose end date falls between two days, both included (the install backfill's list)."""
        m = self.mapping
        soql = (f"SELECT Id FROM {m.object} WHERE {m.end_date} >= {start_day.isoformat()} "
                f"AND {m.end_date} <= {end_day.isoformat()}")
        return sorted({row["Id"] for row in self.client.query_all(soql)})

    # --- writing (BatchWriter) -------------------------------------------------------------
    def write_all(self, creates: list[Create], updates: list[Update], deletes: list[str], *,
                  closes: list[Close] = (), before_create=None) -> Iterator[Outcome]:
        """One round's writes in as few composite calls as allowed: an `Outcome` a record, call by call."""
        # Each subrequest is one sObject Collections call of ≤ 200 records, five to a POST /composite (one API call).
        parts = [("create", start, chunk) for start, chunk in _indexed_chunks(creates)]
        parts += [("update", start, chunk) for start, chunk in _indexed_chunks(updates)]
        parts += [("close", start, chunk) for start, chunk in _indexed_chunks(list(closes))]
        parts += [("delete", start, chunk) for start, chunk in _indexed_chunks(deletes)]
        for group in _chunks_of(parts, COMPOSITE_COLLECTIONS):
            carried = [start + n for kind, start, chunk in group if kind == "create" for n in range(len(chunk))]
            if carried and before_create:  # intents recorded before the call that carries the creates
                before_create(carried)
            calls = [self._collection(kind, chunk) for kind, _, chunk in group]
            for (kind, start, chunk), outcome in zip(group, self.client.collections(calls)):
                if isinstance(outcome, HostError):  # the whole subrequest failed: each of its records did
                    failed = WriteResult(ok=False, error=f"{kind} subrequest: {outcome}")
                    yield from (Outcome(kind, start + n, failed) for n in range(len(chunk)))
                else:
                    yield from (Outcome(kind, start + n, _result(r)) for n, r in enumerate(outcome))

    def host_states(self, entries: dict[str, list[LedgerEntry]]) -> dict[str, dict[str, HostState]]:
        """Our Tasks as the org holds them now (status, subject, date, description), by mission and Task id."""
        owner = {e.host_id: mission_id for mission_id, rows in entries.items() for e in rows if e.host_id}
        states: dict[str, dict[str, HostState]] = {mission_id: {} for mission_id in entries}
        for chunk in _chunks_of(sorted(owner), 100):
            ids = ", ".join(f"'{escape_soql(i)}'" for i in chunk)
            rows = self.client.query_all(f"SELECT Id, Subject, ActivityDate, Description, Status, IsClosed "
                                         f"FROM Task WHERE Id IN ({ids})")
            for row in rows:
                host_id = row["Id"] if row["Id"] in owner else row["Id"][:15]
                if host_id in owner:
                    states[owner[host_id]][host_id] = HostState(host_id, _task_print(row),
                                                                bool(row.get("IsClosed")), raw=row)
        return states

    def fingerprint(self, mission_id: str, action: DesiredAction) -> str:
        """What the org will show of this Task once written (compared with the Task read back later)."""
        return _task_print(self.task(mission_id, action, with_key=False))

    def _collection(self, kind: WriteKind, chunk: list) -> Collection:
        """The sObject Collections call for one chunk (survey invitations of created steps made first)."""
        if kind == "delete":
            return Collection.delete(chunk)
        if kind == "close":
            return Collection.update([{"Id": c.host_id, "Status": "Completed",
                                       "Description": _with_note(c.state.raw.get("Description"), c.note)}
                                      for c in chunk], sobject="Task")
        if kind == "update":
            return Collection.update([{"Id": u.host_id, **self.task(u.mission_id, u.action, with_key=False)}
                                      for u in chunk], sobject="Task")
        for c in chunk:
            self._survey_link(c.mission_id, c.action, create=True)
        records = [self.task(c.mission_id, c.action) for c in chunk]
        if self.cfg.external_id_field:
            return Collection.upsert("Task", self.cfg.external_id_field, records)
        return Collection.create(records, sobject="Task")

    def find_marked(self, mission_id: str, target_type: str, target_id: str) -> dict[str, list[str]]:
        """Read the mission's Tasks back and return ours by step key (Description cannot be filtered in SOQL)."""
        rows = self.client.query_all(f"SELECT Id, Description FROM Task WHERE WhatId = '{escape_soql(mission_id)}'")
        return ours(((row["Id"], row.get("Description")) for row in rows), mission_id)

    def _survey_link(self, mission_id: str, action: DesiredAction, *, create: bool = False) -> str | None:
        """A Salesforce Surveys invitation for a survey step's respondent (made once, then reused)."""
        if action.kind != "survey" or not (self.cfg.has_surveys and self.cfg.survey_id):
            return None
        key = org_keys.invitation(self.tenant.id, mission_id, action.key)
        link = self.conn.get(key)
        if link is None and create and action.target.type == "Contact":
            invitation = self.client.create_survey_invitation({
                "Name": f"{action.title}"[:80], "SurveyId": self.cfg.survey_id, "ParticipantId": action.target.id,
                "OptionsAllowGuestUserResponse": True})
            link = self.client.survey_invitation_link(invitation).encode()
            self.conn.set(key, link)
        return link.decode() if link else None

    def task(self, mission_id: str, action: DesiredAction, *, with_key: bool = True) -> dict:
        """The Task fields for one action (ActivityDate a date, ReminderDateTime UTC)."""
        link = self._survey_link(mission_id, action)
        text = f"{action.text}\n\n{'Questionnaire' if self.tenant.language == 'fr' else 'Survey'} : {link}" if link else action.text
        note = action.kind == "note"  # a written-back survey answer: a completed Task, no reminder
        record = {"Subject": action.title[:255], "ActivityDate": action.due.isoformat(),
                  "Status": "Completed" if note else "Not Started",
                  "Priority": "High" if action.priority == "high" else "Normal",
                  "OwnerId": action.assignee.id if action.assignee else None,
                  "WhoId": action.target.id if action.target.type == "Contact" else None, "WhatId": mission_id,
                  "Description": f"{text}\n\n{marker(mission_id, action.key)}"[:32000],
                  "IsReminderSet": not note,
                  "ReminderDateTime": None if note else reminder_utc(action.due, self.tenant.timezone)}
        if with_key and self.cfg.external_id_field:
            record[self.cfg.external_id_field] = f"{mission_id}/{action.key}"[:255]
        return {k: v for k, v in record.items() if v is not None}


def snapshot_from_record(tenant: Tenant, row: dict) -> MissionSnapshot:
    """Map one queried mission record to a snapshot, following the tenant's mapping."""
    m = salesforce_settings(tenant).mapping
    status = m.status_values.get(str(_get(row, m.status)) if m.status else "", None)
    reason = m.reason_values.get(str(_get(row, m.end_reason)) if m.end_reason else "", None)
    return MissionSnapshot(
        tenant=tenant.id, host="salesforce", mission_id=row["Id"], title=str(_get(row, m.name) or "") if m.name else "",
        start_date=day(_get(row, m.start_date)), end_date=day(_get(row, m.end_date)),
        status="cancelled" if status == "cancelled" else (reason or status or "active"),
        raw_state=str(_get(row, m.status)) if m.status else None,
        consultant=_person(row, m.consultant_contact, "Contact"),
        consultant_user=_person(row, m.consultant_user, "User"),
        manager=_person(row, m.manager_user, "User"),
        business_engineer=_person(row, m.business_engineer_user, "User"),
        hr=_person(row, m.hr_user, "User"),
        client_contact=_person(row, m.client_contact, "Contact"),
        client_name=str(_get(row, _name(m.account)) or "") if m.account else "",
        project_id=_id(_get(row, m.project)) if m.project else None,
        client_id=_id(_get(row, m.account)) if m.account else None,
        consultant_manager=_person(row, m.consultant_manager_user, "User"),
        consultant_left=_left(_get(row, m.consultant_left), m.left_values) if m.consultant_left else False,
        consultant_external=(_left(_get(row, m.consultant_external), m.external_values) if m.consultant_external
                             else False),
        contract_end=day(_get(row, m.contract_end)) if m.contract_end else None,
        occupation=percent(_get(row, m.occupation)) if m.occupation else None,
        daily_cost=positive_amount(_get(row, m.daily_cost)) if m.daily_cost else None)



def _task_print(task: dict) -> str:
    """The fingerprint of a Task's person-visible fields (as written or as read back)."""
    return fingerprint(task.get("Subject"), task.get("ActivityDate"), task.get("Description"), task.get("Status"))


def _with_note(description: str | None, note: str) -> str:
    return f"{description or ''}\n\n{note}".strip()[:32000]


def _left(value, left_values: list[str]) -> bool:
    """A checkbox that is ticked, or a text/picklist value the mapping lists (left the firm, external…)."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().casefold() in {v.casefold() for v in left_values}



def reminder_utc(day: date, tz: str, hour: int = 9) -> str:
    """09:00 on the due day in the tenant's zone, as Salesforce's UTC datetime."""
    local = datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(tz))
    return local.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _result(result: SaveResult) -> WriteResult:
    codes = {e.get("statusCode") or e.get("errorCode") for e in result.errors}
    return WriteResult(host_id=result.id, ok=result.success, not_found=bool(codes & GONE),
                       error=None if result.success else result.error_text())


def _chunks_of(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _indexed_chunks(items: list) -> Iterator[tuple[int, list]]:
    for start in range(0, len(items), CHUNK):
        yield start, items[start:start + CHUNK]


def _chunks(items: list) -> Iterator[list]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def _get(row: dict, path: str | None):
    value = row
    for part in (path or "").split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _name(field: str | None) -> str | None:
    from connectors.salesforce.mapping import name_path

    return name_path(field)


def _person(row: dict, field: str | None, kind: str) -> Person | None:
    ident = _get(row, field) if field else None
    if not ident:
        return None
    name_field = _name(field)
    return Person(id=str(ident), type=kind, name=str(_get(row, name_field) or "") if name_field else "")


def _id(value) -> str | None:
    """A lookup's record id (None when empty)."""
    return str(value) if value else None



__all__ = ["SalesforceAdapter", "budget_left", "make_client", "tokens_for", "HostNotFound", "HostValidationError"]
