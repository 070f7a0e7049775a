"""An install that lands softly (issue #27): a Boond tenant of 70 consultants and 140 missions, many of them ended
lately or ending soon, installed from the marketplace; its backfill plans every mission in its own job, and no person
gets more than the tenant's daily cap of actions on any day, every expected step written once, and the set-up flow's
forecast says what the run writes."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from config import tenants
from config.infra import clock
from config.infra.redis_conn import get_redis
from handlers.domain.calendar import is_business_day
from handlers.sync import backfill, setup
from tests.e2e.helpers import MARK, assert_planned_once, due, owner, settle
from tests.e2e.scale_story import unthrottle

T0 = date(2026, 3, 2)  # the market fixture's pinned day (a Monday)
CONSULTANTS = 70
MANAGERS = 4
AFTER = 10  # business days from a first mission's end to its next one's


def _business_days(start: date, count: int) -> list[date]:
    days, day = [], start
    while len(days) < count:
        if is_business_day(day, "FR"):
            days.append(day)
        day += timedelta(days=1)
    return days


def _tenant_of_140(market) -> dict[str, date]:
    """70 consultants, each on two missions in a row with one of four managers: the first ended in the last 30 days
    or ending soon, the next one ending two weeks later; at most one end a day for a manager, two for the
    business engineer, so that their steps on their own dates never fill a day by themselves. Mission id → end."""
    days = _business_days(T0 - timedelta(days=28), CONSULTANTS + AFTER)
    projects = []
    for m in range(MANAGERS):
        manager = market.control("POST", "/_control/resources", json={"firstName": "Manager", "lastName": f"M{m}",
                                                                       "mainManager": None, "hrManager": None})["id"]
        projects.append([market.control("POST", "/_control/projects", json={"mainManager": manager})["id"]
                         for _ in range(2)])  # the next mission on another project: not the same one going on
    ends = {}
    for i in range(CONSULTANTS):
        consultant = market.new_consultant(f"Conso{i}")
        first_end, next_end = days[i], days[i + AFTER]
        for start, end, project in ((first_end - timedelta(days=150), first_end, projects[i % MANAGERS][0]),
                                    (first_end + timedelta(days=1), next_end, projects[i % MANAGERS][1])):
            made = market.create_delivery(start, end, resource=consultant, project=project, title=f"Mission {i}")
            ends[made["data"]["id"]] = end
    assert len(ends) == 2 * CONSULTANTS and sum(end < T0 for end in ends.values()) >= 20
    return ends


def test_an_install_of_140_missions_gives_no_person_more_than_the_daily_cap_on_any_day(market, redis_conn):
    unthrottle(market)  # 140 missions read twice (forecast, run): the sandbox's own 10 s limit would only add waits
    ends = _tenant_of_140(market)
    market.market("install")
    assert market.configure(finish_setup=False)["configured"] is True
    tenant = market.installed()
    cap = tenant.planning.daily_cap
    forecast = backfill.forecast(get_redis(), tenant)  # what the set-up flow's last screen shows
    setup.finish(get_redis(), tenants.require(tenant.id))  # the admin activates
    settle()

    run = backfill.progress(redis_conn, tenant.id)
    assert (run["status"], run["total"], run["planned"], run["failed"]) == ("done", 140, 140, 0)
    actions = market.actions()
    assert all(owner(a) for a in actions), "an action with no owner"
    load = Counter((owner(a), due(a)) for a in actions)
    (busiest, day), most = load.most_common(1)[0]
    assert most <= cap, [(k, n) for k, n in load.items() if n > cap]
    late = [a for a in actions if "en retard" in a["attributes"]["text"]]
    assert len(late) > 10 * cap  # many late steps, spread: the first business day holds only the cap for anyone
    assert max(n for (_, d), n in load.items() if d == "2026-03-03") <= cap
    assert_planned_once(market, redis_conn, set(ends), T0)  # every expected step, once
    assert (forecast["missions"], forecast["actions"], forecast["busiest_count"]) == (140, len(actions), most)
    assert forecast["late"] == len(late)

    backfill.start(redis_conn, tenant.id, "cli", enqueue=False)  # a second run (the CLI's) moves nothing
    assert backfill.carry_on(redis_conn, tenant.id)["planned"] == 140
    assert sorted((a["id"], due(a), owner(a)) for a in market.actions()) == \
        sorted((a["id"], due(a), owner(a)) for a in actions)
    assert {MARK.search(a["attributes"]["text"]).group(1) for a in actions} == set(ends)


def test_the_same_install_on_salesforce_gives_no_person_more_than_the_cap_either(sf_stack, redis_conn):
    """The batched host: one tenant batch a page of 20 missions, the same run-wide load. Two managers (the org's
    seeded users), the same business engineer and HR for all; the next mission with another client (missions chain
    by account there). The seeded org has only four users to own 140 missions' steps, so some of their days are full
    with steps on their own dates (never moved): the check is that no day holding a late step is over the cap."""
    from sandboxes.salesforce.seed import CLAIRE, HUGO, INES
    from tests.e2e.sf_helpers import MARK as SF_MARK, duplicates

    clock.pin(T0)
    accounts = [sf_stack.control("POST", "/_control/accounts", json={"Name": f"Client {n}"})["Id"] for n in "AB"]
    days, after = _business_days(T0 - timedelta(days=28), CONSULTANTS + 9), 9  # odd: a day's two ends, two managers
    ends = {}
    for i in range(CONSULTANTS):
        consultant = sf_stack.new_consultant(f"Conso{i}")
        for n, (start, end) in enumerate(((days[i] - timedelta(days=150), days[i]),
                                          (days[i] + timedelta(days=1), days[i + after]))):
            manager = (CLAIRE, INES)[(i + n * after) % 2]
            made = sf_stack.create_mission(start, end, deliver=False, Consultant__c=consultant, Account__c=accounts[n],
                                           Manager__c=manager, Business_Engineer__c=HUGO, HR_Manager__c=INES,
                                           Name=f"Mission {i}")
            ends[made["record"]["Id"]] = end
    tenant = tenants.get(sf_stack.tenant_id)
    forecast = backfill.forecast(get_redis(), tenant)
    sf_stack.connect()  # the admin connects (again): the callback starts the install run
    settle()
    run = backfill.progress(redis_conn, tenant.id)
    assert (run["status"], run["total"], run["planned"], run["failed"]) == ("done", 140, 140, 0)
    tasks = sf_stack.tasks()
    assert duplicates(tasks) == [] and {SF_MARK.search(t["Description"]).group(1) for t in tasks} == set(ends)
    load = Counter((t["OwnerId"], t["ActivityDate"]) for t in tasks)
    late = {(t["OwnerId"], t["ActivityDate"]) for t in tasks if "en retard" in (t.get("Description") or "")}
    assert len(late) > 30  # many late steps, spread over many people's days…
    cap = tenant.planning.daily_cap
    assert all(load[day] <= cap for day in late), [(k, load[k]) for k in late if load[k] > cap]  # …never over the cap
    most = max(load.values())
    assert (forecast["missions"], forecast["actions"], forecast["busiest_count"]) == (140, len(tasks), most)
