"""Missions, not deliveries, on Boond (issue #25), over real HTTP and a real Redis: what lands in the sandbox.

The mission chain (a renewal continues the mission), dates that move only with their anchor (late steps spread with
a per-person daily cap), and each bench period its own. Every story ends by re-reading each delivery again, the last
one first, and checks the host did not change and holds no duplicate.
"""
from __future__ import annotations

from collections import Counter
from datetime import date

from config import tenants
from config.infra.redis_conn import get_redis
from config.infra import clock
from handlers.intake.ingest import enqueue_sync
from handlers.state.store import SnapshotStore
from handlers.sync.jobs import tick
from handlers.sync.preview import preview
from tests.e2e.helpers import by_step, due, host_state, markers, owner, settle
from tests.e2e.test_esn_rules_boond import deliver, steps
from tests.e2e.test_people_work import DONE_TYPE, _boond_person_edits as person_edits, _map_done_type as map_done_type
from connectors.boond.settings import boond_settings

CLIENT_FACING = {"natural.handover", "natural.new_needs", "natural.satisfaction", "natural.rapport_etonnement",
                 "natural.review", "natural.recommendations"}


def planning(stack, **changes) -> None:
    tenant = tenants.get(stack.tenant_id)
    tenants.save(tenant.model_copy(update={"planning": tenant.planning.model_copy(update=changes)}))


def replayed_in_reverse(stack, *missions: str) -> None:
    """Every delivery read again, the last one first (as late or re-sent webhooks would make the worker do); the
    host must not change and hold no duplicate."""
    before = host_state(stack.actions())
    for mission in reversed(missions):
        enqueue_sync(get_redis(), stack.tenant_id, mission, trigger={"kind": "webhook", "type": "update"})
        settle()
    assert host_state(stack.actions()) == before
    assert not stack.actions() or max(markers(stack.actions()).values()) == 1


def test_a_renewal_on_the_same_project_friday_to_monday_continues_the_mission(stack):
    clock.pin(date(2026, 3, 2))
    first = deliver(stack, date(2025, 11, 3), date(2026, 5, 29))  # ends on a Friday
    renewal = deliver(stack, date(2026, 6, 1), date(2026, 9, 30), title="Refonte du SI logistique (T3)")  # Monday
    settle()
    assert steps(stack, first) == {}  # not an end: no end-of-mission step, no survey, nothing to the client
    last = steps(stack, renewal)
    assert len(last) == 8 and due(last["natural.recommendations"]) == "2026-09-30"  # the chain's last end
    assert "continues in Refonte du SI logistique (T3) from 2026-06-01" in preview(stack.tenant_id, first)["reason"]
    clock.pin(date(2026, 6, 1))
    tick()
    settle()
    assert steps(stack, first) == {}  # and no bench on Monday
    replayed_in_reverse(stack, first, renewal)


def test_a_renewal_signed_after_the_steps_were_written_withdraws_them_and_closes_the_edited_one(stack):
    clock.pin(date(2026, 3, 2))
    map_done_type(stack)
    first = deliver(stack, date(2025, 11, 3), date(2026, 5, 29))
    settle()
    written = steps(stack, first)
    assert len(written) == 8
    person_edits(stack, written["natural.review"]["id"], title="Bilan à trois — calé le 27/05")
    person_edits(stack, written["natural.handover"]["id"], typeOf=DONE_TYPE)  # ticked done
    clock.pin(date(2026, 4, 20))
    renewal = deliver(stack, date(2026, 6, 1), date(2026, 12, 18))  # the renewal is signed
    settle()
    left = steps(stack, first)
    assert sorted(left) == ["natural.handover", "natural.review"]  # the untouched ones are withdrawn
    assert left["natural.handover"]["attributes"]["typeOf"] == DONE_TYPE  # what a person ticked stays as it was
    review = left["natural.review"]["attributes"]
    assert review["title"] == "Bilan à trois — calé le 27/05" and review["typeOf"] == DONE_TYPE
    assert "n'est plus prévue" in review["text"]  # closed with a note, not deleted
    assert len(steps(stack, renewal)) == 8
    replayed_in_reverse(stack, first, renewal)


