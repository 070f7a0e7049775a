"""Many missions in Redis, fast: a few templates reconciled for real, then copied with each mission's own ids.

A template is one mission of a given shape (natural end ahead, early end by the client or the consultant, on the
bench, restaffed) on one host, reconciled by the real pipeline (`reconcile_mission`) against a fake host. Its
snapshot (`handlers.state.store.encode`), packed ledger entries (`LedgerEntry.pack()`), surveys, activity history and
wake-up day, as the product stored them, are then written for each mission with pipelined commands, the mission,
consultant and host ids changed.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta

from handlers.domain.model import DesiredAction, MissionSnapshot, Person
from handlers.hosts.protocol import Outcome, WriteResult
from connectors.salesforce.settings import SalesforceConfig
from connectors.boond.settings import BoondConfig

SHAPES = [("natural", 50), ("client", 15), ("consultant", 10), ("bench", 15), ("restaffed", 10)]  # % of missions
_ids = itertools.count(10_000_000)


class FakeBoond:
    """A host that accepts every write (template building) — one call per action, like Boond."""

    def create(self, mission_id, action) -> str:
        return str(next(_ids))

    def update(self, host_id, mission_id, action) -> None:
        return None

    def delete(self, host_id) -> None:
        return None

    def find_marked(self, mission_id, target_type, target_id) -> dict:
        return {}


class FakeSalesforce(FakeBoond):
    """A batching host that accepts every write (template building), like Salesforce collections."""

    def write_all(self, creates, updates, deletes, *, closes=(), before_create=None):
        if creates and before_create:
            before_create(list(range(len(creates))))
        return ([Outcome("create", n, WriteResult(host_id=f"00T{next(_ids):012d}AAA")) for n in range(len(creates))]
                + [Outcome("update", n, WriteResult(host_id=u.host_id)) for n, u in enumerate(updates)]
                + [Outcome("delete", n, WriteResult(host_id=h)) for n, h in enumerate(deletes)])

    def update_many(self, mission_id, pairs):
        return [(h, WriteResult(host_id=h)) for h, _ in pairs]

    def delete_many(self, host_ids):
        return [(h, WriteResult(host_id=h)) for h in host_ids]


class NoHost:
    """A host no call may reach: reconciling an unchanged mission must not need one."""

    def __init__(self, batching: bool):
        if batching:
            self.write_all = self.update_many = self.delete_many = self._refuse

    def _refuse(self, *args):
        raise AssertionError("an unchanged mission called its host")

    create = update = delete = find_marked = _refuse


def make_tenant(tenant_id: str, host: str):
    """An in-memory tenant of that host (never stored: only its id, language and country matter here)."""
    from config import tenants

    if host == "boond":
        return tenants.Tenant(id=tenant_id, host="boond", host_settings=BoondConfig(user_token="u"))
    return tenants.Tenant(id=tenant_id, host="salesforce",
                          host_settings=SalesforceConfig(client_id="c", client_secret="s"))


def tenant_ids(count: int) -> list[tuple[str, str]]:
    """(tenant id, host): half Boond marketplace installs (`boond-<16 hex>`), half Salesforce orgs."""
    from handlers.hosts.boond.marketplace import boond_tenant_id

    return [(boond_tenant_id(f"client-{i}"), "boond") if i % 2 == 0 else (f"sf-esn-{i:05d}", "salesforce")
            for i in range(count)]


def mission_id(host: str, n: int) -> str:
    """Mission n's id as its host writes it (Boond numeric, Salesforce 18 characters)."""
    return str(100 + n) if host == "boond" else f"a0X{n:012d}AAA"


def person_id(host: str, n: int) -> str:
    """Consultant n's id as its host writes it."""
    return str(10_000 + n) if host == "boond" else f"003{n:012d}AAA"


def _people(host: str, n: int) -> dict[str, Person]:
    """The consultant (its own id) and the seeded manager, business engineer, HR and client contact."""
    if host == "boond":
        user = lambda rid, name: Person(id=rid, type="resource", name=name)  # noqa: E731
        return {"consultant": user(person_id(host, n), "Jean Dupont"), "manager": user("2", "Claire Martin"),
                "business_engineer": user("3", "Hugo Bernard"), "hr": user("4", "Inès Moreau"),
                "client_contact": Person(id="11", type="contact", name="Sophie Leroy")}
    user = lambda rid, name: Person(id=f"005{rid:012d}AAA", type="User", name=name)  # noqa: E731
    return {"consultant": Person(id=person_id(host, n), type="Contact", name="Jean Dupont"),
            "manager": user(2, "Claire Martin"), "business_engineer": user(3, "Hugo Bernard"),
            "hr": user(4, "Inès Moreau"), "client_contact": Person(id="003000000000011AAA", type="Contact",
                                                                    name="Sophie Leroy")}


