"""A tenant's matching run: the consultants on or coming back to the bench (the forecast), the open opportunities
and everyone's skills read from the host, ranked (handlers.domain.matching), then written where business engineers
work: ONE task per opportunity, on the opportunity, for its business engineer, listing its consultants best first.

Writes go through the reconciler and the ledger like every playbook step (ledger id `opportunity.<id>`, step
`match.suggestions`), so a replay changes nothing, a new ranking updates the task rather than adding one, what a
person did to it is kept, and an opportunity no longer open (won, lost, closed) has its untouched task withdrawn.
The run is tenant-wide and re-reads everything, so events in any order and any number converge to one state.
The same run writes each business engineer's digest (handlers.reports.digest, ledger `digest.<id>`) when the
tenant sets a cadence, and schedules itself for the next digest day.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import redis
from rq.exceptions import DuplicateJobError

from config import keys, tenants
from config.infra.redis_conn import get_redis
from config.settings import get_settings
from config.infra import clock
from handlers.sync import locks
from handlers.intake.queues import get_queue
from handlers.reports.bench_data import money_of, snapshots
from handlers.reports.digest import STEP as DIGEST, cadence_day, digest
from handlers.reports.forecast import Return, forecast
from handlers.state.ledger import SETTLED, Ledger, LedgerEntry
from handlers.domain.calendar import next_business_day_on_or_after
from handlers.hosts.registry import adapter_for, host_of
from handlers.domain.matching import Candidate, Match, Need, Opening, rank
from handlers.intake.ingest import enqueue_sync
from handlers.state.replacements import save as saved_replacements
from handlers.domain.model import DesiredAction, MissionSnapshot, Person
from handlers.sync.pipeline import reconciler_for
from handlers.sync.reconcile import MissionWork, Round

STEP = "match.suggestions"
OPEN = ("written", "intent", "cancelling")  # ledger states that may still change in the host
MAX_LINES = 10  # consultants listed in one opportunity's task
REPLACEMENT_LINES = 5  # replacement candidates listed in a "find a replacement" step
TEXTS = {
    "fr": {"title": "Consultants disponibles pour « {title} »",
           "intro": "Ces consultants sont en intercontrat ou y reviennent bientôt, et leurs compétences "
                    "correspondent à cette opportunité (les meilleurs d'abord) :",
           "outro": "Proposez-les au client ou positionnez-les. Cette liste suit les dates et les opportunités : "
                    "elle est mise à jour ici, jamais dupliquée."},
    "en": {"title": "Consultants available for “{title}”",
           "intro": "These consultants are on the bench or coming back soon, and their skills fit this "
                    "opportunity (best first):",
           "outro": "Put them forward to the client or position them. This list follows the dates and the "
                    "opportunities: it is updated here, never duplicated."},
}


def ledger_id(opportunity_id: str, part: str = "opportunity") -> str:
    """The ledger (and marker) name of an opportunity's suggestions task (`opportunity.<id>`) or positionings
    (`positioning.<id>`)."""
    return f"{part}.{opportunity_id}"


def match_tenant(tenant_id: str, entity: str, trigger: dict) -> dict:
    """The rq job: one tenant's matching run (skipped unless the tenant turned matching on); `entity`: what changed."""
    conn = get_redis()
    tenant = tenants.get(tenant_id, clearing=keys.match_pending(tenant_id))  # a change from now on queues anew
    if not tenants.may_run_jobs(tenant) or tenant is None:
        return {"skipped": "tenant unknown or disabled"}
    if not tenant.matching.runs:
        return {"skipped": "matching and the digest are off for this tenant"}
    with locks.held(conn, keys.match_lock(tenant_id), ttl=get_settings().job_timeout_seconds):
        return run(conn, tenant, trigger, today=clock.today(tenant.timezone))


def run(conn: redis.Redis, tenant: tenants.Tenant, trigger: dict, *, today: date) -> dict:
    """Read, rank and write; the counts of what each opportunity's (and business engineer's) task became."""
    offered = host_of(tenant).matching
    if offered is None:
        return {"skipped": f"matching is not offered on {host_of(tenant).label} yet"}
    host = offered(adapter_for(tenant, conn))
    snaps = snapshots(conn, tenant.id)
    people = forecast(snaps, money_of(tenant), today, country=tenant.country).available
    desired: dict[str, list[DesiredAction]] = {}
    if tenant.matching.enabled:
        host = _Profiles(host)  # each consultant's skills read once a run, whatever needs them
        desired.update(suggestions(tenant, host, people, today=today, positioned=offered.positionings))
        replace(conn, tenant, host, people=people, snaps=snaps, today=today)
    if tenant.matching.digest_every_days:
        desired.update(digests(conn, tenant, people, by_mission={s.mission_id: s for s in snaps}, today=today))
        schedule_next_digest(tenant, today)
    return write(conn, tenant, host.writers(), desired=desired, trigger=trigger)