def test_a_next_mission_with_another_client_keeps_the_client_facing_steps_only(stack):
    clock.pin(date(2026, 3, 2))
    other = stack.control("POST", "/_control/projects", json={"companyName": "Banque du Nord"})["id"]
    first = deliver(stack, date(2025, 11, 3), date(2026, 5, 29))
    nxt = deliver(stack, date(2026, 6, 1), date(2026, 12, 18), project=other, title="Migration cloud")
    settle()
    got = steps(stack, first)
    assert set(got) == CLIENT_FACING  # satisfaction, review, handover, report, recommendation, needs: kept
    assert "natural.availability" not in got and "natural.prospect" not in got  # the next mission is known
    clock.pin(date(2026, 6, 1))
    tick()
    settle()
    assert not [k for k in steps(stack, first) if k.startswith("bench.")]
    assert preview(stack.tenant_id, first)["case"] == "restaffed"
    replayed_in_reverse(stack, first, nxt)


def test_the_same_client_setting_chains_another_project_of_that_client(stack):
    clock.pin(date(2026, 3, 2))
    planning(stack, chain_by="client")
    same_client = stack.control("POST", "/_control/projects", json={})["id"]  # another project of Acme Industrie
    first = deliver(stack, date(2025, 11, 3), date(2026, 5, 29))
    renewal = deliver(stack, date(2026, 6, 1), date(2026, 12, 18), project=same_client)
    settle()
    assert steps(stack, first) == {} and len(steps(stack, renewal)) == 8
    replayed_in_reverse(stack, first, renewal)


def test_an_overdue_step_keeps_its_date_when_an_unrelated_change_rewrites_it(stack):
    clock.pin(date(2026, 3, 2))
    mission = deliver(stack, date(2025, 11, 3), date(2026, 4, 16))
    settle()
    before = steps(stack, mission)
    assert due(before["natural.availability"]) == "2026-03-04"
    clock.pin(date(2026, 3, 10))  # availability is now overdue; the admin switches the tenant to English
    tenant = tenants.get(stack.tenant_id)
    tenants.save(tenant.model_copy(update={"language": "en"}))
    enqueue_sync(get_redis(), stack.tenant_id, mission, trigger={"kind": "webhook", "type": "update"})
    settle()
    after = steps(stack, mission)
    assert "Why:" in after["natural.availability"]["attributes"]["text"]  # rewritten…
    assert due(after["natural.availability"]) == "2026-03-04"  # …but still due when it was: overdue, not slid
    assert {k: due(v) for k, v in after.items()} == {k: due(v) for k, v in before.items()}
    replayed_in_reverse(stack, mission)


def test_two_successive_cuts_spread_the_late_steps_capped_per_person_oldest_first(stack):
    clock.pin(date(2026, 3, 2))
    planning(stack, daily_cap=3)
    mission = deliver(stack, date(2025, 11, 3), date(2026, 6, 30))
    settle()
    clock.pin(date(2026, 5, 11))
    stack.end_early(mission, date(2026, 5, 29), "client")  # first cut
    settle()
    clock.pin(date(2026, 6, 1))
    stack.end_early(mission, date(2026, 5, 22), "client")  # second cut, found after the new end: all late
    settle()
    got = steps(stack, mission)
    per_day = Counter((owner(v), due(v)) for v in got.values())
    assert max(per_day.values()) == 3  # never more than the cap for one person on one day
    manager = [k for _, k in sorted((due(v), k) for k, v in got.items() if owner(v) == "2" and "2026-06-01" <= due(v) < "2026-06-08")]
    assert [due(got[k]) for k in manager] == ["2026-06-02"] * 3 + ["2026-06-03"] * 2  # spread over the next days…
    assert set(manager[:3]) == {"client.satisfaction", "client.review", "bench.checkin#1"}  # …the oldest first
    understand = got["client.understand_reason"]
    assert due(understand) == "2026-05-11"  # its anchor (the notice) did not move: its date did not either
    assert "22/05/2026" in understand["attributes"]["text"]  # though its text says the new end
    replayed_in_reverse(stack, mission)


def test_the_daily_cap_is_the_tenants(stack):
    clock.pin(date(2026, 6, 8))
    planning(stack, daily_cap=2)
    mission = deliver(stack, date(2025, 11, 3), date(2026, 5, 29))
    settle()
    got = steps(stack, mission)
    per_day = Counter((owner(v), due(v)) for v in got.values())
    assert max(per_day.values()) == 2
    manager = sorted((due(v), k) for k, v in got.items() if owner(v) == "2" and k.startswith("natural."))
    # the oldest first: satisfaction and review on the first day, the recommendation request on the next; the
    # availability announcement of an end already past is not planned at all (pointless, issue #27)
    assert {k for _, k in manager[:2]} == {"natural.review", "natural.satisfaction"}
    assert manager[2][1] == "natural.recommendations" and manager[2][0] > manager[1][0]
    assert "natural.availability" not in got


