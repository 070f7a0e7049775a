"""The `intermission` command; the composition root, so it imports the layers lazily."""
from __future__ import annotations

import argparse
import json
import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Parse and run one command; returns the exit status."""
    from config.logs import setup_logging

    args = _parser().parse_args(argv)
    setup_logging(os.environ.get("INTERMISSION_LOG_LEVEL", "WARNING" if args.command in ("demo", "tenant", "plan") else "INFO"))
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # an admin-readable message, not a traceback
        from config.playbook import PlaybookError
        from config.tenants import TenantError
        from connectors.errors import HostError

        if isinstance(exc, (PlaybookError, TenantError, HostError, ValueError)):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="intermission", description="End-of-mission and bench playbooks for ESN.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="the whole story on embedded Redis and the sandboxes").set_defaults(func=_demo)
    s = sub.add_parser("serve", help="the web process (gunicorn)")
    s.add_argument("--bind", default="127.0.0.1:8000")
    s.add_argument("--workers", type=int, default=2)
    s.set_defaults(func=_serve)
    w = sub.add_parser("worker", help="an rq worker with the scheduler")
    w.add_argument("--burst", action="store_true", help="process what is queued, then exit")
    w.add_argument("--simple", action="store_true", help="run jobs in-process instead of forking")
    w.set_defaults(func=_worker)
    sb = sub.add_parser("sandbox", help="run a host sandbox")
    sb.add_argument("host", choices=["boond"])
    sb.add_argument("--port", type=int, default=8100)
    sb.set_defaults(func=_sandbox)
    _tenant_parser(sub)
    pl = sub.add_parser("plan", help="dry-run: the actions a mission would get, with provenance")
    pl.add_argument("--tenant", required=True)
    pl.add_argument("--mission", required=True)
    pl.add_argument("--json", action="store_true")
    pl.set_defaults(func=_plan)
    r = sub.add_parser("replay", help="re-run dead-lettered work")
    r.add_argument("--list", action="store_true", help="only list the dead letters")
    r.set_defaults(func=_replay)
    sub.add_parser("tick", help="queue the missions whose time-based steps are due").set_defaults(func=_tick)
    return p


def _tenant_parser(sub) -> None:
    t = sub.add_parser("tenant", help="add, list, show or remove tenants")
    tsub = t.add_subparsers(dest="tenant_command", required=True)
    add = tsub.add_parser("add")
    add.add_argument("host", choices=["boond"])
    add.add_argument("--id", required=True)
    add.add_argument("--name", default="")
    add.add_argument("--base-url", default=None)
    add.add_argument("--auth-mode", choices=["app", "client"], default="app")
    add.add_argument("--app-token", default=os.environ.get("BOOND_APP_TOKEN"))
    add.add_argument("--app-key", default=os.environ.get("BOOND_APP_KEY"), help="or BOOND_APP_KEY")
    add.add_argument("--client-token", default=os.environ.get("BOOND_CLIENT_TOKEN"))
    add.add_argument("--client-key", default=os.environ.get("BOOND_CLIENT_KEY"), help="or BOOND_CLIENT_KEY")
    add.add_argument("--user-token", default=os.environ.get("BOOND_USER_TOKEN"),
                     help="the technical user's token (or BOOND_USER_TOKEN)")
    add.add_argument("--action-type", action="append", default=[], metavar="KIND=ID",
                     help="Boond action typeOf per kind (task, reminder, survey, bench or default); "
                          "without it the tenant's 'Rappel / To do' type is read from its dictionary")
    add.add_argument("--language", choices=["fr", "en"], default="fr")
    add.add_argument("--timezone", default="Europe/Paris")
    add.add_argument("--json", action="store_true")
    add.set_defaults(func=_tenant_add)
    ls = tsub.add_parser("list")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_tenant_list)
    show = tsub.add_parser("show")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_tenant_show)
    rm = tsub.add_parser("remove")
    rm.add_argument("id")
    rm.set_defaults(func=_tenant_remove)


def _demo(args) -> int:
    from config.demo import run_demo

    return run_demo()


def _serve(args) -> int:
    from webhooks.server import serve

    serve(bind=args.bind, workers=args.workers)
    return 0


def _worker(args) -> int:
    from config.playbook import default_playbook
    from handlers.jobs import schedule_next_tick
    from handlers.queues import make_worker, recover_orphans

    default_playbook()  # fail at start-up, naming file, step and field, rather than in every job
    recover_orphans()
    if not args.burst:
        schedule_next_tick()
    worker = make_worker(simple=args.simple)
    worker.work(burst=args.burst, with_scheduler=True)
    return 0


def _sandbox(args) -> int:
    from connectors.boond.sandbox.app import create_app

    print(f"Boond sandbox on http://127.0.0.1:{args.port}/api (control API under /_control)")
    create_app().run(host="127.0.0.1", port=args.port, threaded=True)
    return 0


def _tenant_add(args) -> int:
    from config import tenants
    from config.settings import get_settings

    if tenants.get(args.id):
        raise tenants.TenantError(f"tenant '{args.id}' already exists: remove it first or pick another id")
    boond = tenants.BoondConfig(base_url=args.base_url or get_settings().boond_base_url, auth_mode=args.auth_mode,
                                app_token=args.app_token, app_key=args.app_key, client_token=args.client_token,
                                client_key=args.client_key, user_token=args.user_token or "",
                                action_types=_action_types(args.action_type))
    _check_boond_credentials(boond)
    tenant = tenants.Tenant(id=args.id, host=args.host, name=args.name, language=args.language,
                            timezone=args.timezone, boond=boond)
    tenants.save(tenant)
    return _print_tenant(tenant, args.json, created=True)


def _action_types(pairs: list[str]) -> dict[str, int]:
    kinds = {"task", "reminder", "survey", "bench", "default"}
    out = {}
    for pair in pairs:
        kind, _, value = pair.partition("=")
        if kind not in kinds or not value.isdigit():
            raise ValueError(f"--action-type {pair!r}: expected KIND=ID with KIND in {sorted(kinds)} and a numeric id")
        out[kind] = int(value)
    return out


def _check_boond_credentials(cfg) -> None:
    pair = (cfg.app_token, cfg.app_key) if cfg.auth_mode == "app" else (cfg.client_token, cfg.client_key)
    missing = [n for n, v in zip((f"--{cfg.auth_mode}-token", f"--{cfg.auth_mode}-key"), pair) if not v]
    if not cfg.user_token:
        missing.append("--user-token")
    if missing:
        raise ValueError("missing " + ", ".join(missing) + " (Boond needs them to sign every call)")


def _print_tenant(tenant, as_json: bool, created: bool = False) -> int:
    url = tenant.webhook_url()
    if as_json:
        print(json.dumps({**tenant.redacted(), "webhook_url": url}, indent=2))
        return 0
    print(f"{'Created' if created else 'Tenant'} {tenant.id} ({tenant.host}, {tenant.language}, "
          f"{'enabled' if tenant.enabled else 'paused'})")
    print(f"Webhook URL: {url}")
    if created:
        print("In Boond: Administration > Webhooks > +, paste that URL and tick update/create/delete on "
              "delivery and resource (never on action: our own writes would come back).")
    return 0


def _tenant_list(args) -> int:
    from config import tenants

    rows = [tenants.get(i) for i in tenants.list_ids()]
    if args.json:
        print(json.dumps([{"id": t.id, "host": t.host, "enabled": t.enabled} for t in rows if t], indent=2))
    for t in rows if not args.json else []:
        print(f"{t.id}\t{t.host}\t{'enabled' if t.enabled else 'paused'}\t{t.name}")
    return 0


def _tenant_show(args) -> int:
    from config import tenants

    return _print_tenant(tenants.require(args.id), args.json)


def _tenant_remove(args) -> int:
    from config import tenants

    if not tenants.remove(args.id):
        raise tenants.TenantError(f"unknown tenant '{args.id}'")
    print(f"Removed {args.id} (actions already written in the host are left as they are)")
    return 0


def _plan(args) -> int:
    from handlers.preview import preview

    result = preview(args.tenant, args.mission)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return 0
    print(f"{args.tenant}/{args.mission}: case {result['case']} — {result['reason']}")
    for a in result["actions"]:
        late = " (late)" if a["late"] else ""
        print(f"  {a['op']:<11} {a['due']}{late}  {a['assignee_role']:<17} {a['title']}  [{a['step_id']}]")
    return 0


def _replay(args) -> int:
    from handlers.queues import dead_letters, replay

    if args.list:
        for job in dead_letters():
            print(f"{job.id}\t{job.description}\t{(job.exc_info or '').strip().splitlines()[-1:]}")
        return 0
    ids = replay()
    print(f"requeued {len(ids)} dead letter(s); run `intermission worker` to process them")
    return 0


def _tick(args) -> int:
    from handlers.jobs import tick

    print(json.dumps(tick(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
