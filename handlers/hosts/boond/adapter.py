"""Boond adapter: delivery JSON → mission snapshot, and desired actions → Boond actions."""
from __future__ import annotations

from typing import NamedTuple

import html
import json
import logging
import re
import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import redis

from config import keys
from config.settings import get_settings
from config.tenants import Tenant
from connectors.boond.auth import BoondCredentials
from connectors.boond.client import KEYWORD_PREFIX, MAX_PAGES, ActionsRead, BoondClient, checked_base_url
from connectors.boond.tokens import AppTokens
from connectors.errors import HostAuthError, HostError, HostNotFound, not_offered
from connectors.ratelimit import RateLimiter
from handlers.hosts.boond.dictionary import Dictionary
from handlers.hosts.boond.read import RecordCache, completed
from handlers.state.ledger import LedgerEntry
from handlers.domain.model import NEXT_UNKNOWN, DesiredAction, Inactivity, MissionSnapshot, OtherMission, Person
from handlers.hosts.marks import MARKER, fingerprint, marker
from handlers.hosts.protocol import CannotVerify, Contact, HostState, MissionRead
from handlers.hosts.values import day, percent, positive_amount
from handlers.state.store import SnapshotStore
from handlers.domain.timeline import placed
from handlers.domain.classify import crew_matters, in_reach
from handlers.domain.rules import Rules
from config.infra import clock
from connectors.boond.settings import boond_env, boond_settings

log = logging.getLogger(__name__)

REMINDER_LABEL = re.compile(r"rappel|to ?do|reminder", re.I)
NOTE_LABEL = re.compile(r"^\s*note\b", re.I)
DICTIONARY_TTL = 24 * 3600
MAX_INACTIVITIES = 20  # a snapshot keeps this many of the consultant's inactivities after the mission (compact)
# where a resource may carry the day it leaves the firm (ASSUMPTION [INF]: no public capture names the attribute)
EXIT_DATE_FIELDS = ("exitDate", "leavingDate", "dateOfExit", "contractEndDate")


def make_client(tenant: Tenant, conn: redis.Redis) -> BoondClient:
    """A client signed with the tenant's credentials and throttled by its shared bucket."""
    cfg, settings = boond_settings(tenant), get_settings()
    if not cfg.user_token:
        raise HostAuthError("no technical user yet: open Intermission from Boond (Administration > Apps) to "
                            "finish the set-up", host="boond")
    token, key = (cfg.app_token, cfg.app_key) if cfg.auth_mode == "app" else (cfg.client_token, cfg.client_key)
    tokens = app_tokens_for(tenant, conn) if cfg.auth_mode == "app" and not cfg.app_token else None
    if tokens is not None:  # a marketplace install: its (maybe temporary) token lives in the token store
        token, key = tokens.current(boond_env().boond_app_token_ttl_margin), tokens.app_key
    limiter = RateLimiter(conn, keys.host_ratelimit(tenant.id, "boond"),
                          rate=cfg.rate_per_second or boond_env().boond_rate_per_second, burst=boond_env().boond_burst,
                          max_wait=settings.max_retry_after_seconds)
    return BoondClient(cfg.base_url, BoondCredentials(cfg.auth_mode, token or "", key or "", cfg.user_token),
                       renew=tokens.renewed if tokens else None,
                       timeout=settings.http_timeout_seconds, max_attempts=settings.http_max_attempts,
                       max_retry_after=settings.max_retry_after_seconds, before_call=limiter.acquire,
                       on_rate_limited=limiter.pause, backoff=settings.http_backoff_seconds)


def app_tokens_for(tenant: Tenant, conn: redis.Redis) -> AppTokens:
    """The token store of a marketplace tenant (its app key, else the server's)."""
    cfg, settings = boond_settings(tenant), get_settings()
    return AppTokens(conn, tenant.id, base_url=checked_base_url(cfg.base_url), app_key=cfg.app_key or boond_env().boond_app_key or "",
                     timeout=settings.http_timeout_seconds)


class Crew(NamedTuple):
    """The other consultants' deliveries on a project, and why there are none when Boond refused the tab."""

    missions: list[OtherMission]
    note: str | None