def test_a_second_bench_period_of_the_same_mission_gets_the_full_menu(stack):
    clock.pin(date(2026, 5, 4))
    map_done_type(stack)
    mission = deliver(stack, date(2025, 11, 3), date(2026, 5, 29))
    settle()
    clock.pin(date(2026, 6, 3))
    tick()
    settle()
    bench = steps(stack, mission)
    for key in ("bench.cv_update", "bench.training"):
        person_edits(stack, bench[key]["id"], typeOf=DONE_TYPE)  # done during the first bench
    stack.move_end(mission, date(2026, 9, 30))  # extended: back on mission
    settle()
    assert sorted(k for k in steps(stack, mission) if k.startswith("bench.")) == ["bench.cv_update", "bench.training"]
    clock.pin(date(2026, 10, 1))
    tick()
    settle()
    again = {k: v for k, v in steps(stack, mission).items() if k.startswith("bench.") and "#p20261001" in k}
    assert "bench.cv_update#p20261001" in again and "bench.training#p20261001" in again  # a full menu again
    assert due(again["bench.cv_update#p20261001"]) == "2026-10-02"
    assert steps(stack, mission)["bench.cv_update"]["attributes"]["typeOf"] == DONE_TYPE  # the first one kept
    replayed_in_reverse(stack, mission)


# --- history is not a bench ---------------------------------------------------------------------------------------

def _history_story(stack, order: str) -> tuple[str, str]:
    """A delivery completed nine months ago and a running one of the same consultant, both in Boond, read in `order`
    (their webhooks sent one after the other); the old one never gets a step, at any point."""
    clock.pin(date(2026, 6, 3))
    periods = {"old": (date(2025, 1, 6), date(2025, 9, 30), "Audit ancien"),
               "running": (date(2026, 1, 5), date(2026, 12, 31), "Data lake")}
    made = {name: stack.create_delivery(start, end, title=title, deliver=False)["data"]["id"]
            for name, (start, end, title) in periods.items()}
    for name in (("old", "running") if order == "old first" else ("running", "old")):
        enqueue_sync(get_redis(), stack.tenant_id, made[name], trigger={"kind": "webhook", "type": "create"})
        settle()
        assert SnapshotStore(get_redis(), stack.tenant_id).get(made[name]) is not None  # the worker read it
        assert steps(stack, made["old"]) == {}
    return made["old"], made["running"]


def test_history_read_in_either_order_never_starts_a_bench(stack):
    states = []
    for order in ("old first", "running first"):
        get_redis().flushdb()
        stack.start_tenant()  # subscribed to the sandbox's webhooks again, so each delivery is read
        old, running = _history_story(stack, order)
        assert steps(stack, old) == {}  # no end-of-mission steps (history) and no bench, at any point
        states.append(sorted(k.split("/", 1)[1] for k in by_step(stack.actions())))
    assert states[0] == states[1]


def test_history_with_the_timeline_tab_refused_never_starts_a_bench_whatever_the_order(redis_conn):
    from sandboxes.stack import Stack

    for order in ("old first", "running first"):
        redis_conn.flushdb()
        with Stack("acme", dialect="observed") as observed:  # Boond answers 404 on deliveries-inactivities
            old, _ = _history_story(observed, order)
            assert steps(observed, old) == {}
            assert "other missions are unknown: no bench" in preview("acme", old)["reason"]


def test_a_subcontractor_or_a_consultant_the_host_says_is_staffed_is_never_on_the_bench(stack):
    clock.pin(date(2026, 6, 3))
    tenant = tenants.get(stack.tenant_id)
    boond_settings(tenant).external_resource_types = ["1"]
    tenants.save(tenant)
    freelance = stack.control("POST", "/_control/resources", json={"lastName": "Libre", "typeOf": 1})["id"]
    external = deliver(stack, date(2025, 11, 3), date(2026, 5, 29), resource=freelance)
    settle()
    got = steps(stack, external)
    assert "natural.recommendations" in got and not [k for k in got if k.startswith("bench.")]
    assert "external (subcontractor or freelance): no bench" in preview(stack.tenant_id, external)["reason"]
    tenant = tenants.get(stack.tenant_id)
    boond_settings(tenant).resource_states = {**boond_settings(tenant).resource_states, "1": "staffed"}  # "En cours" means on a mission
    tenants.save(tenant)
    staffed = deliver(stack, date(2025, 11, 3), date(2026, 5, 29))  # Jean, resource state 1
    settle()
    assert not [k for k in steps(stack, staffed) if k.startswith("bench.")] and steps(stack, staffed)