def suggestions(tenant: tenants.Tenant, host, people: list[Return], *, today: date, positioned: bool) -> dict[str, list[DesiredAction]]:
    """Ledger id → desired actions: each open opportunity's task (and positionings) from the ranking."""
    openings = {o.need.id: o for o in host.openings()}
    earliest = {p.consultant_id: p for p in reversed(people)}  # one each, their earliest bench period
    profiles = host.profiles(list(earliest)) if openings else {}
    candidates = [_candidate(p, profiles) for p in earliest.values()]
    found = rank(candidates, [o.need for o in openings.values()], today, per_consultant=tenant.matching.per_consultant)
    names = {c.id: c.name for c in candidates}
    desired = {ledger_id(need_id): [suggestion(openings[need_id], rows, names, tenant=tenant, today=today)]
               for need_id, rows in found.items()}
    if tenant.matching.positionings and positioned:
        desired.update({ledger_id(need_id, "positioning"): positionings(openings[need_id], rows, names, tenant=tenant, today=today)
                        for need_id, rows in found.items()})
    return desired


class _Profiles:
    """The host's matching side, its `profiles` remembered for the run."""

    def __init__(self, host):
        self.host = host
        self.known: dict = {}

    def __getattr__(self, name: str):
        return getattr(self.host, name)

    def profiles(self, ids: list[str]) -> dict:
        """Consultant id → (skills, places), each read from the host once."""
        missing = [i for i in ids if i not in self.known]
        if missing:
            self.known.update(self.host.profiles(missing))
        return {i: self.known[i] for i in ids if i in self.known}


def _candidate(person: Return, profiles: dict) -> Candidate:
    skills, places = profiles.get(person.consultant_id, ((), ()))
    return Candidate(person.consultant_id, person.name, skills, person.first_day, person.until, places)


def replace(conn: redis.Redis, tenant: tenants.Tenant, host, *, people: list[Return], snaps: list[MissionSnapshot],
            today: date) -> None:
    """For each open mission its consultant ends early, the consultants on or coming to the bench whose skills match
    the leaver's, best first; kept for the mission's "find a replacement" step, which is planned again when they
    change (point 3 of #29)."""
    leaving = [s for s in snaps if s.status == "consultant" and s.consultant and s.end_date and s.end_date >= today]
    if not leaving:
        return
    earliest = {p.consultant_id: p for p in reversed(people)}
    profiles = host.profiles(sorted(set(earliest) | {s.consultant.id for s in leaving if s.consultant}))
    for snap in leaving:
        leaver = snap.consultant.id if snap.consultant else ""
        need = Need(snap.mission_id, snap.title, profiles.get(leaver, ((), ()))[0], snap.end_date + timedelta(days=1))
        candidates = [_candidate(p, profiles) for p in earliest.values() if p.consultant_id != leaver]
        found = rank(candidates, [need], today, per_consultant=1).get(snap.mission_id, [])[:REPLACEMENT_LINES]
        names = {c.id: c.name for c in candidates}
        lines = [f"{names.get(m.candidate) or m.candidate} — {m.reason(tenant.language)}" for m in found]
        if saved_replacements(conn, tenant.id, snap.mission_id, lines=lines):
            enqueue_sync(conn, tenant.id, snap.mission_id, trigger={"kind": "replacements"})


def digests(conn: redis.Redis, tenant: tenants.Tenant, people: list[Return], *, by_mission: dict[str, MissionSnapshot],
            today: date) -> dict[str, list[DesiredAction]]:
    """Ledger id → desired: each business engineer's digest of their consultants coming back (step 3 of #29)."""
    mine: dict[str, tuple[Person, list[Return]]] = {}
    for person in people:
        snap = by_mission.get(person.mission_id)
        owner = (snap.business_engineer if snap else None) or _default_owner(tenant)
        if owner is not None:
            mine.setdefault(owner.id, (owner, []))[1].append(person)
    every, out = tenant.matching.digest_every_days, {}
    for owner_id, (owner, rows) in mine.items():
        name = ledger_id(owner_id, "digest")
        key = digest_key(Ledger(conn, tenant.id, name).entries(), cadence_day(today, every))
        out[name] = [digest(rows, owner, today, key=key, language=tenant.language, every_days=every,
                            country=tenant.country, subdivision=tenant.subdivision)] if key else []
    return out