class TimelineRead(NamedTuple):
    """A consultant's deliveries, and why only the known missions are there when Boond refused the tab."""

    rows: list[dict]
    note: str | None


_UNREAD = object()  # `BoondAdapter._dictionary_raw` before any read
BODIES_KEPT = 512  # action bodies an adapter keeps (`BoondAdapter.document`): a job writes far fewer


class BoondAdapter:
    """Reads missions from and writes actions to one tenant's Boond."""

    def __init__(self, tenant: Tenant, conn: redis.Redis, client: BoondClient | None = None):
        self.tenant, self.conn = tenant, conn
        self.client = client or make_client(tenant, conn)
        self.records = RecordCache(self.client, conn, tenant.id)  # one read per record per job, shared 5 min
        self._parents: dict[str, tuple[str, str]] = {}  # action id → the record it hangs on, as last read (host_states)
        self._dictionary: Dictionary | None = None
        self._dictionary_raw: bytes | None | object = _UNREAD  # what Redis kept of it, read with the crew check
        self._reading = threading.Lock()  # the dictionary read once whatever the threads creating (`create`)
        self._bodies: dict[int, tuple[str, DesiredAction, dict]] = {}  # `document`: one body an action a job

    # --- reading ---------------------------------------------------------------------------
    def read_mission(self, mission_id: str) -> MissionRead:
        """The delivery as a snapshot plus the consultant's timeline; (None, []) when it was deleted.

        A thin `included` is completed from the project, resource and opportunity (§10); a refused timeline tab
        leaves the next mission to the missions already known, and says so in `degraded`."""
        try:
            doc = self.client.delivery(mission_id)
        except HostNotFound:
            return MissionRead(None, [])
        refused = len(self.records.refused)
        doc = completed(doc, self.records.get)
        snap = snapshot_from_delivery(self.tenant, doc, labels=self._labels_if_unmapped(doc))
        notes = [f"{name} unreadable (404): the people it names are unknown" for name in self.records.refused[refused:]]
        timeline, note = self.timeline(snap)
        crew, crew_note = self.crew(snap)
        snap = snap.model_copy(update={"degraded": notes + [n for n in (note, crew_note) if n], "crew": crew})
        return MissionRead(self.placed(snap, timeline), timeline)

    def crew(self, snap: MissionSnapshot) -> Crew:
        """The other consultants' deliveries on the project (who replaces an early end), read only when it matters
        (`crew_matters`); when Boond refuses the project's tab, none, and why."""
        if not snap.project_id or snap.consultant is None or not crew_matters(
                self._stored(snap.mission_id), snap, clock.today(self.tenant.timezone)):
            return Crew([], None)
        try:
            rows = self.client.project_deliveries(snap.project_id)
        except HostError as exc:
            if not not_offered(exc):
                raise
            log.warning("project %s: its deliveries tab answered %s", snap.project_id, exc.status)
            return Crew([], "replacement unknown: the host does not let us read the project's other missions")
        items, rules = [], Rules.of(self.tenant)
        for row in rows:
            attrs, ref = row.get("attributes") or {}, _ref(row.get("relationships") or {}, "dependsOn")
            start, end = day(attrs.get("startDate")), day(attrs.get("endDate"))
            if row.get("type") not in (None, "delivery") or not ref or ref.get("type") != "resource" \
                    or str(row.get("id")) == snap.mission_id or attrs.get("isDeleted") is True \
                    or boond_settings(self.tenant).delivery_states.get(str(attrs.get("state"))) == "cancelled" \
                    or not in_reach(snap, start, end, rules=rules):
                continue  # an early-ended one stays: it may be the early end this one replaces
            items.append(OtherMission(id=str(row.get("id")), title=str(attrs.get("title") or ""), start=start,
                                      end=end, project=snap.project_id, consultant=self._resource_person(str(ref["id"]))))
        return Crew(items, None)

    def _stored(self, mission_id: str) -> MissionSnapshot | None:
        """The mission as Redis keeps it; the tenant's dictionary, which a job that writes actions needs, read in the
        same round trip when it is not read yet (parsed only when asked for, `dictionary`)."""
        store = SnapshotStore(self.conn, self.tenant.id)
        with self._reading:
            if self._dictionary is not None or self._dictionary_raw is not _UNREAD:
                return store.get(mission_id)
            pipe = self.conn.pipeline(transaction=False)
            store.read(pipe, mission_id)
            pipe.get(keys.host_dictionary(self.tenant.id, "boond"))
            raw, self._dictionary_raw = pipe.execute()
        return store.decoded(mission_id, raw)

    def _resource_person(self, resource_id: str) -> Person:
        """A resource named from its record (read once a job, shared five minutes)."""
        data = (self.records.get("resource", resource_id) or {}).get("data") or {}
        return _person({("resource", resource_id): data}, {"id": resource_id, "type": "resource"}) or \
            Person(id=resource_id)

    def placed(self, snap: MissionSnapshot, timeline: list[dict]) -> MissionSnapshot:
        """The snapshot with the consultant's other missions after its end (`others`) and their first `next_start`;
        with the tenant's `chain_by = "client"`, the client of each that starts right after the end (its project,
        read once a job)."""
        items = timeline_items(timeline, self.tenant)
        if self.tenant.planning.chain_by == "client" and snap.end_date:
            soon = snap.end_date + timedelta(days=7)  # beyond any next business day: none can continue it
            items = [o.model_copy(update={"client": self._company_of(o.project)})
                     if o.project and o.start and snap.end_date <= o.start <= soon else o for o in items]
        return placed(snap, items).model_copy(update={"inactivities": inactivity_items(timeline, snap.end_date)})

    def _company_of(self, project_id: str) -> str | None:
        doc = self.records.get("project", project_id)
        return _ref_id(((doc or {}).get("data") or {}).get("relationships") or {}, "company")

    def contact(self, person_type: str, person_id: str, name: str = "") -> Contact:
        """A resource's or contact's e-mail and language; a resource's detail may lack `email1`: then its list row."""
        if person_type == "contact":
            attrs = (self.client.contact(person_id).get("data") or {}).get("attributes") or {}
        else:
            attrs = (self.client.resource(person_id).get("data") or {}).get("attributes") or {}
            if not attrs.get("email1") and name:
                row = next((r for r in self.client.resources_matching(name) if str(r.get("id")) == person_id), None)
                attrs = {**attrs, **((row or {}).get("attributes") or {})}
        return Contact(str(attrs.get("email1") or attrs.get("email2") or ""), str(attrs.get("language") or ""))

    def timeline(self, snap: MissionSnapshot) -> TimelineRead:
        """The consultant's deliveries; when Boond refuses the tab, the missions Intermission knows, and why."""
        if not snap.consultant:
            return TimelineRead([], None)
        try:
            return TimelineRead(self.client.resource_timeline(snap.consultant.id), None)
        except HostError as exc:
            if not not_offered(exc):
                raise
            note = (f"{NEXT_UNKNOWN}: GET /resources/{snap.consultant.id}/deliveries-inactivities answered "
                    f"{exc.status}; only the missions Intermission already knows are counted")
            return TimelineRead(known_timeline(SnapshotStore(self.conn, self.tenant.id), snap), note)

    def inactivity_resource(self, inactivity_id: str) -> str | None:
        """The consultant an inactivity belongs to (an `inactivity` event names only the inactivity); None once deleted."""
        try:
            doc = self.client.inactivity(inactivity_id)
        except HostNotFound:
            return None
        return _ref_id((doc.get("data") or {}).get("relationships") or {}, "resource")

    def dictionary(self) -> Dictionary:
        """The tenant's dictionary, read at most once a day (cached in Redis), parsed once per job (adapter), once
        for the threads a round's creates are sent from."""
        with self._reading:
            if self._dictionary is None:
                key = keys.host_dictionary(self.tenant.id, "boond")
                raw = self.conn.get(key) if self._dictionary_raw is _UNREAD else self._dictionary_raw
                if raw is None:
                    raw = json.dumps(self.client.dictionary())
                    self.conn.set(key, raw, ex=DICTIONARY_TTL)
                self._dictionary = Dictionary(self.tenant.id, json.loads(raw))
            return self._dictionary

    def _labels_if_unmapped(self, doc: dict) -> dict[str, str] | None:
        """The delivery state labels, read only when the state is not mapped (for the provenance)."""
        state = ((doc.get("data") or {}).get("attributes") or {}).get("state")
        if state is None or str(state) in boond_settings(self.tenant).delivery_states:
            return None
        try:
            return self.dictionary().states("delivery")
        except HostError:
            return None  # the labels kept at configure time do

    def next_start(self, snap: MissionSnapshot, timeline: list[dict]) -> date | None:
        """The consultant's next mission start, from the timeline read with the mission (see `placed`)."""
        return self.placed(snap, timeline).next_start

    def changed_since(self, since: datetime) -> list[str]:
        """Deliveries updated since `since` (Boond searches by day: a day early, then exact on `updateDate`)."""
        zone = ZoneInfo(self.tenant.timezone)
        start = (since.astimezone(zone) - timedelta(days=1)).date().isoformat()
        end = (datetime.now(zone) + timedelta(days=1)).date().isoformat()
        rows = self.client.deliveries_updated(start, end)
        return sorted({str(r["id"]) for r in rows if _updated_since(r, since)}, key=lambda i: (len(i), i))

    def missions_ending(self, start_day: date, end_day: date) -> list[str]:
        """Deliveries ending between two days, both included (the install backfill's list)."""
        rows = self.client.deliveries_ending(start_day.isoformat(), end_day.isoformat())
        return sorted({str(r.get("id")) for r in rows if _ends_between(r, start_day, end_day)}, key=lambda i: (len(i), i))

    # --- writing (ActionWriter) ------------------------------------------------------------
    def create(self, mission_id: str, action: DesiredAction) -> str:
        """POST /actions; returns the new action id."""
        return str(self.client.create_action(self.document(mission_id, action))["id"])

    def update(self, host_id: str, mission_id: str, action: DesiredAction) -> str | None:
        """PUT /actions/{id} with the new due date and texts; an action whose record changed (the mission's consultant
        was replaced) is moved instead: its new id."""
        if self._parents.get(host_id, (action.target.type, action.target.id)) != (action.target.type, action.target.id):
            return self._move(host_id, mission_id, action)
        self.client.update_action(host_id, self.document(mission_id, action))
        return None

    def _move(self, host_id: str, mission_id: str, action: DesiredAction) -> str:
        """An action's parent cannot change in Boond (`actionsBody-put`): made on the new record (adopting one a cut
        short move already made there, found by its marker), then deleted from the old one."""
        found = self.find_marked(mission_id, action.target.type, action.target.id).get(action.key)
        if found:
            self.client.update_action(found[0], self.document(mission_id, action))
        new_id = found[0] if found else self.create(mission_id, action)
        try:
            self.client.delete_action(host_id)
        except HostNotFound:
            pass
        self._parents[new_id] = (action.target.type, action.target.id)
        return new_id

    def delete(self, host_id: str) -> None:
        """DELETE /actions/{id}."""
        self.client.delete_action(host_id)

    def close(self, host_id: str, note: str, state: HostState) -> None:
        """Close an edited action its plan no longer wants: the tenant's "done" type when it has one, and a note."""
        attributes = {"text": f"{state.raw.get('text') or ''}<p>{html.escape(note, quote=False)}</p>"}
        if boond_settings(self.tenant).done_action_types:
            attributes["typeOf"] = boond_settings(self.tenant).done_action_types[0]
        self.client.update_action(host_id, {"data": {"id": host_id, "type": "action", "attributes": attributes}})

    def host_states(self, entries: dict[str, list[LedgerEntry]]) -> dict[str, dict[str, HostState]]:
        """Our actions as Boond holds them now: each target's actions tab, else the keyword search; an action neither
        found there nor on a complete tab is read by its id (a 404 there, and only there, means deleted). One whose
        reads were all refused is `unverified`: held, never judged deleted."""
        done = set(boond_settings(self.tenant).done_action_types)
        targets: dict[tuple[str, str], set[str]] = {}
        for rows_ in entries.values():
            for e in rows_:
                targets.setdefault((e.target_type, e.target_id), set()).add(e.host_id)
        rows: dict[str, dict] = {}
        unknown: set[str] = set()
        for (target_type, target_id), ids in sorted(targets.items()):
            # the searches page through the tenant's actions when Boond ignores their filter (§10): past as many
            # pages as there are ids to find, the ids left are read one by one (cheaper on a large tenant)
            read = self._actions_read(target_type, target_id, lambda found, ids=ids: ids <= found.keys(),
                                      pages=len(ids))
            for r in read.rows:
                rows[str(r.get("id"))] = r.get("attributes") or {}
                self._parents[str(r.get("id"))] = (target_type, target_id)  # what an update may have to move
            for host_id in sorted(ids - rows.keys()) if not read.complete else ():
                row = self._action_by_id(host_id)
                if row is None:
                    continue  # Boond answered 404 for the action itself: gone
                if row is False:
                    unknown.add(host_id)
                else:
                    rows[host_id] = row.get("attributes") or {}
                    self._parents[host_id] = (target_type, target_id)
        states: dict[str, dict[str, HostState]] = {}
        for mission_id, mine in entries.items():
            states[mission_id] = {e.host_id: HostState(e.host_id, _action_print(rows[e.host_id]),
                                                       _type(rows[e.host_id]) in done, raw=rows[e.host_id])
                                  for e in mine if e.host_id in rows}
            states[mission_id].update({e.host_id: HostState.unverified(e.host_id) for e in mine if e.host_id in unknown})
        return states

    def _action_by_id(self, host_id: str) -> dict | None | bool:
        """GET /actions/{id}: the row; None when Boond says 404 (gone); False when the read was refused otherwise."""
        try:
            return self.client.action(host_id)
        except HostNotFound:
            return None
        except HostError as exc:
            if not_offered(exc):
                return False
            raise

    def _actions_read(self, target_type: str, target_id: str, enough, *, pages: int = MAX_PAGES) -> ActionsRead:
        """A record's actions by the first read that answers: its actions tab (complete), else the keyword search
        when it found `enough`, else the full paged /actions filtered on the record (complete when the pages reached
        Boond's total); the two searches read at most `pages` pages each. Refusals (403/404/405/501) pass to the
        next read; what every read found is kept."""
        try:
            return self.client.actions_tab(target_type, target_id)
        except HostError as exc:
            if not not_offered(exc):
                raise
            refused = [f"GET /{target_type}s/{target_id}/actions answered {exc.status}"]
        found: dict[str, dict] = {}
        if target_type in KEYWORD_PREFIX:
            try:
                found.update({str(r.get("id")): r for r in self.client.searched_actions(target_type, target_id,
                                                                                        pages=pages)})
            except HostError as exc:
                if not not_offered(exc):
                    raise
                refused.append(f"GET /actions?keywords= answered {exc.status}")
            if found and enough(found):
                return ActionsRead(list(found.values()), False, "GET /actions?keywords=")
        try:
            listing = self.client.listed_actions(target_type, target_id, pages=pages)
        except HostError as exc:
            if not not_offered(exc):
                raise
            refused.append(f"GET /actions answered {exc.status}")
            return ActionsRead(list(found.values()), False, "; ".join(refused))
        found.update({str(r.get("id")): r for r in listing.rows})
        return ActionsRead(list(found.values()), listing.complete, listing.via)

    def fingerprint(self, mission_id: str, action: DesiredAction) -> str:
        """What Boond will show of this action once written (compared with the action read back later)."""
        return _action_print(self.document(mission_id, action)["data"]["attributes"])

    def find_marked(self, mission_id: str, target_type: str, target_id: str) -> dict[str, list[str]]:
        """Our actions on the target, by step key; CannotVerify (with what was found) when no complete listing of the
        target's actions could be read: a key absent then is not known to be absent."""
        read = self._actions_read(target_type, target_id, lambda found: False)
        found: dict[str, list[str]] = {}
        for row in read.rows:
            for m_id, key in MARKER.findall((row.get("attributes") or {}).get("text") or ""):
                if m_id == mission_id:
                    found.setdefault(key, []).append(str(row["id"]))
        if not read.complete:
            raise CannotVerify(f"the actions of {target_type} {target_id} could not all be read ({read.via})", found)
        return found

    def document(self, mission_id: str, action: DesiredAction) -> dict:
        """The JSON:API body of a Boond action, built once a job (its fingerprint and its write both need it)."""
        kept = self._bodies.get(id(action))
        if kept is not None and kept[0] == mission_id and kept[1] is action:
            return kept[2]
        body = self._document(mission_id, action)
        if len(self._bodies) >= BODIES_KEPT:  # an adapter that lives longer than a job (a backfill pass) stays small
            self._bodies.clear()
        self._bodies[id(action)] = (mission_id, action, body)  # the action kept too: its id is not reused meanwhile
        return body

    def _document(self, mission_id: str, action: DesiredAction) -> dict:
        attributes = {"typeOf": self.type_of(action), "title": action.title[:8192],
                      "text": render_text(action.text, marker(mission_id, action.key)),
                      "startDate": boond_datetime(action.due, self.tenant.timezone)}
        relationships = {"dependsOn": {"data": {"id": action.target.id, "type": action.target.type}}}
        if action.assignee:
            relationships["mainManager"] = {"data": {"id": action.assignee.id, "type": "resource"}}
        return {"data": {"type": "action", "attributes": attributes, "relationships": relationships}}

    def type_of(self, action: DesiredAction) -> int:
        """The tenant's action type for this kind on this entity: configured, else its "Note" for a written-back
        survey answer, else its "Rappel / To do"."""
        cfg = boond_settings(self.tenant)
        mapping = cfg.contact_action_types if action.target.type == "contact" else cfg.action_types
        if action.kind in mapping:
            return mapping[action.kind]
        if action.kind == "note":
            note = self._labelled(self._usable_types(action.target.type), NOTE_LABEL)
            if note is not None:
                return note
        if "default" in mapping:
            return mapping["default"]
        return self._detected_type(action.target.type)

    def _usable_types(self, entity: str) -> list[dict]:
        """The entity's action types (either dictionary shape), notifications left out."""
        return [t for t in self.dictionary().action_types(entity) if not t.get("isNotification")]

    @staticmethod
    def _labelled(types: list[dict], label: re.Pattern) -> int | None:
        return next((int(t["id"]) for t in types if label.search(str(t.get("value", "")))), None)

    def _detected_type(self, entity: str) -> int:
        usable = self._usable_types(entity)
        reminder = self._labelled(usable, REMINDER_LABEL)
        if reminder is not None:
            return reminder
        if usable:
            return int(usable[0]["id"])
        raise HostNotFound(f"no action type for {entity} in the tenant's dictionary; set one in the tenant mapping",
                           host="boond")


