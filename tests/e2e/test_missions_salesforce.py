"""Missions, not deliveries, on Salesforce (issue #25), over real HTTP and a real Redis: what lands in the org's Tasks.

The custom `Mission__c` preset maps no project, so its missions chain by client (the Account); the Certinia preset
maps `pse__Project__c` (unit tests; the replacement by assignment here). Every story ends by re-reading each mission
again, the last one first.
"""
from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from config import tenants
from config.infra.redis_conn import get_redis
from config.infra import clock
from handlers.hosts.salesforce.adapter import make_client as sf_client
from handlers.intake.ingest import enqueue_sync
from handlers.sync.jobs import tick
from handlers.sync.preview import preview
from sandboxes.stack_salesforce import SalesforceStack
from tests.e2e.helpers import settle
from tests.e2e.sf_helpers import by_step, duplicates, org_state
from tests.e2e.test_esn_rules_salesforce import settings

CLAIRE, HUGO, JEAN_USER = "005000000000002AAA", "005000000000003AAA", "005000000000007AAA"
JEAN_CONTACT = "003000000000007AAA"
CLIENT_FACING = {"natural.handover", "natural.new_needs", "natural.satisfaction", "natural.rapport_etonnement",
                 "natural.review", "natural.recommendations"}


@pytest.fixture
def org(redis_conn):
    with SalesforceStack("missions-sf") as running:
        yield running


def mission(org, start: date, end: date, **fields) -> str:
    return org.create_mission(start, end, **fields)["record"]["Id"]


def tasks(org, mission_id: str) -> dict[str, dict]:
    return by_step(org.tasks(), mission_id)


def person_edits(org, task_id: str, **fields) -> None:
    """A user changes a Task in Salesforce (PATCH through the REST API)."""
    results = sf_client(tenants.get(org.tenant_id), get_redis()).update_records([{"Id": task_id, **fields}],
                                                                               sobject="Task")
    assert all(r.success for r in results)


def replayed_in_reverse(org, *missions: str) -> None:
    """Every mission read again, the last one first: the org must not change and hold no duplicate."""
    before = org_state(org.tasks())
    for mission_id in reversed(missions):
        enqueue_sync(get_redis(), org.tenant_id, mission_id, trigger={"kind": "webhook", "type": "update"})
        settle()
    assert org_state(org.tasks()) == before and duplicates(org.tasks()) == []


def test_a_renewal_for_the_same_client_friday_to_monday_continues_the_mission(org):
    clock.pin(date(2026, 3, 2))
    first = mission(org, date(2025, 11, 3), date(2026, 5, 29))
    renewal = mission(org, date(2026, 6, 1), date(2026, 9, 30), Name="Refonte du SI logistique (T3)")
    settle()
    assert tasks(org, first) == {}  # not an end: no task, no survey to the client
    last = tasks(org, renewal)
    assert len(last) == 8 and last["natural.recommendations"]["ActivityDate"] == "2026-09-30"
    assert preview(org.tenant_id, first)["case"] == "continued"
    clock.pin(date(2026, 6, 1))
    tick()
    settle()
    assert tasks(org, first) == {}
    replayed_in_reverse(org, first, renewal)


def test_a_renewal_signed_after_the_tasks_were_written_withdraws_them_and_closes_the_edited_one(org):
    clock.pin(date(2026, 3, 2))
    first = mission(org, date(2025, 11, 3), date(2026, 5, 29))
    settle()
    written = tasks(org, first)
    person_edits(org, written["natural.review"]["Id"], Subject="Bilan à trois (avec la DSI)")
    person_edits(org, written["natural.handover"]["Id"], Status="Completed")
    clock.pin(date(2026, 4, 20))
    renewal = mission(org, date(2026, 6, 1), date(2026, 12, 18))
    settle()
    left = tasks(org, first)
    assert sorted(left) == ["natural.handover", "natural.review"]  # the untouched ones are withdrawn
    assert left["natural.handover"]["Status"] == "Completed"
    assert left["natural.review"]["Subject"] == "Bilan à trois (avec la DSI)"
    assert left["natural.review"]["Status"] == "Completed" and "n'est plus prévue" in left["natural.review"]["Description"]
    assert len(tasks(org, renewal)) == 8
    replayed_in_reverse(org, first, renewal)


