"""`intermission status`: queues, workers, scheduler, dead letters and tenants waiting, for a person or a script."""
from __future__ import annotations

import json


def status_parser(sub) -> None:
    """Add the `status` command to the CLI."""
    p = sub.add_parser("status", help="queues, workers, scheduler, dead letters, tenants needing attention")
    p.add_argument("--json", action="store_true", help="one JSON document, for scripts")
    p.set_defaults(func=_status)


def _status(args) -> int:
    from handlers.health import status

    found = status()
    print(json.dumps(found, indent=2) if args.json else render(found))
    return 0


def _ago(seconds: float | None) -> str:
    return "never" if seconds is None else f"{seconds:.0f}s ago"


def render(found: dict) -> str:
    """The status as lines an operator reads at 3 a.m."""
    q, sched = found["queue"], found["scheduler"]
    oldest = "" if q["oldest_age_seconds"] is None else f" (oldest waiting {q['oldest_age_seconds']:.0f}s)"
    lines = [f"queue {q['name']}: {q['depth']} queued{oldest}, {q['running']} running, "
             f"{q['scheduled']} scheduled, {q['dead_letters']} dead letter(s)",
             f"workers: {len(found['workers'])}"]
    for w in found["workers"]:
        job = f"  job {w['current_job']}" if w["current_job"] else ""
        lines.append(f"  {w['name']}  {w['state']:<10} {w['hostname']}:{w['pid']}  "
                     f"heartbeat {_ago(w['heartbeat_age_seconds'])}{job}")
    lines.append(f"scheduler: running in {sched['holder']}, heartbeat {_ago(sched['heartbeat_age_seconds'])}"
                 if sched["alive"] else "scheduler: NOT RUNNING (no worker holds the scheduler lock)")
    lines.append(f"next tick: {sched['next_tick'] or 'none scheduled'}")
    lines.append(f"tenants needing attention: {len(found['tenants'])}")
    for t in found["tenants"]:
        why = [f"needs re-consent ({t['needs_reconsent']})"] if t["needs_reconsent"] else []
        why += [f"{t['held']} mission(s) held: {', '.join(t['held_reasons'])}"] if t["held"] else []
        lines.append(f"  {t['tenant']}: {'; '.join(why)}")
    return "\n".join(lines)