def digest_key(entries: dict[str, LedgerEntry], day: date) -> str | None:
    """The open digest's key; once someone settled it, none until the next digest day, then a new one."""
    written = [e for e in entries.values() if e.step_id == DIGEST]
    still = [e.key for e in written if e.status not in SETTLED]
    if still:
        return still[0]
    settled = [e for e in written if e.status in SETTLED]
    if settled and max(e.nominal_due for e in settled) >= day:
        return None
    return f"{DIGEST}#{len(settled) + 1}"


def schedule_next_digest(tenant: tenants.Tenant, today: date) -> None:
    """A run on the next digest day (once per tenant and day, whatever number of runs ask)."""
    day = cadence_day(today, tenant.matching.digest_every_days) + timedelta(days=tenant.matching.digest_every_days)
    when = datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(tenant.timezone)) + timedelta(hours=6)
    try:
        get_queue().enqueue_at(when, "handlers.sync.matching.match_tenant", tenant.id, "digest",
                               {"kind": "scheduler", "request_id": f"digest-{day}"},
                               job_id=f"match-digest-{tenant.id}-{day.isoformat()}", unique=True)
    except DuplicateJobError:
        pass


def suggestion(opening: Opening, rows: list[Match], names: dict[str, str], *, tenant: tenants.Tenant,
               today: date) -> DesiredAction:
    """The one task of an opportunity: its consultants best first, each with the reason in words."""
    words = TEXTS[tenant.language]
    lines = [f"{n}. {names.get(m.candidate) or m.candidate} — {m.reason(tenant.language)}"
             for n, m in enumerate(rows[:MAX_LINES], 1)]
    nominal = min(m.free_from for m in rows)  # the first of them free: propose them before
    due = max(nominal, next_business_day_on_or_after(today, tenant.country, tenant.subdivision))
    owner = opening.owner or _default_owner(tenant)
    return DesiredAction(key=STEP, step_id=STEP, kind="task", assignee_role="business_engineer", assignee=owner,
                         target=opening.record, nominal_due=nominal, due=due, late=nominal < today,
                         title=words["title"].format(title=opening.need.title or opening.record.id)[:250],
                         text="\n\n".join([words["intro"], "\n".join(lines), words["outro"]]), case="matching")


def positionings(opening: Opening, rows: list[Match], names: dict[str, str], *, tenant: tenants.Tenant,
                 today: date) -> list[DesiredAction]:
    """One positioning for each consultant of the task, keyed by the consultant (the same list as the task)."""
    lead = {"fr": "Suggéré par Intermission :", "en": "Suggested by Intermission:"}[tenant.language]
    return [DesiredAction(key=f"match.position.{m.candidate}", step_id="match.position", kind="positioning",
                          assignee_role="consultant", assignee=Person(id=m.candidate, name=names.get(m.candidate, "")),
                          target=opening.record, nominal_due=m.free_from, due=max(m.free_from, today),
                          title=opening.need.title, text=f"{lead} {m.reason(tenant.language)}", case="matching")
            for m in rows[:MAX_LINES]]


def _default_owner(tenant: tenants.Tenant) -> Person | None:
    found = tenant.planning.default_owners.get("business_engineer")
    return Person(id=found, type=host_of(tenant).owner_type) if found else None


def write(conn: redis.Redis, tenant: tenants.Tenant, writers: dict, *, desired: dict[str, list[DesiredAction]],
          trigger: dict) -> dict:
    """One round a writer over the ledgers wanted now and those that held something (withdrawn when no longer
    wanted); `writers`: ledger prefix → writer, `desired`: ledger id → its actions."""
    tracked = keys.match_opportunities(tenant.id)
    names = sorted({m.decode() for m in conn.smembers(tracked)} | set(desired))
    if desired:
        conn.sadd(tracked, *desired)  # before the writes: a crash leaves the set naming every ledger it may have used
    why = {"trigger": {k: v for k, v in trigger.items() if k != "n"}, "case": "matching",
           "reason": "consultants on or coming back to the bench ranked for the open opportunities"}
    works = {name: MissionWork(reconciler_for(conn, tenant, writers[name.split(".")[0]], mission_id=name, provenance=why),
                               desired.get(name, [])) for name in names}
    for prefix, writer in writers.items():
        mine = [w for name, w in works.items() if name.startswith(prefix + ".")]
        if mine:
            Round(mine, writer).run()
    finished = [name for name, work in works.items()
                if name not in desired and not any(e.status in OPEN for e in work.run.ledger.entries().values())]
    if finished:
        conn.srem(tracked, *finished)
    return {name: work.run.counts for name, work in works.items()}
