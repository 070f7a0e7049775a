"""The `intermission` command; the composition root, so it imports the layers lazily."""
from __future__ import annotations

import argparse
import json
import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Parse and run one command; returns the exit status."""
    from config.infra.logs import setup_logging
    from handlers.hosts import registry  # noqa: F401  (the hosts a tenant may name, and their `tenant add` flags)

    args = _parser().parse_args(argv)
    setup_logging(os.environ.get("INTERMISSION_LOG_LEVEL", "WARNING" if args.command in ("demo", "tenant", "plan") else "INFO"))
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # an admin-readable message, not a traceback
        import redis

        from config.playbook import PlaybookError
        from config.tenants import TenantError
        from connectors.errors import HostError

        from pydantic import ValidationError

        from config.tenants import in_words

        if isinstance(exc, ValidationError):  # a value pydantic refused, in words (no pydantic wording, no link)
            print(f"error: {in_words(exc)}", file=sys.stderr)
            return 2
        if isinstance(exc, (PlaybookError, TenantError, HostError, ValueError)):
            print(f"error: {_tenant_named(args)}{exc}", file=sys.stderr)
            return 2
        if isinstance(exc, redis.RedisError):
            print(redis_message(exc), file=sys.stderr)
            return 2
        raise


def _tenant_named(args) -> str:
    """`tenant acme: ` when the command was about one tenant, so an error line says whose it is."""
    tenant = getattr(args, "tenant", None)
    return f"tenant {tenant}: " if isinstance(tenant, str) and tenant else ""


def redis_message(exc: Exception) -> str:
    """One line for an operator: where Redis is and what happened (never a traceback, never a password)."""
    import redis

    from config.infra.redis_conn import describe

    detail = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, (redis.ConnectionError, redis.TimeoutError)):
        return f"error: Redis at {describe()} does not answer ({detail}); is it running, and is REDIS_URL right?"
    return f"error: Redis at {describe()} refused the command: {detail}"


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
    kind = w.add_mutually_exclusive_group()
    kind.add_argument("--fork", action="store_true", help="fork a work horse per job (rq's default worker class)")
    kind.add_argument("--simple", action="store_true", help="run jobs in the worker process (the default)")
    w.set_defaults(func=_worker)
    from handlers.hosts.registry import HOSTS

    cdc = sub.add_parser("subscribe", help="stream the changes of the hosts that offer a stream (Change Data Capture) "
                                           "for every tenant whose trigger is one")
    cdc.add_argument("--check", metavar="TENANT", help="only ask the tenant's org whether its change stream is on for the "
                                                        "mission object, and say how to turn it on")
    cdc.set_defaults(func=_subscribe)
    sandboxes = {name: host.sandbox for name, host in sorted(HOSTS.items()) if host.sandbox}
    sb = sub.add_parser("sandbox", help="run a host sandbox")
    sb.add_argument("host", help=f"a host with a sandbox in its registry line ({', '.join(sandboxes)})")
    sb.add_argument("--port", type=int, default=None, help="default: the host's ("
                    + ", ".join(f"{box.port} {HOSTS[name].label}" for name, box in sandboxes.items()) + ")")
    sb.add_argument("--tls-cert", default=None, help="serve HTTPS with this PEM certificate (some host clients only "
                                                     "speak https)")
    sb.add_argument("--tls-key", default=None, help="the certificate's PEM private key (with --tls-cert)")
    for box in sandboxes.values():
        if box.flags:
            box.flags(sb)
    sb.set_defaults(func=_sandbox)
    from intermission_cli.tenant import tenant_parser

    tenant_parser(sub)
    from intermission_cli.status import status_parser

    status_parser(sub)
    from intermission_cli.backfill import backfill_parser; backfill_parser(sub)  # noqa: E702 (issue #17)
    pl = sub.add_parser("plan", help="dry-run: the actions a mission would get, with provenance")
    pl.add_argument("--tenant", required=True)
    pl.add_argument("--mission", required=True)
    pl.add_argument("--json", action="store_true")
    pl.set_defaults(func=_plan)
    r = sub.add_parser("replay", help="re-run dead-lettered work (one job per mission)")
    r.add_argument("job_ids", nargs="*", metavar="JOB_ID", help="only these dead letters (default: all)")
    r.add_argument("--tenant", help="only this tenant's dead letters")
    r.add_argument("--list", action="store_true", help="only list the dead letters")
    r.add_argument("--json", action="store_true", help="JSON, for scripts")
    r.set_defaults(func=_replay)
    sub.add_parser("tick", help="queue the missions whose time-based steps are due").set_defaults(func=_tick)
    sw = sub.add_parser("sweep", help="catch-up: re-read the missions each host says changed recently")
    sw.add_argument("--tenant", help="one tenant (default: every enabled tenant)")
    sw.add_argument("--since-minutes", type=float, default=None, help="window (default: twice the sweep interval)")
    sw.set_defaults(func=_sweep)
    k = sub.add_parser("keys", help="encryption keys at rest")
    k.add_argument("action", choices=["rotate", "generate"],
                   help="rotate: re-encrypt every stored secret under the newest key; generate: print a new key")
    k.set_defaults(func=_keys)
    return p


NOT_IN_IMAGE = ("{what} is not in this installation: the production image leaves the sandboxes and the demo out "
                "(.dockerignore); install from a source checkout (make install) to run it")


def _sandbox_of(host: str):
    """The host's sandbox, as its registry line declares it (a TenantError naming the known hosts if unknown)."""
    from handlers.hosts.registry import host_of

    sandbox = host_of(host).sandbox
    if sandbox is None:
        raise ValueError(f"{host} has no sandbox")
    return sandbox