# --- leavers and labels ---------------------------------------------------------------------------------------------

def test_a_consultant_who_leaves_owns_no_step_after_and_gets_no_new_mission_step(stack):
    clock.pin(date(2026, 3, 2))
    map_done_type(stack)
    mission = deliver(stack, date(2025, 11, 3), date(2026, 5, 29))
    settle()
    before = steps(stack, mission)
    assert owner(before["natural.handover"]) == "7" and owner(before["natural.rapport_etonnement"]) == "7"
    person_edits(stack, before["natural.rapport_etonnement"]["id"], typeOf=DONE_TYPE)  # done before leaving
    stack.control("POST", "/_control/resources/7/state", json={"state": 0})  # "Sortie": Jean leaves the firm
    settle()
    after = steps(stack, mission)
    handover = after["natural.handover"]
    assert owner(handover) == "2" and "le consultant aura quitté" in handover["attributes"]["text"]
    assert handover["relationships"]["dependsOn"]["data"]["id"] == "7"  # still on the consultant's record
    assert owner(after["natural.rapport_etonnement"]) == "7"  # what he ticked stays as it was
    assert "natural.availability" not in after and "natural.prospect" not in after  # no "new mission" step
    assert not [k for k, v in after.items() if owner(v) == "7" and v["attributes"]["typeOf"] != DONE_TYPE]
    replayed_in_reverse(stack, mission)


# --- a consultant change on a mission: replacement, swap ------------------------------------------------------------

def _survey_of(stack, mission: str, role: str = "consultant"):
    from handlers.surveys import records as surveys

    return surveys.states(get_redis(), stack.tenant_id, mission)[role]


def test_a_replacement_on_the_record_moves_the_open_steps_to_the_new_consultant(stack):
    clock.pin(date(2026, 3, 2))
    map_done_type(stack)
    newcomer = stack.control("POST", "/_control/resources", json={"firstName": "Nina", "lastName": "Nouveau"})["id"]
    elsewhere = stack.control("POST", "/_control/projects", json={"companyName": "Banque du Nord"})["id"]
    before = deliver(stack, date(2025, 11, 3), date(2026, 4, 17), project=elsewhere, title="Audit")  # Jean's
    mission = deliver(stack, date(2026, 4, 20), date(2026, 9, 30))  # Jean's next mission, from Monday
    settle()
    assert "natural.availability" not in steps(stack, before)  # Jean's next mission is known
    written = steps(stack, mission)
    old_link = _survey_of(stack, mission).token
    person_edits(stack, written["natural.rapport_etonnement"]["id"], title="Rapport d'étonnement (brouillon envoyé)")
    stack.control("POST", f"/_control/deliveries/{mission}/resource", json={"resource": newcomer})  # Nina replaces him
    settle()
    after = steps(stack, mission)
    handover = after["natural.handover"]
    assert handover["relationships"]["dependsOn"]["data"]["id"] == newcomer and owner(handover) == newcomer
    review = after["natural.review"]
    assert "Nina Nouveau" in review["attributes"]["title"]  # in her name, on her record
    assert review["relationships"]["dependsOn"]["data"]["id"] == newcomer
    edited = after["natural.rapport_etonnement"]
    assert edited["relationships"]["dependsOn"]["data"]["id"] == "7" and owner(edited) == "7"  # touched: stays
    assert edited["attributes"]["title"] == "Rapport d'étonnement (brouillon envoyé)"
    survey = _survey_of(stack, mission)
    assert survey.person_id == newcomer and survey.token != old_link  # her own survey link…
    assert survey.token in after["natural.satisfaction"]["attributes"]["text"]
    assert old_link not in after["natural.satisfaction"]["attributes"]["text"]  # …and no longer his
    jean = steps(stack, before)  # Jean is re-planned from his remaining missions: free after the audit
    assert "natural.availability" in jean and "natural.prospect" in jean
    replayed_in_reverse(stack, before, mission)


