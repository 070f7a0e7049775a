"""The Certinia (PSA) preset: names read through relationship paths, dates read on the assignment's schedule."""
from __future__ import annotations

from datetime import date

from config import tenants
from connectors.salesforce.mapping import preset
from config.infra import clock
from handlers.sync.preview import preview
from tests.e2e.helpers import settle
from tests.e2e.sf_helpers import by_step, duplicates
from connectors.salesforce.settings import salesforce_settings

T0 = date(2026, 3, 2)
ASSIGNMENT_FIELDS = ["Id", "pse__End_Date__c", "LastModifiedDate"]


def _certinia(sf_stack, name: str = "certinia"):
    """The tenant on a Certinia preset, and the org's Outbound Message wired on pse__Assignment__c."""
    cfg = salesforce_settings(sf_stack.tenant).model_copy(update={"mapping": preset(name)})
    tenants.save(sf_stack.tenant.model_copy(update={"host_settings": cfg}))
    sf_stack.control("DELETE", "/_control/outbound")
    sf_stack.control("POST", "/_control/outbound", json={"url": sf_stack.webhook_url, "object": "pse__Assignment__c",
                                                         "fields": ASSIGNMENT_FIELDS, "mode": "soap"})


def _assignment(sf_stack, start: date, end: date) -> str:
    body = {"object": "pse__Assignment__c", "pse__Start_Date__c": start.isoformat(), "pse__End_Date__c": end.isoformat()}
    return sf_stack.control("POST", "/_control/missions", json=body)["record"]["Id"]


def test_certinia_task_subjects_name_the_client_read_through_the_project(sf_stack, redis_conn):
    clock.pin(T0)
    _certinia(sf_stack)
    assignment = _assignment(sf_stack, date(2025, 11, 3), date(2026, 4, 16))
    settle()
    tasks = by_step(sf_stack.tasks(), assignment)
    assert len(tasks) == 8 and duplicates(sf_stack.tasks()) == []
    subjects = [t["Subject"] for t in tasks.values()]
    # the account is the project's (pse__Project__r.pse__Account__c): its Name read as pse__Project__r.pse__Account__r.Name
    assert "Sonder Acme Industrie sur ses prochains besoins" in subjects
    assert not [s for s in subjects if "  " in s or s.endswith(" ") or " chez ," in s]


def test_certinia_plan_names_every_assignee(sf_stack, redis_conn):
    clock.pin(T0)
    _certinia(sf_stack)
    assignment = _assignment(sf_stack, date(2025, 11, 3), date(2026, 4, 16))
    actions = preview("acme-sf", assignment)["actions"]
    assert len(actions) == 8
    names = {a["assignee_role"]: a["assignee"] for a in actions}
    # the manager is the project's owner (pse__Project__r.OwnerId → pse__Project__r.Owner.Name), the consultant's
    # user is reached through the resource (pse__Resource__r.pse__Salesforce_User__r.Name)
    assert names.get("manager") == "Claire Martin" and all(names.values()), names


def test_certinia_schedule_dates_are_the_ones_the_tasks_follow(sf_stack, redis_conn):
    clock.pin(T0)
    _certinia(sf_stack, "certinia_schedule")
    assignment = _assignment(sf_stack, date(2025, 11, 3), date(2026, 4, 16))
    settle()
    assert by_step(sf_stack.tasks(), assignment)["natural.review"]["ActivityDate"] == "2026-04-14"
    # the planner moves the schedule only (the assignment's own date field is left as it was): the Tasks follow it
    sf_stack.control("POST", f"/_control/missions/{assignment}/update",
                     json={"schedule": {"pse__End_Date__c": "2026-05-07"}})
    settle()
    assert by_step(sf_stack.tasks(), assignment)["natural.review"]["ActivityDate"] == "2026-05-05"
    assert duplicates(sf_stack.tasks()) == []