def _sandbox_app(args, sandbox):
    """The host's sandbox app, built with the options it takes."""
    from handlers.hosts.registry import load

    config = load(sandbox.config)(**{option: getattr(args, option) for option in sandbox.options})
    return load(sandbox.app)(config)


def _demo(args) -> int:
    try:
        from sandboxes.demo import run_demo
        from sandboxes.stack import Stack  # noqa: F401 (the demo's stacks: absent from the production image)
    except ModuleNotFoundError:
        print(NOT_IN_IMAGE.format(what="the demo"), file=sys.stderr)
        return 2
    return run_demo()


def _serve(args) -> int:
    from webhooks.server import serve

    serve(bind=args.bind, workers=args.workers)
    return 0


def _subscribe(args) -> int:
    """One long-running subscriber for the deployment (SIGTERM stops it cleanly), or `--check TENANT`."""
    import signal

    from config.infra.redis_conn import use_worker_profile

    use_worker_profile()
    import threading

    from config import tenants
    from handlers.hosts.registry import HOSTS, host_of, load

    if args.check:
        tenant = tenants.require(args.check)
        host = host_of(tenant)
        if host.stream is None:
            print(f"{host.label} has no change stream: its changes come by webhook")
            return 1
        found = load(host.stream.check)(tenant)
        print(found["message_en"])
        return 0 if found["enabled"] else 1
    subscribers = [load(host.stream.subscriber)() for host in HOSTS.values() if host.stream]
    if not subscribers:
        print("error: no host offers a change stream", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: [s.stop.set() for s in subscribers])
    others = [threading.Thread(target=s.run, daemon=True) for s in subscribers[1:]]
    for thread in others:
        thread.start()
    try:
        subscribers[0].run()
    except KeyboardInterrupt:
        pass
    for subscriber in subscribers:
        subscriber.stop.set()
    for thread in others:
        thread.join()
    return 0


def _worker(args) -> int:
    from config.infra.redis_conn import use_worker_profile

    use_worker_profile()  # patient Redis calls (ride out a failover); request paths give up within a second
    from config.playbook import default_playbook
    from handlers.domain.calendar import warm as warm_calendar
    from handlers.hosts.registry import warm as warm_hosts
    from handlers.sync.jobs import schedule_next_tick
    from handlers.intake.queues import make_worker, recover_orphans, watch_orphans
    from config.infra.heap import freeze_startup
    from config.infra.redis_conn import get_redis
    from handlers.ops.supervise import supervise, worker_options
    from handlers.state import formats

    default_playbook()  # fail at start-up, naming file, step and field, rather than in every job
    from config.infra.urls import exit_unless_operator_settings_pass

    exit_unless_operator_settings_pass()  # the public base URL (links in e-mails), Boond's (config/infra/urls.py)
    try:
        formats.ensure(get_redis())  # never misread a database another version of the stored forms wrote
    except formats.FormatMismatch as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    warm_calendar()  # importing the holiday tables takes ~0.4 s: once at start, not in a job nor in each --fork horse
    warm_hosts()  # the hosts' adapters too: a --fork horse spent most of a job importing them (docs/PERFORMANCE.md)
    recover_orphans()
    watch_orphans()  # and every few seconds: another worker's orphans do not wait for rq's cleanup
    if not args.burst:
        schedule_next_tick()
    # in-process by default: 1.3-2x the forking worker's throughput (docs/PERFORMANCE.md, pipeline and latency)
    worker = make_worker(simple=not args.fork, **worker_options())
    watch = None if args.burst else supervise(worker)  # the scheduler comes back after a Redis restart
    freeze_startup()  # the collector's full passes skip what start-up made (config/infra/heap.py)
    try:
        worker.work(burst=args.burst, with_scheduler=True)
    finally:
        if watch is not None:
            watch.set()
    return 0