def test_a_next_mission_with_another_client_keeps_the_client_facing_tasks_only(org):
    clock.pin(date(2026, 3, 2))
    other = org.control("POST", "/_control/accounts", json={"Name": "Banque du Nord"})["Id"]
    first = mission(org, date(2025, 11, 3), date(2026, 5, 29))
    nxt = mission(org, date(2026, 6, 1), date(2026, 12, 18), Account__c=other, Name="Migration cloud")
    settle()
    assert set(tasks(org, first)) == CLIENT_FACING  # no availability, no prospecting
    clock.pin(date(2026, 6, 1))
    tick()
    settle()
    assert not [k for k in tasks(org, first) if k.startswith("bench.")]
    replayed_in_reverse(org, first, nxt)


def test_an_overdue_task_keeps_its_date_and_late_tasks_are_spread_with_a_cap(org):
    clock.pin(date(2026, 3, 2))
    tenant = tenants.get(org.tenant_id)
    tenants.save(tenant.model_copy(update={"planning": tenant.planning.model_copy(update={"daily_cap": 3})}))
    kept = mission(org, date(2025, 11, 3), date(2026, 4, 16))
    settle()
    assert tasks(org, kept)["natural.availability"]["ActivityDate"] == "2026-03-04"
    clock.pin(date(2026, 3, 10))
    org.update_mission(kept, Name="Refonte du SI logistique — lot 2")  # unrelated: the texts are rewritten
    settle()
    overdue = tasks(org, kept)["natural.availability"]
    assert "lot 2" in overdue["Description"] and overdue["ActivityDate"] == "2026-03-04"  # not slid
    clock.pin(date(2026, 6, 8))
    late = mission(org, date(2025, 11, 3), date(2026, 5, 29), Consultant__c=org.new_consultant("Durand"))
    settle()
    got = tasks(org, late)
    per_day = Counter((t["OwnerId"], t["ActivityDate"]) for t in got.values())
    assert max(per_day.values()) == 3
    first_late_day = {k for k, t in got.items() if t["OwnerId"] == CLAIRE and t["ActivityDate"] == "2026-06-09"}
    # the oldest first; the availability announcement of an end already past is not planned (pointless, issue #27)
    assert first_late_day == {"natural.satisfaction", "natural.review", "natural.recommendations"}
    assert "natural.availability" not in got
    tick()  # the first mission's bench has come meanwhile
    settle()
    replayed_in_reverse(org, kept, late)


def test_a_subcontractor_flagged_by_a_mapped_field_is_never_on_the_bench(org):
    clock.pin(date(2026, 6, 3))
    settings(org, mapping={"consultant_external": "Consultant__r.Title"})
    person = org.control("POST", "/_control/contacts", json={"LastName": "Libre", "Title": "Sous-traitant"})["Id"]
    external = mission(org, date(2025, 11, 3), date(2026, 5, 29), Consultant__c=person, Consultant_User__c=None)
    employee = mission(org, date(2025, 11, 3), date(2026, 5, 29), Consultant__c=org.new_consultant("Salarié"),
                       Consultant_User__c=None)
    settle()
    got = tasks(org, external)
    assert "natural.recommendations" in got and not [k for k in got if k.startswith("bench.")]
    assert "external (subcontractor or freelance): no bench" in preview(org.tenant_id, external)["reason"]
    assert [k for k in tasks(org, employee) if k.startswith("bench.")]  # the same dates for an employee: a bench
    replayed_in_reverse(org, external, employee)


