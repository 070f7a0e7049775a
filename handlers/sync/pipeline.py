"""The one per-mission pipeline: carry what earlier reads knew, classify, plan (surveys included), reconcile, save.

A single job (Boond), a tenant batch (Salesforce) and a dry-run preview all go through `prepare`, and every write
goes through one `Round` of the reconciler, so the preview, a job and a batch cannot disagree on a mission's case,
reason or actions.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Callable, NamedTuple

import redis

from config import keys, tenants
from config.playbook import Playbook, default_playbook, load_playbook
from config.settings import get_settings
from handlers.surveys import mail as survey_mail, records as surveys
from handlers.domain.classify import carry, classify, taken_over, wakeup
from handlers.hosts.registry import host_of
from handlers.domain.matching import with_replacements
from handlers.intake.ingest import enqueue_match, enqueue_resource_sync, enqueue_sync
from handlers.state import day_load, replacements
from handlers.state.ledger import SETTLED, ActivityLog, Ledger, LedgerEntry, entries_of
from handlers.domain.model import Classification, DesiredAction, MissionSnapshot
from handlers.domain.owners import name_or_why
from handlers.domain.plan import Held, draft, fixed, plan
from handlers.domain.plan_surveys import SurveyInputs, next_reminder_day
from handlers.sync.reconcile import MissionWork, Reconciler, Round, diff
from handlers.domain.rules import Rules
from handlers.state.store import SnapshotStore, schedule_wakeup
from handlers.intake.telemetry import count_actions


@lru_cache(maxsize=256)
def _playbook(overrides_json: str) -> Playbook:
    overrides = json.loads(overrides_json) or None
    return load_playbook(overrides=overrides) if overrides else default_playbook()  # parsed before any fork


def playbook_for(tenant: tenants.Tenant) -> Playbook:
    """The default playbook with the tenant's overrides applied (validated, cached)."""
    return _playbook(json.dumps(tenant.playbook_overrides, sort_keys=True))


@dataclass
class MissionPlan:
    """Everything the pipeline decided for one mission: its case, its plan and why."""

    tenant: tenants.Tenant
    prev: MissionSnapshot | None
    current: MissionSnapshot
    found: Classification
    base: list[DesiredAction]
    surveys: SurveyInputs
    desired: list[DesiredAction]
    trigger: dict
    today: date
    held: dict[str, Held] = field(default_factory=dict)

    @property
    def mission_id(self) -> str:
        """The mission's host id."""
        return self.current.mission_id

    def provenance(self) -> dict:
        """Why these actions: the trigger, the case and the change, as the activity log keeps it."""
        previous = self.prev.end_date if self.prev else None
        return {"trigger": {k: v for k, v in self.trigger.items() if k != "n"}, "case": self.found.case,
                "reason": self.found.reason, "unsure": self.found.unsure,
                "change": f"{previous} → {self.current.end_date}"}

    def fixed(self) -> list[DesiredAction]:
        """The actions no other mission's late steps can move (a backfill's first pass counts them)."""
        return fixed(self.desired, self.held, self.today)

    def wake(self) -> date | None:
        """When time alone will change this plan (bench start, a check-in week, the next start, a survey reminder)."""
        days = (wakeup(self.current, self.found, self.today),
                next_reminder_day(self.base, self.surveys, self.today, country=self.tenant.country, subdivision=self.tenant.subdivision))
        return min((d for d in days if d), default=None)


class Stored(NamedTuple):
    """What Redis keeps of one mission, read with the job's other missions in one round trip (`stored`)."""

    prev: MissionSnapshot | None
    ledger: dict[str, LedgerEntry]
    surveys: dict[bytes, bytes]  # the surveys hash as read


def stored(conn: redis.Redis, tenant_id: str, mission_ids: list[str]) -> dict[str, Stored]:
    """Each mission's snapshot, ledger and surveys, all read in one round trip (what `prepare` reads of each)."""
    pipe = conn.pipeline(transaction=False)
    return stored_on(pipe, tenant_id, mission_ids)(pipe.execute())