def snapshot_from_delivery(tenant: Tenant, doc: dict, *, labels: dict[str, str] | None = None) -> MissionSnapshot:
    """Map GET /deliveries/{id} (with `included`, completed when thin) to a snapshot; `labels`: delivery states."""
    data = doc.get("data") or {}
    attrs, rels = data.get("attributes") or {}, data.get("relationships") or {}
    inc = {(i.get("type"), str(i.get("id"))): i for i in doc.get("included") or []}
    project = _follow(inc, rels, "project")
    p_rels = (project or {}).get("relationships") or {}
    consultant = _person(inc, _ref(rels, "dependsOn"))
    resource = inc.get(("resource", consultant.id)) if consultant else None
    opportunity = _follow(inc, p_rels, "opportunity")
    company = _follow(inc, p_rels, "company")
    o_rels, r_rels = (opportunity or {}).get("relationships") or {}, (resource or {}).get("relationships") or {}
    raw_state = None if attrs.get("state") is None else str(attrs.get("state"))
    status, note = delivery_status(tenant, raw_state, labels)
    manager = _person(inc, _ref(p_rels, "mainManager"))
    return MissionSnapshot(
        tenant=tenant.id, host="boond", mission_id=str(data.get("id")), title=attrs.get("title") or "",
        start_date=day(attrs.get("startDate")), end_date=day(attrs.get("endDate")),
        status="deleted" if attrs.get("isDeleted") is True else status, raw_state=raw_state, state_note=note,
        consultant=consultant if consultant and consultant.type == "resource" else None,
        manager=manager,
        business_engineer=_person(inc, _ref(o_rels, "mainManager")) or manager,  # else the project's owner
        hr=_person(inc, _ref(r_rels, "hrManager")),
        consultant_manager=_person(inc, _ref(r_rels, "mainManager")),
        consultant_left=resource_left(tenant, resource), contract_end=resource_leaving_on(tenant, resource),
        consultant_staffed=resource_state(tenant, resource) == "staffed",
        consultant_external=resource_external(tenant, resource),
        client_contact=_person(inc, _ref(p_rels, "contact")) or _person(inc, _ref(o_rels, "contact")),
        client_name=((company or {}).get("attributes") or {}).get("name", ""),
        project_id=_ref_id(rels, "project"), client_id=_ref_id(p_rels, "company"),
        occupation=percent(attrs.get("occupationRate")),
        daily_cost=positive_amount(attrs.get("averageDailyCost")))