def shape_snapshot(tenant: str, host: str, shape: str, n: int, today: date) -> MissionSnapshot:
    """A mission of one shape with its people, as the host adapters build them."""
    end = {"natural": 45, "client": 12, "consultant": 20, "bench": -20, "restaffed": -3}[shape]
    return MissionSnapshot(
        tenant=tenant, host=host, mission_id=mission_id(host, n), title="Refonte du SI logistique",
        start_date=today - timedelta(days=200), end_date=today + timedelta(days=end),
        status=shape if shape in ("client", "consultant") else "active",
        raw_state={"client": "2", "consultant": "3"}.get(shape, "0"), client_name="Acme Industrie",
        next_start=today + timedelta(days=1) if shape == "restaffed" else None, **_people(host, n))


@dataclass
class Template:
    """One reconciled mission's Redis values, to be copied with other ids."""

    host: str
    shape: str
    snapshot: MissionSnapshot
    ledger: dict[bytes, bytes]
    surveys: dict[bytes, bytes]
    due: float | None
    activity: bytes = b""  # the mission's history (its field in the tenant's `activity:history`)
    feed: list[bytes] = field(default_factory=list)  # what the reconciliation added to the tenant feed's list
    records: int = 0  # how many records the history holds (`activity:sizes`)
    tokens: dict[str, str] = field(default_factory=dict)  # role → the survey link's token
    linked: dict[bytes, DesiredAction] = field(default_factory=dict)  # ledger field → its action, when it has links
    steps: int = field(init=False)

    def __post_init__(self) -> None:
        from handlers.state.ledger import OWN_TARGET

        self.steps = len(self.ledger) - (OWN_TARGET in self.ledger)


def PER_MISSION_KEYS(tenant: str, snap: MissionSnapshot) -> list[str]:  # noqa: N802
    """The keys one mission owns (what `write_missions` copies for each mission)."""
    mid, person = snap.mission_id, snap.consultant.id if snap.consultant else ""
    return [f"im:t:{tenant}:{part}" for part in (f"mission:{mid}", f"ledger:{mid}", f"surveys:{mid}",
                                                 f"consultant:{person}")]


def PER_TENANT_KEYS(tenant: str) -> list[str]:  # noqa: N802
    """The tenant's keys a mission adds a member to (the activity histories, the feed and their bookkeeping)."""
    return [f"im:t:{tenant}:activity{part}" for part in ("", ":history", ":missions", ":sizes", ":total")]


def reconcile_mission(tenant, adapter, store, prev, current, trigger: dict) -> dict:
    """One mission through the product's pipeline (prepare, then reconcile): what it wrote, by count."""
    from config.infra import clock
    from handlers.sync import pipeline

    today = clock.today(tenant.timezone)
    first = pipeline.prepare(store.conn, tenant, prev, current=current, trigger=trigger, today=today)
    return pipeline.reconcile(store.conn, tenant, adapter, plans=[first])[current.mission_id]


def build_templates(conn, today: date) -> list[Template]:
    """Reconcile one mission per (host, shape) for real in `conn` (a scratch database), keep what it wrote."""
    from handlers.state.store import DUE_KEY, SnapshotStore

    found = []
    for n, (host, (shape, _)) in enumerate(itertools.product(("boond", "salesforce"), SHAPES), start=1):
        tenant = make_tenant(f"template-{host}-{shape}", host)
        snap = shape_snapshot(tenant.id, host, shape, n, today)
        store = SnapshotStore(conn, tenant.id)
        adapter = FakeSalesforce() if host == "salesforce" else FakeBoond()
        conn.delete(f"im:t:{tenant.id}:ledger:{snap.mission_id}", f"im:t:{tenant.id}:surveys:{snap.mission_id}")
        reconcile_mission(tenant, adapter, store, None, snap, {"kind": "bench"})
        saved = store.get(snap.mission_id)
        ledger = conn.hgetall(f"im:t:{tenant.id}:ledger:{snap.mission_id}")
        surveys = conn.hgetall(f"im:t:{tenant.id}:surveys:{snap.mission_id}")
        due = conn.zscore(DUE_KEY, f"{tenant.id}|{snap.mission_id}")
        activity = conn.hget(f"im:t:{tenant.id}:activity:history", snap.mission_id) or b""
        feed = conn.lrange(f"im:t:{tenant.id}:activity", 0, -1)
        records = int(conn.hget(f"im:t:{tenant.id}:activity:sizes", snap.mission_id) or 0)
        found.append(Template(host, shape, saved, ledger, surveys, due, activity, feed, records,
                              *_links(conn, tenant, saved)))
        known = {k.decode() for k in conn.scan_iter(f"im:t:{tenant.id}:*")} - set(PER_MISSION_KEYS(tenant.id, snap))
        if known - set(PER_TENANT_KEYS(tenant.id)):
            raise AssertionError(f"a reconciliation wrote keys the bench does not copy: {sorted(known)}")
    conn.flushdb()
    return found