def _sandbox(args) -> int:
    sandbox = _sandbox_of(args.host)
    port = args.port or sandbox.port
    try:
        app = _sandbox_app(args, sandbox)
    except ModuleNotFoundError:
        print(NOT_IN_IMAGE.format(what=f"the {args.host} sandbox"), file=sys.stderr)
        return 2
    if bool(args.tls_cert) != bool(args.tls_key):
        raise ValueError("--tls-cert and --tls-key go together")
    tls = (args.tls_cert, args.tls_key) if args.tls_cert else None
    scheme = "https" if tls else "http"
    print(f"{args.host} sandbox on {scheme}://127.0.0.1:{port} (control API under /_control; see docs/SANDBOXES.md)",
          flush=True)
    app.run(host="127.0.0.1", port=port, threaded=True, ssl_context=tls)
    return 0


def _plan(args) -> int:
    from handlers.sync.preview import preview

    result = preview(args.tenant, args.mission)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return 0
    print(f"{args.tenant}/{args.mission}: case {result['case']} — {result['reason']}")
    for a in result["actions"]:
        late = " (late)" if a["late"] else ""
        who = a["assignee"] or f"({a['assignee_why']})" if a["op"] != "cancel" else ""
        print(f"  {a['op']:<11} {a['due']}{late}  {a['assignee_role']:<17} {who}  {a['title']}  [{a['step_id']}]")
    return 0


def _replay(args) -> int:
    from handlers.intake.queues import dead_letters, replay, tenant_of

    if args.list:
        found = [{"id": j.id, "tenant": tenant_of(j), "description": j.description, "error": _last_error(j)}
                 for j in dead_letters(tenant=args.tenant)]
        if args.json:
            print(json.dumps(found, indent=2))
        for row in [] if args.json else found:
            print(f"{row['id']}\t{row['description']}\t{row['error']}")
        return 0
    ids = replay(job_ids=args.job_ids or None, tenant=args.tenant)
    if args.json:
        print(json.dumps({"requeued": ids}))
        return 0
    print(f"requeued {len(ids)} dead letter(s); run `intermission worker` to process them")
    return 0


def _last_error(job) -> str:
    """The last line of the job's latest failure (the exception), or ''."""
    result = job.latest_result()
    text = (getattr(result, "exc_string", None) or "").strip()
    return text.splitlines()[-1] if text else ""


def _keys(args) -> int:
    from config.infra import crypto

    if args.action == "generate":
        print(crypto.generate_key())
        return 0
    print(f"re-encrypted {crypto.rotate_all()} value(s) under the newest key")
    return 0


def _tick(args) -> int:
    from handlers.sync.jobs import tick

    print(json.dumps(tick(), indent=2))
    return 0


def _sweep(args) -> int:
    from datetime import datetime, timedelta, timezone

    from config import tenants
    from config.settings import get_settings
    from connectors.errors import HostError
    from handlers.sync.sweep import sweep
    from intermission_cli.backfill import tenant_error

    minutes = args.since_minutes if args.since_minutes is not None else 2 * get_settings().sweep_interval_seconds / 60
    since = datetime.now(timezone.utc) - timedelta(minutes=minutes)
    chosen = [tenants.require(args.tenant)] if args.tenant else [t for t in map(tenants.get, tenants.list_ids())
                                                                  if t is not None and t.enabled]
    failed = 0
    for tenant in chosen:  # one tenant's failure is said, with its name, and the next one is swept
        try:
            print(json.dumps(sweep(tenant, since)), flush=True)
        except (HostError, ValueError) as exc:
            failed += 1
            print(tenant_error(tenant.id, exc), file=sys.stderr, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