class DeliveryStatus(NamedTuple):
    """A delivery's snapshot status, and a note when its Boond state is not mapped."""

    status: str
    note: str | None


def delivery_status(tenant: Tenant, raw_state: str | None, labels: dict[str, str] | None = None) -> DeliveryStatus:
    """(snapshot status, note): the tenant's confirmed mapping; an unmapped state is natural, and says so."""
    case = boond_settings(tenant).delivery_states.get(raw_state or "")
    if case in ("client", "consultant", "cancelled"):
        return DeliveryStatus(case, None)
    if case is not None or raw_state is None:
        return DeliveryStatus("active", None)
    label = (labels or {}).get(raw_state) or boond_settings(tenant).state_labels.get("delivery", {}).get(raw_state)
    return DeliveryStatus("active", f"state {raw_state} ({label or 'no label known'}) not mapped")


def resource_left(tenant: Tenant, resource: dict | None) -> bool:
    """True when the consultant's resource state is one the tenant maps to "left" (Sortie), or to "leaving" without a
    date the host gives (then left now)."""
    case = resource_state(tenant, resource)
    return case == "left" or (case == "leaving" and resource_leaving_on(tenant, resource) is None)


def resource_leaving_on(tenant: Tenant, resource: dict | None) -> date | None:
    """The day a "leaving" consultant leaves, when the resource carries one (EXIT_DATE_FIELDS): a leaver for the
    missions ending by then (classify.is_leaver), not for later ones."""
    if resource_state(tenant, resource) != "leaving":
        return None
    attrs = (resource or {}).get("attributes") or {}
    return next((found for found in (day(attrs.get(name)) for name in EXIT_DATE_FIELDS) if found), None)


