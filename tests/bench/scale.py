"""`scale`: 100,000 missions of 1,000 tenants in Redis: memory per mission, the cost of an unchanged mission
against 1,000 missions, and the due-index scan."""
from __future__ import annotations

import random
import statistics
import time
from datetime import date

import redis

from tests.bench.procs import redis_for_bench
from tests.bench.report import note
from tests.bench.scale_data import (NoHost, build_templates, make_tenant, mission_id, tenant_ids,
                                    write_missions)

BIG_TENANTS, SMALL_TENANTS, PER_TENANT = 1000, 10, 100
RUNS = 400  # unchanged-mission reconciliations per world, alternating
DUE_RUNS = 30


def run(work) -> dict:
    """Build the small world (1,000 missions) in a second database and the big one (100,000); measure side by side."""
    big, _ = redis_for_bench()
    small = sibling_db(big)
    small.flushdb()
    today = date.today()
    templates = build_templates(small, today)
    note("templates: " + ", ".join(f"{t.host}/{t.shape} {t.steps} steps" for t in templates))
    write_missions(small, templates, tenant_ids(SMALL_TENANTS), PER_TENANT, parts=set(PARTS))
    server = server_settings(big)
    note(f"Redis server: {server}")
    per_mission, by_part = memory_by_part(big, templates, tenant_ids(BIG_TENANTS))
    ratio = noop_ratio(big, small, today)
    due_ms = due_scan(big, templates, today)
    small.flushdb(asynchronous=True)
    big.flushdb(asynchronous=True)  # hundreds of MiB the server would otherwise keep (or save on exit)
    return {"bytes_per_mission": per_mission, "bytes_by_part": by_part, "noop_cost_ratio": ratio,
            "due_scan_ms": due_ms, "redis": server}


PARTS = ("snapshot", "ledger", "index", "due", "surveys", "activity", "feed")
ENCODING_SETTINGS = ("hash-max-listpack-entries", "hash-max-listpack-value", "list-max-listpack-size",
                     "set-max-intset-entries", "zset-max-listpack-entries", "zset-max-listpack-value",
                     "maxmemory-policy", "appendfsync")


def server_settings(conn: redis.Redis) -> dict:
    """The server's version, allocator and the settings that decide how compactly it keeps small values."""
    info = conn.info("server")
    found = {"version": info.get("redis_version"), "allocator": conn.info("memory").get("mem_allocator")}
    for name in ENCODING_SETTINGS:
        try:
            found.update({k: v for k, v in conn.config_get(name).items()})
        except redis.ResponseError:  # Redis 6.2 names them ziplist
            found.update(conn.config_get(name.replace("listpack", "ziplist")))
    return found


def sibling_db(conn: redis.Redis) -> redis.Redis:
    """The next database number on the same server (the 1,000-mission world), emptied by the caller."""
    kwargs = dict(conn.connection_pool.connection_kwargs)
    kwargs["db"] = int(kwargs.get("db") or 0) + 1
    return redis.Redis(connection_pool=redis.ConnectionPool(connection_class=conn.connection_pool.connection_class,
                                                            **kwargs))


def used(conn: redis.Redis) -> int:
    """The server's `used_memory`."""
    return int(conn.info("memory")["used_memory"])


def memory_by_part(conn: redis.Redis, templates, tenants) -> tuple[float, dict]:
    """Write the big world part by part: bytes per mission of everything it keeps, and of each part."""
    missions = len(tenants) * PER_TENANT
    started, by_part = time.monotonic(), {}
    for part in PARTS:
        before = used(conn)
        write_missions(conn, templates, tenants, PER_TENANT, parts={part})
        by_part[part] = round((used(conn) - before) / missions, 1)
        note(f"  per mission, {part}: {by_part[part]:.0f} bytes")
    total = round(sum(by_part.values()), 1)
    note(f"{missions} missions written in {time.monotonic() - started:.1f}s: {total:.0f} bytes each in all; "
         f"Redis used_memory with everything: {used(conn) / 2**20:.0f} MiB")
    return total, by_part


def noop_once(conn: redis.Redis, tenant, mission: str) -> float:
    """Seconds to reconcile an unchanged mission: snapshot and ledger read, classify, plan, diff, save."""
    from handlers.state.store import SnapshotStore
    from tests.bench.scale_data import reconcile_mission

    started = time.perf_counter()
    store = SnapshotStore(conn, tenant.id)
    prev = store.get(mission)
    result = reconcile_mission(tenant, NoHost(tenant.host == "salesforce"), store, prev, prev, {"kind": "bench"})
    elapsed = time.perf_counter() - started
    if any(result.get(op) for op in ("created", "rescheduled", "cancelled", "recovered")):
        raise AssertionError(f"{tenant.id}/{mission} was not unchanged: {result}")
    return elapsed


def noop_ratio(big: redis.Redis, small: redis.Redis, today: date) -> float:
    """Median of RUNS unchanged-mission reconciliations at 100,000 over the median at 1,000, alternating."""
    rng = random.Random(7)
    worlds = {"big": (big, tenant_ids(BIG_TENANTS)), "small": (small, tenant_ids(SMALL_TENANTS))}
    tenants = {}
    times = {"big": [], "small": []}
    for i in range(RUNS + 20):
        for name in (("big", "small") if i % 2 else ("small", "big")):
            conn, ids = worlds[name]
            tenant_id, host = rng.choice(ids)
            tenant = tenants.setdefault(tenant_id, make_tenant(tenant_id, host))
            elapsed = noop_once(conn, tenant, mission_id(host, rng.randrange(PER_TENANT)))
            if i >= 20:  # warm-up
                times[name].append(elapsed)
    big_ms, small_ms = (statistics.median(times[n]) * 1000 for n in ("big", "small"))
    note(f"unchanged mission: median {big_ms:.2f} ms at 100,000 missions, {small_ms:.2f} ms at 1,000")
    return round(big_ms / small_ms, 3)


def due_scan(conn: redis.Redis, templates, today: date) -> float:
    """Median ms of `due_missions` over the due index, on the day most missions wake up (a full page due)."""
    from handlers.state.store import DUE_KEY, due_missions

    days = [t.due for t in templates if t.due is not None]
    busiest = date.fromordinal(int(max(set(days), key=days.count)))
    timings, found = [], 0
    for _ in range(DUE_RUNS):
        started = time.perf_counter()
        found = len(due_missions(conn, busiest))
        timings.append((time.perf_counter() - started) * 1000)
    total = conn.zcard(DUE_KEY)
    due_now = conn.zcount(DUE_KEY, "-inf", busiest.toordinal())
    note(f"due index: {total} missions, {due_now} due by {busiest} (+{(busiest - today).days} days), "
         f"a scan returns {found}")
    return round(statistics.median(timings), 2)