def test_a_swap_of_two_consultants_on_the_same_day_moves_each_ones_steps(stack):
    clock.pin(date(2026, 3, 2))
    nina = stack.control("POST", "/_control/resources", json={"firstName": "Nina", "lastName": "Nouveau"})["id"]
    other = stack.control("POST", "/_control/projects", json={"companyName": "Banque du Nord"})["id"]
    jeans = deliver(stack, date(2025, 11, 3), date(2026, 5, 29))
    ninas = deliver(stack, date(2025, 11, 3), date(2026, 6, 30), project=other, resource=nina, title="Migration")
    settle()
    stack.control("POST", f"/_control/deliveries/{jeans}/resource", json={"resource": nina})
    stack.control("POST", f"/_control/deliveries/{ninas}/resource", json={"resource": "7"})
    settle()
    for mission, who in ((jeans, nina), (ninas, "7")):
        got = steps(stack, mission)
        assert len(got) == 8
        assert {v["relationships"]["dependsOn"]["data"]["id"] for k, v in got.items() if k != "natural.satisfaction"} \
            == {who}
        assert owner(got["natural.handover"]) == who and _survey_of(stack, mission).person_id == who
    assert max(markers(stack.actions()).values()) == 1
    replayed_in_reverse(stack, jeans, ninas)


def test_the_admin_sets_the_daily_cap_and_the_chain_on_the_planning_card(stack):
    import requests

    from webhooks.admin.auth import admin_token, csrf_token

    url, token = f"{stack.web.url}/admin/planning", admin_token(stack.tenant_id, "t")
    form = {"a": token, "csrf": csrf_token(token), "country": "FR", "subdivision": "", "stale_after_days": "30", "bench_threshold": "50",
            "daily_cap": "3", "chain_by": "client"}
    assert requests.post(url, data=form, timeout=10, allow_redirects=False).status_code == 302
    planning_now = tenants.get(stack.tenant_id).planning
    assert (planning_now.daily_cap, planning_now.chain_by) == (3, "client")
    page = requests.get(f"{stack.web.url}/admin/", params={"a": token}, timeout=10).text
    assert 'id="daily_cap" name="daily_cap" type="number" min="1" max="50" step="1" required value="3"' in page
    assert '<option value="client" selected>' in page
    bad = requests.post(url, data={**form, "daily_cap": "0", "chain_by": "galaxy"}, timeout=10)
    assert bad.status_code == 400 and 'id="planning-error"' in bad.text  # said on the card, nothing saved
    assert tenants.get(stack.tenant_id).planning.daily_cap == 3


def test_a_move_whose_answer_is_lost_is_adopted_not_made_twice(stack):
    clock.pin(date(2026, 3, 2))
    nina = stack.control("POST", "/_control/resources", json={"firstName": "Nina", "lastName": "Nouveau"})["id"]
    mission = deliver(stack, date(2025, 11, 3), date(2026, 5, 29))
    settle()
    stack.control("POST", "/_control/faults", json={"kind": "drop", "when": "after", "times": 1,
                                                    "method": "POST", "path": "/api/actions"})
    stack.control("POST", f"/_control/deliveries/{mission}/resource", json={"resource": nina})
    settle()  # the first move's create landed but its answer was lost: the retry finds it on Nina's record
    got = steps(stack, mission)
    assert len(got) == 8 and max(markers(stack.actions()).values()) == 1
    assert {v["relationships"]["dependsOn"]["data"]["id"] for k, v in got.items() if k != "natural.satisfaction"} \
        == {nina}
    replayed_in_reverse(stack, mission)


# --- a replacement by delivery: an early end, then another consultant's delivery on the project ----------------------

NAMED = {"consultant.transition", "consultant.replacement_offer"}  # the case-3 steps that say to whom