def resource_state(tenant: Tenant, resource: dict | None) -> str | None:
    """The tenant's meaning of the consultant's resource state (active, bench, staffed, leaving, left), None when
    unmapped."""
    state = ((resource or {}).get("attributes") or {}).get("state")
    return None if state is None else boond_settings(tenant).resource_states.get(str(state))


def resource_external(tenant: Tenant, resource: dict | None) -> bool:
    """True when the consultant's resource type is one the tenant lists as external (subcontractor, freelance)."""
    kind = ((resource or {}).get("attributes") or {}).get("typeOf")
    return kind is not None and str(kind) in boond_settings(tenant).external_resource_types


def known_timeline(store: SnapshotStore, snap: MissionSnapshot) -> list[dict]:
    """The consultant's missions Intermission already knows, shaped like timeline items (the refused-tab fallback)."""
    known = [store.get(m) for m in sorted(store.missions_of(snap.consultant.id) - {snap.mission_id})]
    return [{"id": s.mission_id, "type": "delivery",
             "relationships": {"project": {"data": {"id": s.project_id, "type": "project"} if s.project_id else None}},
             "attributes": {"startDate": s.start_date.isoformat() if s.start_date else "",
                            "endDate": s.end_date.isoformat() if s.end_date else "", "state": s.raw_state,
                            "title": s.title, "isDeleted": s.status == "deleted"}}
            for s in [*known, snap] if s is not None and s.consultant and s.consultant.id == snap.consultant.id]


