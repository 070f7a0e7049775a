"""The story on Salesforce, through Outbound Messages and through Flow callouts: the right Tasks, once."""
from __future__ import annotations

from datetime import date

import pytest

from sandboxes.stack_salesforce import SalesforceStack
from config.infra import clock
from handlers.sync.jobs import tick
from tests.e2e.helpers import settle
from tests.e2e.sf_helpers import by_step, duplicates
from connectors.salesforce.settings import salesforce_settings

T0 = date(2026, 3, 2)
CLAIRE, HUGO, JEAN_USER, JEAN_CONTACT = "005000000000002AAA", "005000000000003AAA", "005000000000007AAA", "003000000000007AAA"


@pytest.mark.parametrize("mode", ["soap", "flow"])
def test_story_lands_as_tasks_with_right_dates_owners_and_ids(redis_conn, mode):
    with SalesforceStack("acme-sf", mode=mode, signed_flow=(mode == "flow")) as org:
        clock.pin(T0)
        mission = org.create_mission(date(2025, 11, 3), date(2026, 4, 16))["record"]["Id"]
        settle()
        steps = by_step(org.tasks(), mission)
        assert len(steps) == 8
        assert steps["natural.satisfaction"]["ActivityDate"] == "2026-04-09"
        assert steps["natural.handover"]["ActivityDate"] == "2026-03-25"
        assert steps["natural.satisfaction"]["OwnerId"] == CLAIRE
        assert steps["natural.handover"]["OwnerId"] == JEAN_USER
        assert steps["natural.prospect"]["OwnerId"] == HUGO
        assert steps["natural.satisfaction"]["ReminderDateTime"].startswith("2026-04-09T07:00:00")  # 09:00 Paris, UTC
        for task in steps.values():
            assert task["WhoId"] == JEAN_CONTACT and task["WhatId"] == mission
            assert task["Status"] == "Not Started"
        first_ids = {k: v["Id"] for k, v in steps.items()}

        org.move_end(mission, date(2026, 5, 7))
        settle()
        moved = by_step(org.tasks(), mission)
        assert {k: v["Id"] for k, v in moved.items()} == first_ids
        assert moved["natural.review"]["ActivityDate"] == "2026-05-05"

        org.end_early(mission, date(2026, 3, 12), "client")
        settle()
        client = by_step(org.tasks(), mission)
        assert sorted(k.split(".")[0] for k in client) == ["client"] * 8
        assert client["client.restaff"]["OwnerId"] == HUGO and client["client.restaff"]["Priority"] == "High"

        clock.pin(date(2026, 3, 13))
        tick()
        settle()
        assert "bench.checkin#1" in by_step(org.tasks(), mission)

        org.create_mission(date(2026, 3, 30), date(2026, 12, 18))
        settle()
        assert "bench.checkin#1" in by_step(org.tasks(), mission)  # signed, not started yet: still on the bench
        clock.pin(date(2026, 3, 30))  # the next mission starts: the bench closes
        tick()
        settle()
        after = by_step(org.tasks(), mission)
        assert not any(k.startswith("bench.") for k in after)
        assert len([k for k in after if ".reminder." not in k]) == 8  # plus the unanswered survey's reminders
        assert duplicates(org.tasks()) == []


def test_three_hundred_tasks_for_one_change_take_one_composite_call(redis_conn):
    from config import tenants

    with SalesforceStack("acme-sf") as org:
        tenant = tenants.get("acme-sf")
        extra = [{"id": f"custom.step-{i}", "cases": ["natural"], "kind": "task", "assignee": "manager",
                  "offset": {"days": -(i % 40) - 1}, "title": {"fr": f"Étape {i}", "en": f"Step {i}"},
                  "text": {"fr": "À faire.", "en": "To do."}} for i in range(292)]
        tenant.playbook_overrides = {"add": extra}
        tenants.save(tenant)
        clock.pin(T0)
        org.control("POST", "/_control/calls/reset")
        mission = org.create_mission(date(2025, 11, 3), date(2026, 9, 30))["record"]["Id"]
        settle()
        assert len(by_step(org.tasks(), mission)) == 300
        calls = org.control("GET", "/_control/calls")["by_route"]
        writes = {route: n for route, n in calls.items() if "composite" in route or "sobjects/Task" in route}
        assert writes == {"POST /composite": 1}  # two collections of 200 and 100 in one API call


def test_outbound_message_is_acknowledged_on_the_first_try(sf_stack):
    clock.pin(T0)
    made = sf_stack.create_mission(date(2025, 11, 3), date(2026, 4, 16))
    assert made["deliveries"] and all(d["acked"] and d["attempts"] == 1 for d in made["deliveries"])


def test_survey_steps_get_a_salesforce_surveys_invitation_when_the_org_has_surveys(redis_conn):
    from config import tenants

    with SalesforceStack("acme-sf") as org:
        tenant = tenants.get("acme-sf")
        tenant.host_settings = salesforce_settings(tenant).model_copy(update={"has_surveys": True, "survey_id": "0Kd000000000001AAA"})
        tenants.save(tenant)
        clock.pin(T0)
        mission = org.create_mission(date(2025, 11, 3), date(2026, 4, 16))["record"]["Id"]
        settle()
        invitations = org.control("GET", "/_control/survey-invitations")["records"]
        assert [i["ParticipantId"] for i in invitations] == [JEAN_CONTACT]
        survey_task = by_step(org.tasks(), mission)["natural.satisfaction"]
        assert invitations[0]["InvitationLink"] in survey_task["Description"]
        org.move_end(mission, date(2026, 5, 7))
        settle()
        assert len(org.control("GET", "/_control/survey-invitations")["records"]) == 1  # not invited twice
        assert invitations[0]["InvitationLink"] in by_step(org.tasks(), mission)["natural.satisfaction"]["Description"]


def test_disconnect_revokes_the_token_in_the_org(sf_stack, redis_conn, child_env):
    import subprocess
    import sys

    from handlers.hosts.salesforce.adapter import tokens_for

    refresh_token = tokens_for(sf_stack.tenant, redis_conn).load()["refresh_token"]
    done = subprocess.run([sys.executable, "-m", "intermission_cli.main", "tenant", "disconnect", "acme-sf"], env=child_env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert tokens_for(sf_stack.tenant, redis_conn).load() is None
    creds = sf_stack.control("GET", "/_control/credentials")
    reuse = sf_stack.http.post(sf_stack.sandbox.url + "/services/oauth2/token", timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": creds["client_id"],
        "client_secret": creds["client_secret"]})
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