def test_steps_due_after_a_consultants_contract_end_go_to_the_manager(org):
    clock.pin(date(2026, 3, 2))
    settings(org, mapping={"contract_end": "Consultant__r.Contract_End__c"})
    leaving = org.control("POST", "/_control/contacts", json={"LastName": "Départ", "Contract_End__c": "2026-05-20"})
    mission_id = mission(org, date(2025, 11, 3), date(2026, 5, 29), Consultant__c=leaving["Id"])
    settle()
    got = tasks(org, mission_id)
    assert got["natural.handover"]["OwnerId"] == JEAN_USER  # due 7 May: before he leaves, his own
    report = got["natural.rapport_etonnement"]  # due 21 May: after he leaves
    assert report["OwnerId"] == CLAIRE and "aura quitté l'entreprise" in report["Description"]
    assert report["WhoId"] == leaving["Id"]  # still on the consultant's record
    assert "natural.availability" not in got and "natural.prospect" not in got
    assert preview(org.tenant_id, mission_id)["case"] == "natural"
    replayed_in_reverse(org, mission_id)


def test_a_consultant_changed_on_the_mission_takes_its_open_tasks_and_the_old_one_is_replanned(org):
    from handlers.surveys import records as surveys

    clock.pin(date(2026, 3, 2))
    other = org.control("POST", "/_control/accounts", json={"Name": "Banque du Nord"})["Id"]
    audit = mission(org, date(2025, 11, 3), date(2026, 4, 17), Account__c=other, Name="Audit")  # Jean's
    main = mission(org, date(2026, 4, 20), date(2026, 9, 30))  # Jean's next mission, from Monday
    settle()
    assert "natural.availability" not in tasks(org, audit)
    written = tasks(org, main)
    person_edits(org, written["natural.handover"]["Id"], Subject="Passation — plan validé avec Jean")
    old_link = surveys.states(get_redis(), org.tenant_id, main)["consultant"].token
    nina = org.control("POST", "/_control/contacts", json={"FirstName": "Nina", "LastName": "Nouveau"})["Id"]
    org.update_mission(main, Consultant__c=nina, Consultant_User__c=HUGO)  # Nina (user: Hugo's seat) replaces him
    settle()
    after = tasks(org, main)
    review = after["natural.review"]
    assert review["WhoId"] == nina and "Nina Nouveau" in review["Subject"]  # on her record, in her name
    assert after["natural.rapport_etonnement"]["OwnerId"] == HUGO  # her step, her user
    kept = after["natural.handover"]
    assert kept["WhoId"] == JEAN_CONTACT and kept["Subject"] == "Passation — plan validé avec Jean"  # touched: stays
    survey = surveys.states(get_redis(), org.tenant_id, main)["consultant"]
    assert survey.person_id == nina and survey.token in after["natural.satisfaction"]["Description"]
    assert old_link not in after["natural.satisfaction"]["Description"]
    assert surveys.find(get_redis(), old_link) is None  # Jean's link no longer opens a survey
    jean = tasks(org, audit)  # Jean re-planned from his remaining missions: free after the audit
    assert "natural.availability" in jean and "natural.prospect" in jean
    replayed_in_reverse(org, audit, main)


def test_a_swap_of_two_consultants_on_the_same_day_moves_each_ones_tasks(org):
    clock.pin(date(2026, 3, 2))
    other = org.control("POST", "/_control/accounts", json={"Name": "Banque du Nord"})["Id"]
    nina = org.control("POST", "/_control/contacts", json={"FirstName": "Nina", "LastName": "Nouveau"})["Id"]
    jeans = mission(org, date(2025, 11, 3), date(2026, 5, 29))
    ninas = mission(org, date(2025, 11, 3), date(2026, 6, 30), Account__c=other, Name="Migration",
                    Consultant__c=nina, Consultant_User__c=HUGO)
    settle()
    org.update_mission(jeans, Consultant__c=nina, Consultant_User__c=HUGO)  # the same day, each takes the other's
    org.update_mission(ninas, Consultant__c=JEAN_CONTACT, Consultant_User__c=JEAN_USER)
    settle()
    for mission_id, who, user, name in ((jeans, nina, HUGO, "Nina Nouveau"), (ninas, JEAN_CONTACT, JEAN_USER, "Jean")):
        got = tasks(org, mission_id)
        assert len(got) == 8
        assert {t["WhoId"] for k, t in got.items() if k != "natural.satisfaction"} == {who}  # on their record
        assert got["natural.handover"]["OwnerId"] == user and name in got["natural.review"]["Subject"]  # in their name
    assert duplicates(org.tasks()) == []
    replayed_in_reverse(org, jeans, ninas)


