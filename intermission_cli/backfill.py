"""`intermission backfill`: plan the missions a tenant already has, with a progress bar; resumes an unfinished run."""
from __future__ import annotations

import json
import sys


def backfill_parser(sub) -> None:
    """Add the `backfill` command to the CLI."""
    p = sub.add_parser("backfill", help="plan the missions ending in the next N days and the consultants on the "
                                        "bench (resumes an unfinished run)")
    p.add_argument("--tenant", action="append", default=[], help="this tenant (repeat for several)")
    p.add_argument("--all", action="store_true", help="every enabled tenant, one after the other")
    p.add_argument("--days", type=int, default=None, help="missions ending in the next N days (default: the "
                                                          "tenant's backfill_days, 90)")
    p.add_argument("--queue", action="store_true", help="leave the run to the workers instead of running it here")
    p.add_argument("--json", action="store_true", help="print the final counters as JSON")
    p.set_defaults(func=_backfill)


def _backfill(args) -> int:
    from config import tenants

    if args.days is not None and not 1 <= args.days <= 730:
        raise tenants.TenantError("--days must be between 1 and 730")
    if bool(args.tenant) == args.all:
        raise tenants.TenantError("give --tenant (one or more) or --all")
    chosen = args.tenant or [t.id for t in map(tenants.get, tenants.list_ids()) if t is not None and t.enabled]
    for tenant_id in chosen:
        tenants.require(tenant_id)
    outcomes = [_one_tenant(args, tenant_id) for tenant_id in chosen]  # a tenant's failure never stops the next
    return max(outcomes, default=0)


def _one_tenant(args, tenant_id: str) -> int:
    """One tenant's run: 0 done, 1 with failures or stopped (its error line names the tenant)."""
    from config.infra.redis_conn import get_redis
    from connectors.errors import HostError
    from handlers.sync import backfill

    conn = get_redis()
    try:
        run = backfill.start(conn, tenant_id, "cli", days=args.days, enqueue=args.queue)
        if run.get("read"):
            print(f"{tenant_id}: resuming run {run['id']} ({run['read']}/{run['total']} done)", file=sys.stderr)
        if args.queue:
            print(json.dumps(run) if args.json else f"{tenant_id}: queued run {run['id']}")
            return 0
        final = backfill.carry_on(conn, tenant_id, on_progress=_show)
    except HostError as exc:
        print(tenant_error(tenant_id, exc), file=sys.stderr)
        return 1
    _show(final, end="\n")
    if final.get("message"):
        print(f"{tenant_id}: {final['message']}", file=sys.stderr)
    if args.json:
        print(json.dumps({"tenant": tenant_id, **{k: final.get(k) for k in ("id", "status", *backfill.COUNTERS,
                                                                              "errors")}}))
    return 0 if final.get("status") == "done" and not final.get("failed") else 1


def tenant_error(tenant_id: str, exc: Exception) -> str:
    """One error line of a command that goes through many tenants (backfill, sweep): whose it is, what happened."""
    return f"error: tenant {tenant_id}: {exc}"


def _show(run: dict, end: str = "\r") -> None:
    from handlers.sync.backfill import bar

    sys.stderr.write(bar(run) + end)
    sys.stderr.flush()