def timeline_items(timeline: list[dict], tenant: Tenant) -> list[OtherMission]:
    """The consultant's active deliveries (id, title, start, end, occupation when the list carries it)."""
    items = []
    for item in timeline:
        attrs = item.get("attributes") or {}
        if item.get("type") != "delivery" or attrs.get("isDeleted") is True:
            continue
        if boond_settings(tenant).delivery_states.get(str(attrs.get("state")), "active") not in ("active", "natural"):
            continue
        items.append(OtherMission(id=str(item.get("id")), title=str(attrs.get("title") or ""),
                                  start=day(attrs.get("startDate")), end=day(attrs.get("endDate")),
                                  occupation=percent(attrs.get("occupationRate")),
                                  project=_ref_id(item.get("relationships") or {}, "project")))
    return items


def inactivity_items(timeline: list[dict], after: date | None) -> list[Inactivity]:
    """The consultant's internal inactivities still running after `after` (a mission's end), at most MAX_INACTIVITIES,
    by start.

    The type is the item's `typeOf` (ASSUMPTION [INF], docs/SANDBOXES.md: the tenant's own inactivity types, labelled
    in the dictionary's `setting.typeOf.inactivity`), else its documented `inactivityType` ("internal", "absence")."""
    items = []
    for item in timeline:
        attrs = item.get("attributes") or {}
        if item.get("type") != "inactivity" or attrs.get("isDeleted") is True or attrs.get("inactivityType") == "absence":
            continue  # an absence (leave, sickness) is no bench activity: not kept (the snapshot stays small)
        start, end = day(attrs.get("startDate")), day(attrs.get("endDate"))
        kind = attrs.get("typeOf") if attrs.get("typeOf") not in (None, "") else attrs.get("inactivityType")
        if start is None or kind in (None, "") or (after is not None and end is not None and end <= after):
            continue
        items.append(Inactivity(type=str(kind), start=start, end=end))
    return sorted(items, key=lambda i: (i.start, i.type))[:MAX_INACTIVITIES]


