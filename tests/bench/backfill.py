"""`backfill`: a Boond tenant's install backfill at the host's rate limit (issue #31, part 4).

A tenant with SIZE missions (5,000 by default, `--size`) in the Boond sandbox, ending over the backfill's window
(ended lately to 80 days ahead), a consultant for every four. The sandbox's rate limit is set to the one public figure:
10 calls/s (`RATE`, `/_control/config` `rate_limit_per_10s` = 100). Boond documents a per-minute and a per-10-second
limit answered 429 + Retry-After, but no numbers [3P, numbers UNK]; the only figure is the field-tested MCP client's
own throttle, 10 requests/s with a burst of 20 [3P] (../shared/reference/boond-api.md §5), which is also our client's
default (`INTERMISSION_BOOND_RATE_PER_SECOND` 10, `_BURST` 20).

Two runs of `intermission backfill --tenant …` (the operator's command, one process, as the install run's job does):
1. **whole**: from start to end, the progress sampled from Redis every half second. Figures: its time against the
   rate-limit floor (the calls it needed, every call but the 429s, / the calls allowed per second), the calls per
   mission, the 429s, and the
   progress bar's estimate of the end (`handlers.sync.backfill.estimate_left`) against the real end, as a share of
   the run's duration, at 10, 25, 50, 75 and 90 % done and the worst after 10 %.
2. **killed**: the same tenant and data from scratch, the process SIGKILLed when a random share of the missions
   (10–90 %, seeded) is done, then the same command again (it resumes). Figures: the extra time and calls of the two
   stretches together against the whole run.
"""
from __future__ import annotations

import os
import random
import signal
import sys
import time
from collections import Counter
from datetime import date, timedelta

from tests.bench.procs import Processes, redis_for_bench
from tests.bench.report import note
from tests.bench.stack import BoondMoves, Sandbox, boond_tenant, many

SIZE = 5000
RATE, BURST = 10.0, 20  # calls/s and burst: the sandbox's limit and our client's bucket (module docstring)
TENANT = "bench-backfill"
PER_CONSULTANT = 4
SAMPLE_SECONDS = 0.5


def run(work, size: int = SIZE, seed: int | None = None, whole_only: bool = False, killed_only: bool = False) -> dict:
    """Both runs on a fresh sandbox and Redis each; the figures of docs/PERFORMANCE.md, "Backfill".

    `whole_only` runs the first alone (half the time: 5,000 missions take ~105 min a run); `killed` is then None.
    `killed_only` runs the second alone: its time is then set against its own floor (the calls it needed / the
    calls allowed a second), `whole` and `estimate` are None."""
    conn, redis_url = redis_for_bench()
    seed = random.SystemRandom().randrange(1_000_000) if seed is None else seed
    env = {"INTERMISSION_BOOND_RATE_PER_SECOND": RATE, "INTERMISSION_BOOND_BURST": BURST,
           "INTERMISSION_LOG_LEVEL": "WARNING"}
    share = random.Random(seed).uniform(0.1, 0.9)
    with Processes(work, redis_url, **env) as procs:
        boond = Sandbox(procs.gunicorn("boond", "tests.bench.hosts:boond", workers=1, threads=8,
                                       ready_path="/_control/credentials"))
        whole = None if killed_only else _one_run(procs, boond, conn, size)
        killed = None if whole_only else _one_run(procs, boond, conn, size, kill_at=share)
    result = {"missions": (whole or killed)["total"], "rate_per_second": RATE, "burst": BURST, "seed": seed,
              "whole": whole and _against_floor(whole), "estimate": whole and _estimate_errors(whole),
              "killed": killed and _killed(killed, whole, share=share)}
    note(f"backfill of {result['missions']}: "
         + (f"{whole['seconds']:.0f} s, {result['whole']['x_floor']} x the floor" if whole else "")
         + (f"; killed at {share:.0%}: {killed['seconds']:.0f} s, {result['killed']['x_floor']} x its floor"
            if killed else ""))
    return result


def _against_floor(one: dict) -> dict:
    """A run's time against the rate-limit floor: the calls it needed (a refused call did nothing: it is a cost,
    not a need) / the calls allowed a second."""
    needed = one["calls"] - one["429"]
    floor = needed / RATE
    return {"seconds": round(one["seconds"], 1), "calls": one["calls"], "calls_needed": needed,
            "calls_per_mission": round(needed / max(one["total"], 1), 2),
            "floor_seconds": round(floor, 1), "x_floor": round(one["seconds"] / floor, 3),
            "status_429": one["429"], "planned": one["planned"], "failed": one["failed"],
            "listing_seconds": round(one["listing"], 1), "calls_by_route": one["routes"]}


def _killed(killed: dict, whole: dict | None, *, share: float) -> dict:
    """The killed run's two stretches: against the whole run when there was one, and against their own floor."""
    own = _against_floor(killed)
    return {"at_share": round(share, 3), "at_mission": killed["killed_at"], "seconds": own["seconds"],
            "calls": killed["calls"], "calls_needed": own["calls_needed"], "floor_seconds": own["floor_seconds"],
            "x_floor": own["x_floor"],
            "extra_time": whole and round(killed["seconds"] / whole["seconds"] - 1, 4),
            "extra_calls": whole and round(killed["calls"] / whole["calls"] - 1, 4),
            "status_429": killed["429"], "planned": killed["planned"], "failed": killed["failed"],
            "duplicates": killed["duplicates"]}