def test_a_second_bench_period_of_the_same_mission_gets_the_full_menu(org):
    clock.pin(date(2026, 5, 4))
    kept = mission(org, date(2025, 11, 3), date(2026, 5, 29))
    settle()
    clock.pin(date(2026, 6, 3))
    tick()
    settle()
    bench = tasks(org, kept)
    for key in ("bench.cv_update", "bench.training"):
        person_edits(org, bench[key]["Id"], Status="Completed")  # done during the first bench
    org.move_end(kept, date(2026, 9, 30))  # extended: back on mission
    settle()
    assert sorted(k for k in tasks(org, kept) if k.startswith("bench.")) == ["bench.cv_update", "bench.training"]
    clock.pin(date(2026, 10, 1))
    tick()
    settle()
    got = tasks(org, kept)
    again = {k: t for k, t in got.items() if k.startswith("bench.") and "#p20261001" in k}
    assert "bench.cv_update#p20261001" in again and "bench.training#p20261001" in again  # a full menu again
    assert again["bench.cv_update#p20261001"]["ActivityDate"] == "2026-10-02"
    assert got["bench.cv_update"]["Status"] == "Completed"  # the first one kept as the person left it
    replayed_in_reverse(org, kept)


def test_certinia_an_early_end_then_another_consultants_assignment_on_the_project_is_a_replacement(org):
    from tests.e2e.test_salesforce_certinia import _certinia

    outcomes = []
    for order in ("early end first", "replacement known first"):
        get_redis().flushdb()
        org.start_tenant()  # an empty org, a fresh tenant on the Certinia preset
        clock.pin(date(2026, 3, 2))
        _certinia(org)
        nina = org.control("POST", "/_control/contacts", json={"FirstName": "Nina", "LastName": "Nouveau",
                                                                "pse__Salesforce_User__c": HUGO})["Id"]

        def assignment(start: date, end: date, **fields) -> str:
            body = {"object": "pse__Assignment__c", "pse__Start_Date__c": start.isoformat(),
                    "pse__End_Date__c": end.isoformat(), **fields}
            return org.control("POST", "/_control/missions", json=body)["record"]["Id"]

        jeans = assignment(date(2025, 11, 3), date(2026, 9, 30))
        settle()
        clock.pin(date(2026, 3, 16))
        early = {"pse__End_Date__c": "2026-04-17", "pse__Closed_Reason__c": "Consultant"}  # his own decision
        if order == "early end first":
            org.update_mission(jeans, **early)
            settle()
            ninas = assignment(date(2026, 4, 20), date(2026, 9, 30), pse__Resource__c=nina)
        else:
            ninas = assignment(date(2026, 4, 20), date(2026, 9, 30), pse__Resource__c=nina)
            settle()
            org.update_mission(jeans, **early)
        settle()
        got = tasks(org, jeans)
        transition = got["consultant.transition"]
        assert transition["Subject"].endswith("— passation à Nina Nouveau")  # to whom
        assert "Nina Nouveau, sur la mission à partir du 20/04/2026" in transition["Description"]
        assert transition["WhoId"] == JEAN_CONTACT and transition["OwnerId"] == JEAN_USER  # his, in his name
        assert "Nina Nouveau" in got["consultant.replacement_offer"]["Subject"]
        assert not [k for k, t in got.items() if "Nina" in t["Subject"] + t["Description"]
                    and k not in ("consultant.transition", "consultant.replacement_offer")]
        assert {t["WhoId"] for k, t in got.items() if t["WhoId"]} == {JEAN_CONTACT}  # nothing of his moved to her
        assert {t["WhoId"] for t in tasks(org, ninas).values() if t["WhoId"]} == {nina}  # her own mission's tasks
        assert duplicates(org.tasks()) == []
        replayed_in_reverse(org, jeans, ninas)
        outcomes.append(sorted((k, t["Subject"], t["ActivityDate"]) for k, t in got.items()))
    assert outcomes[0] == outcomes[1]  # the order the assignments came in changes nothing