def stored_on(pipe, tenant_id: str, mission_ids: list[str]) -> Callable[[list], dict[str, Stored]]:
    """Queue `stored`'s reads on `pipe` (as many answers as `3 * len(mission_ids)`, in order); returns what turns
    those answers into `stored`'s result (the job's lock sends them with its own, handlers/sync/jobs.py)."""
    store = SnapshotStore(pipe, tenant_id)
    for mission_id in mission_ids:
        store.read(pipe, mission_id)
        pipe.hgetall(keys.ledger(tenant_id, mission_id))
        pipe.hgetall(surveys.key_of(tenant_id, mission_id))

    def decoded(answers: list) -> dict[str, Stored]:
        return {m: Stored(store.decoded(m, answers[3 * n]), entries_of(answers[3 * n + 1]), answers[3 * n + 2])
                for n, m in enumerate(mission_ids)}

    return decoded


def prepare(conn: redis.Redis, tenant: tenants.Tenant, prev: MissionSnapshot | None,
            *, current: MissionSnapshot | None, trigger: dict, today: date, write: bool = True,
            load: day_load.DayLoad | None = None, kept: Stored | None = None) -> MissionPlan | None:
    """Classify and plan one mission as just read (None: deleted in the host); `write=False` for a dry run.

    Within a backfill run (the trigger names it, or `load` is given: the set-up flow's forecast), the late steps are
    spread around what the run's other missions hold, and the mission's share of the run's load is recorded.
    `kept`: what `stored` read of the mission already (its ledger and surveys are not read again)."""
    if current is None:
        if prev is None:
            return None
        current = prev.model_copy(update={"status": "deleted"})
    current = carry(prev, current, today)
    rules = Rules.of(tenant, host_of(tenant).owner_type)
    found = classify(prev, current, today, rules=rules)
    held = {k: Held(e.nominal_due, e.due, e.status in SETTLED)
            for k, e in (kept.ledger if kept else Ledger(conn, tenant.id, current.mission_id).entries()).items()}
    options: dict = {"language": tenant.language, "rules": rules, "held": held}
    book = playbook_for(tenant)
    drafted = draft(current, found, book, today=today, **options)  # planned twice below: without, then with surveys
    load = load or (day_load.of_run(conn, tenant.id, trigger) if write else None)
    if load is not None:  # the people this mission's steps go to, then what the run gave them already
        options["taken"] = load.taken(current.mission_id, {a.assignee.id if a.assignee else None for a in drafted})
    options["drafted"] = drafted
    base = plan(current, found, book, today=today, **options)
    asked = survey_inputs(conn, tenant, current, base=base, today=today, create=write,
                          read=kept.surveys if kept else None)
    # no survey yet: the surveys add nothing (plan_surveys.with_surveys), so the plan is the one just made
    desired = plan(current, found, book, today=today, surveys=asked, **options) if asked.states else base
    if tenant.matching.enabled and found.end_case == "consultant":  # issue #29: who could replace them
        desired = with_replacements(desired, replacements.load(conn, tenant.id, current.mission_id), tenant.language)
    if load is not None:
        load.record(current.mission_id, desired)
    return MissionPlan(tenant, prev, current, found, base, asked, desired, trigger, today, held)


def reconcile(conn: redis.Redis, tenant: tenants.Tenant, writer, *, plans: list[MissionPlan],
              ledgers: dict[str, dict[str, LedgerEntry]] | None = None) -> dict[str, dict]:
    """Write every plan's difference in one round, then keep each snapshot and its next wake-up.

    `ledgers`: missions whose ledger the caller read while holding their consultant's lock (the round reads the
    others' itself)."""
    works = [MissionWork(reconciler_for(conn, tenant, writer, mission_id=p.mission_id, provenance=p.provenance()),
                         p.desired, ledger=(ledgers or {}).get(p.mission_id)) for p in plans]
    store = SnapshotStore(conn, tenant.id)

    def keep(pipe) -> None:  # every snapshot and wake-up, in the round's last transaction (with its answers)
        for p in plans:
            store.save(p.current, pipe=pipe)
            schedule_wakeup(pipe, tenant.id, p.mission_id, day=p.wake())

    try:
        Round(works, writer, then=keep).run()
    finally:
        for work in works:  # what reached the host, even when the rest failed
            count_actions(tenant.host, work.run.counts)
    survey_mail.after_reconcile(conn, tenant, plans)  # issue #17: queue the survey e-mails now due
    for consultant_id, mission_id in sorted(replaced(plans).items()):  # their bench comes from their other missions
        enqueue_resource_sync(conn, tenant.id, consultant_id, trigger={"kind": "replacement", "mission": mission_id})
    for mission_id, other in taking_over(store, plans):  # a new mission replacing an early end: that one names it
        enqueue_sync(conn, tenant.id, other, trigger={"kind": "replacement", "mission": mission_id})
    if tenant.matching.runs and any(p.prev is None or _availability(p.prev) != _availability(p.current) for p in plans):
        enqueue_match(conn, tenant.id, "mission", trigger={"kind": "availability"})  # issue #29: who comes back, and when
    return {w.run.mission_id: {"case": p.found.case, **w.run.counts} for w, p in zip(works, plans)}