def _fresh(boond: Sandbox, conn, size: int) -> None:
    """An empty Redis and a sandbox holding the tenant's missions, its rate limit set."""
    conn.flushdb()
    boond.control("POST", "/reset")
    boond.control("POST", "/config", json={"rate_limit_per_10s": int(RATE * 10)})
    boond.bench("POST", "/calls/reset")
    moves = BoondMoves(boond)
    people = moves.consultants(max(1, size // PER_CONSULTANT))
    today = date.today()
    ends = [today + timedelta(days=-10 + (90 * i) // max(size, 1)) for i in range(size)]
    many(lambda i: moves.create(people[i % len(people)], ends[i]), range(size), workers=8)
    boond_tenant(boond, TENANT)
    boond.bench("POST", "/calls/reset")
    boond.control("POST", "/config", json={"rate_limit_per_10s": int(RATE * 10)})


def _one_run(procs: Processes, boond: Sandbox, conn, size: int, *, kill_at: float | None = None) -> dict:
    """Set up, run the CLI (killed at `kill_at` of the missions and run again, when given); what it cost."""
    from handlers.sync.backfill import progress

    note(f"backfill: creating {size} missions" + (f", the run killed at {kill_at:.0%}" if kill_at else ""))
    _fresh(boond, conn, size)
    samples: list[tuple[float, dict]] = []
    seconds, killed_at, listing, ended = 0.0, None, None, 0.0
    for stretch in ("first", "resumed") if kill_at else ("whole",):
        started = time.monotonic()
        proc = procs.spawn(f"backfill-{stretch}", [sys.executable, "-m", "intermission_cli.main", "backfill",
                                                   "--tenant", TENANT, "--json"])
        deadline = started + 600 + 3 * size  # ~1 s a mission at 10 calls/s: three times that, and a margin
        while proc.poll() is None:
            run = progress(conn, TENANT) or {}
            now = time.monotonic()
            if now > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise RuntimeError(f"backfill of {size} missions still running after {now - started:.0f} s: "
                                   f"see {procs.work}/backfill-{stretch}.log")
            samples.append((now, run))
            if listing is None and run.get("status") == "running":
                listing = now - started
            if stretch == "first" and run.get("total") and run.get("read", 0) >= kill_at * run["total"]:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                killed_at = run["read"]
                break
            time.sleep(SAMPLE_SECONDS)
        ended = time.monotonic()
        seconds += ended - started
        procs.children = [c for c in procs.children if c is not proc]
        if stretch != "first" and proc.returncode != 0:
            note(f"backfill exited {proc.returncode}: see {procs.work}/backfill-{stretch}.log")
    final = progress(conn, TENANT) or {}
    calls = boond.recorded()
    routes = Counter(f"{c['method']} {_route(c['path'])}" for c in calls)
    actions = boond.control("GET", "/actions").get("data") or []
    markers = Counter(_marker(a) for a in actions)
    return {"seconds": seconds, "end": ended, "total": final.get("total", 0), "calls": len(calls),
            "429": sum(1 for c in calls if c.get("status") == 429), "planned": final.get("planned", 0),
            "failed": final.get("failed", 0), "samples": samples, "killed_at": killed_at,
            "listing": listing or 0.0, "routes": dict(routes.most_common(8)),
            "duplicates": sum(n - 1 for m, n in markers.items() if m and n > 1)}


def _route(path: str) -> str:
    return "/".join("<id>" if part.isdigit() else part for part in path.split("/"))


def _marker(action: dict) -> str | None:
    """The Intermission marker an action's text carries (mission/step), None when it has none."""
    from tests.e2e.helpers import MARK

    found = MARK.search(str((action.get("attributes") or {}).get("text") or ""))
    return found.group(0) if found else None


def _estimate_errors(whole: dict) -> dict:
    """The estimate's end against the real end, as a share of the run's duration, at points of progress."""
    samples = [(t, r) for t, r in whole["samples"] if r.get("eta_seconds") is not None and r.get("total")]
    if not samples:
        return {"samples": 0}
    start, end = whole["samples"][0][0], whole["end"]
    duration = end - start

    def error(t: float, run: dict) -> float:
        return (t + run["eta_seconds"] - end) / duration

    out: dict = {"samples": len(samples)}
    for share in (0.1, 0.25, 0.5, 0.75, 0.9):
        at = next(((t, r) for t, r in samples if r["read"] >= share * r["total"]), None)
        out[f"at_{int(share * 100)}pct"] = round(error(*at), 4) if at else None
    late = [abs(error(t, r)) for t, r in samples if r["read"] >= 0.1 * r["total"]]
    out["worst_after_10pct"] = round(max(late), 4) if late else None
    return out

