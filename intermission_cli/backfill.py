"""`intermission backfill`: plan the missions a tenant already has, with a progress bar; resumes an unfinished run."""
from __future__ import annotations

import json
import sys


def backfill_parser(sub) -> None:
    """Add the `backfill` command to the CLI."""
    p = sub.add_parser("backfill", help="plan the missions ending in the next N days and the consultants on the "
                                        "bench (resumes an unfinished run)")
    p.add_argument("--tenant", required=True)
    p.add_argument("--days", type=int, default=None, help="missions ending in the next N days (default: the "
                                                          "tenant's backfill_days, 90)")
    p.add_argument("--queue", action="store_true", help="leave the run to the workers instead of running it here")
    p.add_argument("--json", action="store_true", help="print the final counters as JSON")
    p.set_defaults(func=_backfill)


def _backfill(args) -> int:
    from config import tenants
    from config.infra.redis_conn import get_redis
    from handlers.sync import backfill

    if args.days is not None and not 1 <= args.days <= 730:
        raise tenants.TenantError("--days must be between 1 and 730")
    tenants.require(args.tenant)
    conn = get_redis()
    run = backfill.start(conn, args.tenant, "cli", days=args.days, enqueue=args.queue)
    if run.get("read"):
        print(f"resuming run {run['id']} ({run['read']}/{run['total']} done)", file=sys.stderr)
    if args.queue:
        print(json.dumps(run) if args.json else f"queued run {run['id']}")
        return 0
    final = backfill.carry_on(conn, args.tenant, on_progress=_show)
    _show(final, end="\n")
    if args.json:
        print(json.dumps({k: final.get(k) for k in ("id", "status", *backfill.COUNTERS, "errors")}))
    return 0 if final.get("status") == "done" and not final.get("failed") else 1


def _show(run: dict, end: str = "\r") -> None:
    from handlers.sync.backfill import bar

    sys.stderr.write(bar(run) + end)
    sys.stderr.flush()