def _links(conn, tenant, snap: MissionSnapshot) -> tuple[dict[str, str], dict[bytes, DesiredAction]]:
    """The mission's survey link tokens, and its actions whose text holds them (by ledger field).

    A survey link's token names its tenant and mission (`handlers.surveys.records`), so each copy of a template has links of
    its own, and the digest of the actions showing them (`copy_ledger` makes it again)."""
    from config.infra import clock
    from handlers.state import packing
    from handlers.sync import pipeline
    from handlers.surveys import records as surveys

    tokens = {role: s.token for role, s in surveys.states(conn, tenant.id, snap.mission_id).items()}
    plan = pipeline.prepare(conn, tenant, snap, current=snap, trigger={"kind": "bench"}, today=clock.today(tenant.timezone), write=False)
    return tokens, {packing.short_key(a.key).encode(): a for a in plan.desired
                    if any(token in a.text for token in tokens.values())}


def pick(templates: list[Template], host: str, n: int) -> Template:
    """The template of mission `n` on `host`, following the shares of SHAPES."""
    slot, mine = n % 100, [t for t in templates if t.host == host]
    for template, (_, share) in zip(mine, SHAPES):
        if slot < share:
            return template
        slot -= share
    return mine[0]


def copy_snapshot(template: Template, tenant: str, n: int) -> tuple[str, bytes]:
    """(key, value) of mission n's snapshot, encoded as the store does.

    The consultant keeps the template's id (of the same length as any other): the ledger's content digests cover
    the actions' target and assignee ids, so the copied ledger stays exactly what a reconciliation would write.
    """
    from handlers.state.store import encode

    snap = template.snapshot.model_copy(update={"tenant": tenant, "mission_id": mission_id(template.host, n)})
    return f"im:t:{tenant}:mission:{snap.mission_id}", encode(snap, tenant)


def copy_ledger(template: Template, tenant: str, mission: str) -> dict[bytes, bytes]:
    """A mission's packed ledger: the template's entries with host ids of their own (its own target as it is), and
    the digest of the actions showing survey links made again with the mission's own links."""
    from handlers.state import packing
    from handlers.surveys import records as surveys
    from handlers.state.ledger import OWN_TARGET, LedgerEntry

    entries = {OWN_TARGET: template.ledger[OWN_TARGET]} if OWN_TARGET in template.ledger else {}
    for key, raw in template.ledger.items():
        if key == OWN_TARGET:
            continue
        parts = raw.decode().split("|")
        parts[1] = str(next(_ids)) if template.host == "boond" else f"00T{next(_ids):012d}AAA"
        entries[key] = "|".join(parts).encode()
    tokens = {role.decode(): surveys.decode(raw, tenant, mission, role=role.decode()).token
              for role, raw in template.surveys.items()}
    for key, action in template.linked.items():
        text = action.text
        for role, token in template.tokens.items():
            text = text.replace(token, tokens[role])
        entry = LedgerEntry.unpack(packing.long_key(key.decode()), entries[key], entries.get(OWN_TARGET))
        own = (entries[key].decode().split("|") + [""] * 8)[6:8] == ["", ""]
        entries[key] = entry.model_copy(update={"content": action.model_copy(update={"text": text}).digest()}) \
            .pack(target=not own).encode()
    return entries


def write_missions(conn, templates: list[Template], tenants: list[tuple[str, str]], per_tenant: int, *,
                   parts: set[str]) -> int:
    """Write `per_tenant` missions for each tenant: the given parts (snapshot, ledger, index, due, surveys,
    activity: the mission's history and its bookkeeping; feed: what the reconciliation put in the feed's list)."""
    from handlers.state.store import DUE_KEY

    count, pipe = 0, conn.pipeline(transaction=False)
    for tenant, host in tenants:
        for n in range(per_tenant):
            template, mid = pick(templates, host, n), mission_id(host, n)
            if "snapshot" in parts:
                pipe.set(*copy_snapshot(template, tenant, n))
            if "ledger" in parts and template.ledger:
                pipe.hset(f"im:t:{tenant}:ledger:{mid}", mapping=copy_ledger(template, tenant, mid))
            if "index" in parts:  # as SnapshotStore.save indexes a mission (a hash field)
                pipe.hset(f"im:t:{tenant}:consultant:{person_id(host, n)}", mid, "")
            if "due" in parts and template.due is not None:
                pipe.zadd(DUE_KEY, {f"{tenant}|{mid}": template.due})
            if "surveys" in parts and template.surveys:
                pipe.hset(f"im:t:{tenant}:surveys:{mid}", mapping=template.surveys)
            if "activity" in parts and template.activity:
                pipe.hset(f"im:t:{tenant}:activity:history", mid, template.activity)
                pipe.zadd(f"im:t:{tenant}:activity:missions", {mid: 1.7e9 + n})
                pipe.hset(f"im:t:{tenant}:activity:sizes", mid, template.records)
                pipe.incrby(f"im:t:{tenant}:activity:total", template.records)
            if "feed" in parts and template.feed:  # the feed's list keeps its latest 2,000 elements
                pipe.rpush(f"im:t:{tenant}:activity", *template.feed)
                pipe.ltrim(f"im:t:{tenant}:activity", 0, 1999)
            count += 1
            if count % 2000 == 0:
                pipe.execute()
    pipe.execute()
    return count
