"""A generated tenant for the bench dashboard: N consultants over a year of missions, written to Redis through the
real stores (SnapshotStore, Ledger), and the host-like facts it came from (for tests that recompute the figures)."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from config import tenants
from handlers.reports.bench_report import ACTIVITIES
from handlers.state.ledger import Ledger, LedgerEntry
from handlers.domain.model import MissionSnapshot, Person
from handlers.state.store import SnapshotStore
from connectors.boond.settings import BoondConfig
from handlers.hosts import registry  # noqa: F401  (the hosts a tenant may name)


@dataclass
class HostMission:
    """One mission as the host holds it."""

    id: str
    start: date
    end: date | None
    daily_cost: float | None
    cancelled: bool = False
    status: str = "active"  # or "client" / "consultant": ended early, by whom
    moved_from: date | None = None  # the end before it was moved earlier (no reason given: "to confirm")
    done_steps: list[str] = field(default_factory=list)  # bench steps a person ticked done after it


@dataclass
class HostConsultant:
    """One consultant and their missions, oldest first."""

    id: str
    name: str
    left: bool
    missions: list[HostMission]


def generate(count: int, today: date, *, seed: int = 16, until: date | None = None) -> list[HostConsultant]:
    """`count` consultants with missions over the year before `today` (some on the bench now, some left).

    `until`: missions keep being drawn up to that day (next missions already signed), some ended early.
    """
    rng = random.Random(seed)
    steps = [s for ids in ACTIVITIES.values() for s in ids] + ["bench.checkin"]
    out = []
    for n in range(count):
        day, missions = today - timedelta(days=rng.randint(330, 420)), []
        while day <= (until or today) and len(missions) < 8:
            end = day + timedelta(days=rng.randint(30, 160))
            cost = rng.choice([None, 380.0, 450.0, 520.0, 610.0])
            mission = HostMission(f"d{n}-{len(missions)}", day, end, cost, cancelled=rng.random() < 0.04)
            mission.done_steps = rng.sample(steps, rng.randint(0, 3)) if rng.random() < 0.7 else []
            if until and rng.random() < 0.15:
                mission.status, mission.moved_from = rng.choice([("client", None), ("consultant", None),
                                                                 ("active", end + timedelta(days=30))])
            missions.append(mission)
            day = end + timedelta(days=rng.choice([1, 1, 3, 10, 20, 35, 60]))
        if missions and rng.random() < 0.15:
            missions[-1].end = None  # an open-ended mission
        out.append(HostConsultant(f"r{n}", f"Consultant {n:03d}", rng.random() < 0.03, missions))
    return out


def snapshots_of(tenant_id: str, person: HostConsultant) -> list[MissionSnapshot]:
    """What the worker would have saved after reading each mission (the next mission's start included)."""
    consultant = Person(id=person.id, name=person.name)
    live = [m for m in person.missions if not m.cancelled]
    out = []
    for m in person.missions:
        later = [x.start for x in live if m.end is not None and x.start > m.end]
        out.append(MissionSnapshot(
            tenant=tenant_id, host="boond", mission_id=m.id, title=f"Mission {m.id}", start_date=m.start,
            end_date=m.end, status="cancelled" if m.cancelled else m.status, consultant=consultant,
            previous_end=m.moved_from, end_seen=m.start if m.moved_from else None,
            manager=Person(id="2", name="Claire Martin"), next_start=min(later, default=None),
            consultant_left=person.left, daily_cost=m.daily_cost))
    return out


def write(conn, tenant_id: str, people: list[HostConsultant], *, default_cost: float | None = 500.0,
          language: str = "fr") -> tenants.Tenant:
    """Store the tenant, every snapshot and every ledger entry (done and still-open bench steps)."""
    tenant = tenants.Tenant(id=tenant_id, host="boond", name="Acme Conseil", language=language,
                            host_settings=BoondConfig(app_token="x", app_key="y", user_token="z"),
                            bench=tenants.BenchSettings(default_daily_cost=default_cost))
    tenants.save(tenant)
    store = SnapshotStore(conn, tenant_id)
    for person in people:
        for snap, mission in zip(snapshots_of(tenant_id, person), person.missions):
            store.save(snap)
            ledger = Ledger(conn, tenant_id, mission.id)
            for step in mission.done_steps:
                ledger.put(_entry(step, "done", mission, person))
            ledger.put(_entry("bench.checkin#1", "written", mission, person))  # an open one never counts
    return tenant


def _entry(key: str, status: str, mission: HostMission, person: HostConsultant) -> LedgerEntry:
    day = (mission.end or mission.start) + timedelta(days=3)
    return LedgerEntry(key=key, step_id=key.split("#")[0], status=status, host_id=f"a-{mission.id}-{key}",
                       nominal_due=day, due=day, content="0" * 16, target_type="resource", target_id=person.id)