def _replacement_story(stack, order: str) -> tuple[str, str, str]:
    """Jean (7) ends his mission early (his own decision, effective Friday 17/04); Nina's delivery on the same project
    starts on Monday 20/04, signed after his early end or already known when his end moves earlier (`order`)."""
    clock.pin(date(2026, 3, 2))
    nina = stack.control("POST", "/_control/resources", json={"firstName": "Nina", "lastName": "Nouveau"})["id"]
    jeans = stack.create_delivery(date(2025, 11, 3), date(2026, 9, 30))["data"]["id"]  # (its webhook sent anew)
    settle()
    clock.pin(date(2026, 3, 16))
    if order == "early end first":
        stack.end_early(jeans, date(2026, 4, 17), "consultant")
        settle()
        assert not [k for k, v in steps(stack, jeans).items() if "Nina" in v["attributes"]["title"]]  # not yet known
        ninas = stack.create_delivery(date(2026, 4, 20), date(2026, 9, 30), resource=nina)["data"]["id"]
    else:
        ninas = stack.create_delivery(date(2026, 4, 20), date(2026, 9, 30), resource=nina)["data"]["id"]
        settle()
        stack.end_early(jeans, date(2026, 4, 17), "consultant")
    settle()
    return jeans, ninas, nina


def test_an_early_end_then_another_consultants_delivery_on_the_project_is_a_replacement(stack):
    outcomes = []
    for order in ("early end first", "replacement known first"):
        get_redis().flushdb()
        stack.start_tenant()  # a fresh tenant subscribed to the sandbox's webhooks
        jeans, ninas, nina = _replacement_story(stack, order)
        got = steps(stack, jeans)
        assert {k for k in got if k.startswith("consultant.")} >= NAMED  # his own early end: case 3
        transition = got["consultant.transition"]
        assert transition["attributes"]["title"].endswith("— passation à Nina Nouveau")  # to whom
        assert "Nina Nouveau, sur la mission à partir du 20/04/2026" in transition["attributes"]["text"]
        assert transition["relationships"]["dependsOn"]["data"]["id"] == "7" and owner(transition) == "7"  # his
        assert due(transition) == "2026-04-10"  # the early-end rules: five business days before his new end
        offer = got["consultant.replacement_offer"]
        assert "Nina Nouveau" in offer["attributes"]["title"] and owner(offer) == "2"  # the manager's
        others = {k: v for k, v in got.items() if k not in NAMED}
        assert others and not [k for k, v in others.items() if "Nina" in v["attributes"]["title"] + v["attributes"]["text"]]
        assert {v["relationships"]["dependsOn"]["data"]["id"] for k, v in got.items()
                if k != "consultant.relationship_survey"} == {"7"}  # nothing of his moved to Nina's record
        assert "replaced by Nina Nouveau from 2026-04-20" in preview(stack.tenant_id, jeans)["reason"]
        hers = steps(stack, ninas)
        assert hers and {v["relationships"]["dependsOn"]["data"]["id"] for k, v in hers.items()
                         if k != "natural.satisfaction"} == {nina}  # her own mission's steps, on her record
        assert max(markers(stack.actions()).values()) == 1
        replayed_in_reverse(stack, jeans, ninas)
        outcomes.append(sorted((k, v["attributes"]["title"], due(v)) for k, v in got.items()))
    assert outcomes[0] == outcomes[1]  # the order the deliveries came in changes nothing


def test_a_large_project_costs_the_replacement_check_only_its_missions_around_the_dates(stack):
    """A framework project of thirty other consultants' deliveries far from Jean's dates, and Nina's right after his
    early end: Nina is named, and of the thirty only their rows were read, not each one's resource record (the check
    once read every teammate's record for every change on the project)."""
    clock.pin(date(2026, 3, 2))
    far = [stack.new_consultant(f"Loin{i}") for i in range(30)]
    for resource in far:
        stack.create_delivery(date(2025, 6, 2), date(2026, 12, 31), resource=resource, deliver=False)
    jeans = stack.create_delivery(date(2025, 11, 3), date(2026, 9, 30))["data"]["id"]
    settle()
    clock.pin(date(2026, 3, 16))
    nina = stack.control("POST", "/_control/resources", json={"firstName": "Nina", "lastName": "Nouveau"})["id"]
    stack.create_delivery(date(2026, 4, 20), date(2026, 9, 30), resource=nina, deliver=False)
    stack.control("POST", "/_control/calls/reset")
    stack.end_early(jeans, date(2026, 4, 17), "consultant")
    settle()
    assert steps(stack, jeans)["consultant.transition"]["attributes"]["title"].endswith("— passation à Nina Nouveau")
    calls = stack.control("GET", "/_control/calls")["by_route"]
    assert calls.get("GET /api/projects/<id>/deliveries-groupments") == 1  # the crew: one read of the project
    assert calls.get("GET /api/resources/<id>", 0) <= 2  # Nina's record (and Jean's own), none of the thirty