def replaced(plans: list[MissionPlan]) -> dict[str, str]:
    """The consultants who left a mission for another consultant (a replacement, a swap): their id → that mission."""
    out = {}
    for p in plans:
        before, now = p.prev.consultant if p.prev else None, p.current.consultant
        if before is not None and (now is None or now.id != before.id):
            out[before.id] = p.mission_id
    return out


def taking_over(store: SnapshotStore, plans: list[MissionPlan]) -> list[tuple[str, str]]:
    """(new mission, known early end it may take over) for each mission first seen in this round (`taken_over`)."""
    return [(p.mission_id, other) for p in plans if p.prev is None
            for other in taken_over(p.current, Rules.of(p.tenant, host_of(p.tenant).owner_type))
            if store.get(other) is not None]


def _availability(snap: MissionSnapshot) -> tuple:
    """What a mission tells the matching about its consultant's availability."""
    return snap.end_date, snap.next_start, snap.status, snap.consultant_left, snap.consultant


def reconciler_for(conn: redis.Redis, tenant: tenants.Tenant, writer, *, mission_id: str,
                   provenance: dict) -> Reconciler:
    """One mission's reconciler, with the tenant's language and its rule for edited actions."""
    return Reconciler(Ledger(conn, tenant.id, mission_id), writer, ActivityLog(conn, tenant.id), mission_id,
                      provenance, host=tenant.host, language=tenant.language,
                      edited_on_cancel=tenant.edited_on_cancel)


def dry_run(conn: redis.Redis, p: MissionPlan) -> list[dict]:
    """Each desired action with the operation reconciling it would need, and the cancels (nothing written)."""
    ledger = Ledger(conn, p.tenant.id, p.mission_id).entries()
    ops = {op.key: op.kind for op in diff(p.desired, ledger, close_kept=p.tenant.edited_on_cancel == "close")}
    named = {a.key: name_or_why(a.assignee, p.tenant.language) for a in p.desired}
    rows = [{"op": ops.get(a.key, _settled(ledger, a.key)), "key": a.key, "step_id": a.step_id, "due": a.due,
             "nominal_due": a.nominal_due, "late": a.late, "assignee_role": a.assignee_role,
             "assignee": named[a.key][0], "assignee_why": named[a.key][1], "title": a.title} for a in p.desired]
    rows += [{"op": "cancel", "key": k, "step_id": ledger[k].step_id, "due": None, "nominal_due": None,
              "late": False, "assignee_role": "", "assignee": None, "assignee_why": "", "title": ""}
             for k, kind in ops.items() if kind == "cancel"]
    return rows


def _settled(ledger: dict, key: str) -> str:
    entry = ledger.get(key)
    return "kept" if entry is not None and entry.status in SETTLED else "unchanged"


def survey_inputs(conn: redis.Redis, tenant: tenants.Tenant, current: MissionSnapshot, *, base: list, today: date,
                  create: bool = True, read: dict | None = None) -> SurveyInputs:
    """The mission's surveys for the planner: made for the plan's survey steps when missing (read-only: previews);
    `read`: the surveys hash as the job read it already."""
    survey_steps = [a for a in base if a.kind == "survey"]
    found = (surveys.ensure(conn, tenant, current, survey_actions=survey_steps, today=today, read=read) if create
             else surveys.states(conn, tenant.id, current.mission_id))
    return SurveyInputs.of(tenant, found, get_settings().public_base_url)