def _action_print(attributes: dict) -> str:
    """The fingerprint of an action's person-visible fields: type, title, text and day (as sent or read back)."""
    return fingerprint(_type(attributes), attributes.get("title"), attributes.get("text"),
                       str(attributes.get("startDate") or "")[:10])


def _type(attributes: dict) -> int | None:
    try:
        return int(attributes.get("typeOf"))
    except (TypeError, ValueError):
        return None



def render_text(text: str, tag: str) -> str:
    """Plain playbook text as Boond HTML, with the recovery marker as its last line."""
    paragraphs = "".join(f"<p>{html.escape(p.strip())}</p>" for p in text.split("\n\n") if p.strip())
    return f"{paragraphs}<p><small>{html.escape(tag)}</small></p>"


def boond_datetime(day: date, timezone: str, hour: int = 9) -> str:
    """`2026-05-31T09:00:00+0200`: Boond's format, offset without a colon."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M:%S%z")


def _ref(rels: dict, name: str) -> dict | None:
    data = (rels.get(name) or {}).get("data")
    return data if isinstance(data, dict) and data.get("id") is not None else None


def _ref_id(rels: dict, name: str) -> str | None:
    ref = _ref(rels, name)
    return str(ref["id"]) if ref else None


def _follow(inc: dict, rels: dict, name: str) -> dict | None:
    ref = _ref(rels, name)
    return inc.get((ref.get("type"), str(ref.get("id")))) if ref else None


def _person(inc: dict, ref: dict | None) -> Person | None:
    if not ref:
        return None
    attrs = (inc.get((ref.get("type"), str(ref.get("id")))) or {}).get("attributes") or {}
    name = " ".join(x for x in (attrs.get("firstName"), attrs.get("lastName")) if x) or attrs.get("name", "")
    return Person(id=str(ref["id"]), type=str(ref.get("type") or "resource"), name=name)


def _updated_since(row: dict, since: datetime) -> bool:
    """True when a search row's `updateDate` is at or after `since`, or cannot be read (then re-read it anyway)."""
    stamp = (row.get("attributes") or {}).get("updateDate") or ""
    try:
        return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S%z") >= since.replace(microsecond=0)
    except ValueError:
        return True


def _ends_between(row: dict, start_day: date, end_day: date) -> bool:
    """Re-filter a search row client-side (Boond ignores filters it does not know); unreadable: kept."""
    value = str((row.get("attributes") or {}).get("endDate") or "")[:10]
    try:
        return start_day <= date.fromisoformat(value) <= end_day
    except ValueError:
        return bool(row.get("id"))


