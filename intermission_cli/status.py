"""`intermission status`, `check-worker` and `drain`: what an operator, a probe or a preStop hook asks."""
from __future__ import annotations

import json
import socket
import time


def status_parser(sub) -> None:
    """Add the `status`, `check-worker` and `drain` commands to the CLI."""
    p = sub.add_parser("status", help="queues, workers, scheduler, dead letters, tenants needing attention")
    p.add_argument("--json", action="store_true", help="one JSON document, for scripts")
    p.set_defaults(func=_status)
    c = sub.add_parser("check-worker", help="liveness: exit 0 when a worker of this machine is alive, else 1")
    c.add_argument("--json", action="store_true", help="the worker found, as JSON")
    c.set_defaults(func=_check_worker)
    d = sub.add_parser("drain", help="preStop: make this web container's /readyz answer 503, then wait")
    d.add_argument("--seconds", type=float, default=10.0, help="how long to wait (the load balancer notices)")
    d.set_defaults(func=_drain)


def _check_worker(args) -> int:
    from config.settings import get_settings
    from handlers.ops.health import workers_info

    from config.infra.redis_conn import get_redis

    limit = 3 * get_settings().worker_heartbeat_seconds  # an idle worker heartbeats every worker_heartbeat_seconds
    mine = [w for w in workers_info(get_redis()) if w["hostname"] == socket.gethostname()]
    alive = [w for w in mine if w["current_job"] or (w["heartbeat_age_seconds"] or 0) <= limit]
    if args.json:
        print(json.dumps({"alive": bool(alive), "workers": alive or mine}))
    else:
        print(f"{len(alive)} live worker(s) on {socket.gethostname()}" if alive else
              f"no live worker on {socket.gethostname()} (heartbeat older than {limit}s or none registered)")
    return 0 if alive else 1


def _drain(args) -> int:
    from handlers.ops.health import drain_marker

    marker = drain_marker()
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(str(time.time()))
    print(f"draining: /readyz answers 503; waiting {args.seconds:.0f}s for the load balancer")
    time.sleep(args.seconds)
    return 0


def _status(args) -> int:
    from handlers.ops.health import status

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
             f"{q['scheduled']} scheduled ({q.get('retrying', 0)} retrying after a failure), "
             f"{q['dead_letters']} dead letter(s)",
             f"workers: {len(found['workers'])}"]
    for w in found["workers"]:
        job = f"  job {w['current_job']}" if w["current_job"] else ""
        lines.append(f"  {w['name']}  {w['state']:<10} {w['hostname']}:{w['pid']}  "
                     f"heartbeat {_ago(w['heartbeat_age_seconds'])}{job}")
    lines.append(f"scheduler: running in {sched['holder']}, heartbeat {_ago(sched['heartbeat_age_seconds'])}"
                 if sched["alive"] else "scheduler: NOT RUNNING (no worker holds the scheduler lock)")
    lines.append(f"next tick: {sched['next_tick'] or 'none scheduled'}")
    if found.get("streams"):
        lines.append(f"change streams: {len(found['streams'])}")
        for s in found["streams"]:
            error = f"  ({s['error']})" if s.get("error") and s["state"] != "streaming" else ""
            lines.append(f"  {s['tenant']}  {s['topic']}  {s['state']:<16} heard {_ago(s['silence_seconds'])}  "
                         f"in {s['owner']}{error}")
    lines.append(f"tenants needing attention: {len(found['tenants'])}")
    for t in found["tenants"]:
        why = [f"needs re-consent ({t['needs_reconsent']})"] if t["needs_reconsent"] else []
        why += ["set-up incomplete (intermission tenant setup " + t["tenant"] + ")"] if t.get("setup_incomplete") else []
        why += ["paused"] if t.get("paused") else []
        why += [f"{t['held']} mission(s) held: {', '.join(t['held_reasons'])}"] if t["held"] else []
        why += t.get("attention") or []
        lines.append(f"  {t['tenant']}: {'; '.join(why)}")
    return "\n".join(lines)
