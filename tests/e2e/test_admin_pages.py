"""The admin pages over real HTTP: access, CSRF, kill switch, playbook edits with errors next to fields, preview."""
from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest
import requests

from config import tenants
from config.infra import clock
from tests.e2e.helpers import settle
from webhooks.admin.auth import admin_token, csrf_token
from connectors.salesforce.settings import salesforce_settings
from connectors.boond.settings import boond_settings

T0 = date(2026, 3, 2)


@pytest.fixture
def sf_stack_for_mapping(redis_conn):
    from sandboxes.stack_salesforce import SalesforceStack

    with SalesforceStack("acme-sf") as running:
        yield running


def _admin(stack):
    token = admin_token(stack.tenant_id, "test")
    return token, csrf_token(token)


def _form(token, csrf, **fields):
    return {"a": token, "csrf": csrf, "lang": "en", **fields}


def test_overview_opens_with_a_valid_link_and_refuses_an_altered_one(stack):
    token, _ = _admin(stack)
    ok = requests.get(f"{stack.web.url}/admin/", params={"a": token}, timeout=10)
    assert ok.status_code == 200 and "Connecté" in ok.text
    assert "frame-ancestors" in ok.headers["Content-Security-Policy"]
    altered = token[:-2] + ("xx" if token[-2] != "x" else "yy")  # the last but one character carries 6 signature bits
    bad = requests.get(f"{stack.web.url}/admin/", params={"a": altered}, timeout=10)
    assert bad.status_code == 401 and "expired" in bad.text


def test_the_overview_of_a_boond_workspace_installed_but_not_configured_is_a_page_not_an_error(stack):
    tenants.save(tenants.Tenant(id="fresh-install", host="boond"))  # installed from the marketplace, no settings yet
    answer = requests.get(f"{stack.web.url}/admin/", params={"a": admin_token("fresh-install", "test")}, timeout=10)
    assert answer.status_code == 200 and "<html" in answer.text.lower()


def test_cross_site_post_is_refused_and_changes_nothing(stack):
    token, _ = _admin(stack)
    forged = requests.post(f"{stack.web.url}/admin/toggle", data={"a": token}, timeout=10)  # no CSRF token
    assert forged.status_code == 403 and "nothing was changed" in forged.text
    wrong = requests.post(f"{stack.web.url}/admin/toggle", data={"a": token, "csrf": csrf_token("other")}, timeout=10)
    assert wrong.status_code == 403
    assert tenants.get(stack.tenant_id).enabled is True


def test_kill_switch_pauses_the_tenant_and_its_webhooks(stack):
    token, csrf = _admin(stack)
    done = requests.post(f"{stack.web.url}/admin/toggle", data=_form(token, csrf), timeout=10)
    assert done.status_code == 200 and tenants.get(stack.tenant_id).enabled is False
    clock.pin(T0)
    stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))
    settle()
    assert stack.actions() == []


def test_rewording_and_retiming_a_step_changes_the_preview_and_the_host(stack):
    clock.pin(T0)
    stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))
    settle()
    token, csrf = _admin(stack)
    page = requests.get(f"{stack.web.url}/admin/playbook/natural.review", params={"a": token}, timeout=10)
    assert page.status_code == 200
    fields = dict(re.findall(r'name="(title_en|text_fr|text_en|title_fr)" type="text" value="([^"]*)"', page.text))
    form = _form(token, csrf, enabled="on", title_fr="Bilan à trois, version maison", title_en="Our review",
                 text_fr="Texte.", text_en="Text.", offset_days="-4", offset_unit="business", offset_anchor="end",
                 assignee="manager", priority="high")
    asked = requests.post(f"{stack.web.url}/admin/playbook/natural.review", data=form, timeout=10)
    assert asked.status_code == 200 and 'data-changing="1" data-open="1"' in asked.text  # before confirming
    assert tenants.get(stack.tenant_id).playbook_overrides == {}
    saved = requests.post(f"{stack.web.url}/admin/playbook/natural.review", data={**form, "confirm": "1"},
                          timeout=10)
    assert saved.status_code == 200 and "Saved." in saved.text and fields
    assert "natural.review" not in saved.text.split('class="flash"')[1].split("</div>")[0]  # no step id (#27)
    preview = requests.get(f"{stack.web.url}/admin/preview", params={"a": token, "lang": "en"}, timeout=10).text
    row = re.search(r'data-step="natural.review"[^>]*>(.*?)</tr>', preview, re.S).group(1)
    assert "Bilan à trois, version maison" in row and "2026-04-10" in row and "to update" in row
    settle()  # the re-plan queued by the save: no webhook, no sweep needed
    titles = {a["attributes"]["title"]: a["attributes"]["startDate"][:10] for a in stack.actions()}
    assert titles["Bilan à trois, version maison"] == "2026-04-10"


def test_invalid_step_shows_the_error_next_to_its_field_and_saves_nothing(stack):
    token, csrf = _admin(stack)
    form = _form(token, csrf, enabled="on", title_fr="", title_en="Review", text_fr="x", text_en="y",
                 offset_days="soon", offset_unit="business", offset_anchor="end", assignee="manager", priority="normal")
    answer = requests.post(f"{stack.web.url}/admin/playbook/natural.review", data=form, timeout=10)
    assert answer.status_code == 400
    assert re.search(r'id="offset_days-error">“Offset”: a whole number, such as 5.<', answer.text)
    assert re.search(r'id="title_fr-error">“Title \(French\)” cannot be empty.<', answer.text)
    assert "Input should" not in answer.text and "pydantic" not in answer.text
    assert 'type="number" value="soon" min="-366" max="366" step="1" required' in answer.text  # the browser refuses it
    assert tenants.get(stack.tenant_id).playbook_overrides == {}
    french = requests.post(f"{stack.web.url}/admin/playbook/natural.review", timeout=10,
                           data={**form, "lang": "fr", "offset_days": "400", "title_fr": "Revue de {consultant_nom}"})
    assert french.status_code == 400
    assert re.search(r'id="offset_days-error">« Décalage » : au plus 366.<', french.text)
    assert "{consultant_nom} n'est pas un mot à remplacer ; ceux possibles : {le consultant}, {le client}, " \
        "{la date de fin}, {la mission}." in unescape(french.text)
    assert "<code>{le consultant}</code>," in french.text  # the words to replace, said in words
    assert tenants.get(stack.tenant_id).playbook_overrides == {}
    shown = requests.get(f"{stack.web.url}/admin/playbook/natural.availability", params={"a": token, "lang": "fr"},
                         timeout=10).text
    assert "{le consultant}" in shown and "{consultant}" not in shown.replace("<code>{le consultant}</code>", "")
    assert re.search(r'id="title_en"[^>]*value="[^"]*\{the consultant\}', shown)  # each language its own words
    saved = requests.post(f"{stack.web.url}/admin/playbook/natural.review", timeout=10,
                          data={**form, "lang": "fr", "offset_days": "-2", "title_fr": "Revue avec {le consultant}",
                                "confirm": "1"})
    assert saved.status_code == 200
    step = tenants.get(stack.tenant_id).playbook_overrides["steps"]["natural.review"]
    assert step["title"]["fr"] == "Revue avec {consultant}"  # saved as the playbook writes it


def test_the_planning_card_picks_country_and_region_and_refuses_in_the_pages_words(stack):
    token, csrf = _admin(stack)
    page = requests.get(f"{stack.web.url}/admin/", params={"a": token, "lang": "fr"}, timeout=30).text
    assert '<option value="DE">Allemagne</option>' in page and '<option value="FR" selected>France</option>' in page
    assert '<option value="57">Moselle (57)</option>' in page and 'id="daily_cap" name="daily_cap" type="number"' in page
    regions = requests.get(f"{stack.web.url}/admin/regions", params={"a": token, "lang": "en", "country": "CA"},
                           timeout=10).json()["regions"]
    assert ["QC", "Quebec (QC)"] in regions and ["ON", "Ontario (ON)"] in regions
    form = {"a": token, "csrf": csrf, "lang": "fr", "country": "FR", "subdivision": "", "stale_after_days": "30",
            "bench_threshold": "50", "chain_by": "project"}
    bad = requests.post(f"{stack.web.url}/admin/planning", data={**form, "daily_cap": "beaucoup"}, timeout=30)
    assert bad.status_code == 400 and "Input should" not in bad.text
    assert "« Étapes en retard par personne et par jour, au plus » : un nombre entier, par exemple 5." in bad.text
    too_many = requests.post(f"{stack.web.url}/admin/planning", data={**form, "daily_cap": "99", "lang": "en"},
                             timeout=30)
    assert too_many.status_code == 400 and "“Late steps per person and day, at most”: at most 50." in too_many.text
    elsewhere = requests.post(f"{stack.web.url}/admin/planning", data={**form, "daily_cap": "4", "subdivision": "QC"},
                              timeout=30)
    assert elsewhere.status_code == 400 and "Cette région n'existe pas dans ce pays" in unescape(elsewhere.text)
    assert tenants.get(stack.tenant_id).planning.daily_cap == 5
    ok = requests.post(f"{stack.web.url}/admin/planning", data={**form, "daily_cap": "4", "country": "CA",
                                                                 "subdivision": "QC"}, timeout=30)
    assert ok.status_code == 200
    saved = tenants.get(stack.tenant_id)
    assert (saved.planning.daily_cap, saved.country, saved.subdivision) == (4, "CA", "QC")


def test_adding_a_step_of_ones_own(stack):
    token, csrf = _admin(stack)
    form = _form(token, csrf, id="custom.badge", cases="natural, client", kind="task", enabled="on",
                 title_fr="Rendre le badge", title_en="Return the badge", text_fr="Au client.", text_en="To the client.",
                 offset_days="-1", offset_unit="business", offset_anchor="end", assignee="consultant", priority="normal")
    assert requests.post(f"{stack.web.url}/admin/playbook-new", data={**form, "confirm": "1"},
                         timeout=10).status_code == 200
    clock.pin(T0)
    stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))
    settle()
    assert any(a["attributes"]["title"] == "Rendre le badge" for a in stack.actions())


def test_mapping_error_is_shown_next_to_the_field(stack):
    token, csrf = _admin(stack)
    answer = requests.post(f"{stack.web.url}/admin/mapping", data=_form(token, csrf, delivery_states="2=boss",
                                                                       type_task="five"), timeout=10)
    assert answer.status_code == 400
    assert 'id="delivery_states-error"' in answer.text and 'id="type_task-error"' in answer.text
    ok = requests.post(f"{stack.web.url}/admin/mapping", data=_form(token, csrf, delivery_states="2=client, 9=cancelled",
                                                                   type_task="9"), timeout=10)
    assert ok.status_code == 200
    assert boond_settings(tenants.get(stack.tenant_id)).delivery_states == {"2": "client", "9": "cancelled"}


def test_activity_shows_provenance_and_failures_can_be_retried(stack):
    clock.pin(T0)
    stack.control("POST", "/_control/faults", json={"kind": "500", "times": 50, "method": "GET", "path": "/api/deliveries"})
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
    settle()
    token, csrf = _admin(stack)
    page = requests.get(f"{stack.web.url}/admin/activity", params={"a": token}, timeout=10).text
    job_id = re.search(r'/admin/retry/([^"]+)"', page).group(1)
    stack.control("DELETE", "/_control/faults")
    assert requests.post(f"{stack.web.url}/admin/retry/{job_id}", data=_form(token, csrf), timeout=10).status_code == 200
    settle()
    assert len(stack.actions()) == 8
    page = requests.get(f"{stack.web.url}/admin/activity", params={"a": token, "mission": mission}, timeout=10).text
    assert "created" in page and "natural" in page and "webhook" in page


def test_the_activity_log_reads_like_a_run_history(stack):
    clock.pin(T0)
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
    settle()
    stack.move_end(mission, date(2026, 4, 30))
    settle()
    token, _ = _admin(stack)
    page = requests.get(f"{stack.web.url}/admin/activity", params={"a": token, "lang": "fr"}, timeout=10).text
    changes = re.findall(r'<tbody class="change" data-mission="(\d+)">(.*?)</tbody>', page, re.S)
    assert [m for m, _ in changes] == [mission, mission]  # one row per change, the newest first
    moved, first = (" ".join(unescape(re.sub(r"<details>.*?</details>|<[^>]+>", " ", body, flags=re.S)).split())
                    for _, body in changes)
    assert first.count("créée —") == 8 and "Refonte du SI logistique · Jean Dupont" in first  # its actions under it
    assert "Fin naturelle" in first and "fin : pas de date de fin → 16/04/2026" in first
    assert "· Échéance 16/04/2026 · Claire Martin" in first  # each action's day and its owner, by name
    assert "mise à jour —" in moved and "fin : 16/04/2026 → 30/04/2026" in moved
    when = re.search(r"(\d\d)/(\d\d)/(\d{4}) (\d\d):(\d\d)", first)
    assert when, first  # local time, the page's date format
    for code in ("None", "natural.", "create ", "webhook", mission + " "):
        assert code not in moved + first, code
    english = requests.get(f"{stack.web.url}/admin/activity", params={"a": token, "lang": "en", "op": "rescheduled"},
                           timeout=10).text
    assert len(re.findall(r'<tbody class="change"', english)) == 1 and 'data-op="created"' not in english
    assert "<strong>updated</strong> —" in english


def test_standalone_login_needs_the_password_and_limits_attempts(stack, child_env):
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "intermission_cli.main", "tenant", "admin-password", stack.tenant_id], env=child_env,
                   input="a long enough password\n", text=True, check=True, capture_output=True, timeout=60)
    session = requests.Session()
    form = session.get(f"{stack.web.url}/admin/login", timeout=10).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    bad = session.post(f"{stack.web.url}/admin/login", data={"tenant": stack.tenant_id, "password": "nope",
                                                            "csrf": csrf}, timeout=10)
    assert bad.status_code == 401
    good = session.post(f"{stack.web.url}/admin/login", data={"tenant": stack.tenant_id, "csrf": csrf,
                                                             "password": "a long enough password"}, timeout=10)
    assert good.status_code == 200 and "Intermission" in good.text and "/admin/playbook?a=" in good.text
    for _ in range(5):
        last = session.post(f"{stack.web.url}/admin/login", data={"tenant": stack.tenant_id, "password": "x",
                                                                 "csrf": csrf}, timeout=10)
    assert last.status_code == 429


def test_salesforce_connect_page_links_to_the_admin_pages(sf_stack):
    page = sf_stack.connect()
    link = re.search(r'id="admin-link" href="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    overview = requests.get(sf_stack.web.url + link, timeout=10)
    assert overview.status_code == 200 and "Salesforce" in overview.text and "org 00D000000000001EAA" in overview.text


def test_the_admin_maps_which_boond_action_types_mean_done(stack):
    token, csrf = _admin(stack)
    page = requests.get(f"{stack.web.url}/admin/mapping", params={"a": token, "lang": "en"}, timeout=10)
    assert 'name="done_types"' in page.text
    bad = requests.post(f"{stack.web.url}/admin/mapping", data=_form(token, csrf, done_types="done"), timeout=10)
    assert bad.status_code == 400 and 'id="done_types-error"' in bad.text
    assert boond_settings(tenants.get(stack.tenant_id)).done_action_types == []
    unknown = requests.post(f"{stack.web.url}/admin/mapping", data=_form(token, csrf, done_types="6, 12"), timeout=10)
    assert unknown.status_code == 400 and "12: not in your Boond" in unknown.text  # no type 12, in the page's English
    assert "absent de votre Boond" not in unknown.text  # one language a page
    ok = requests.post(f"{stack.web.url}/admin/mapping", data=_form(token, csrf, done_types="6, 9"), timeout=10)
    assert ok.status_code == 200 and boond_settings(tenants.get(stack.tenant_id)).done_action_types == [6, 9]


def test_the_mapping_offers_what_the_host_has_and_refuses_what_it_has_not(stack, sf_stack_for_mapping):
    token, csrf = _admin(stack)
    page = requests.get(f"{stack.web.url}/admin/mapping", params={"a": token, "lang": "en"}, timeout=10)
    assert 'id="type_task-choices"' in page.text and '<option value="5">Rappel / To do</option>' in page.text
    refused = requests.post(f"{stack.web.url}/admin/mapping", data=_form(token, csrf, type_task="77"), timeout=10)
    assert refused.status_code == 400 and 'id="type_task-error"' in refused.text and "77" in refused.text
    assert boond_settings(tenants.get(stack.tenant_id)).action_types == {}  # nothing saved
    org = sf_stack_for_mapping
    sf_token = admin_token(org.tenant_id, "test")
    sf_csrf = csrf_token(sf_token)
    sf_page = requests.get(f"{org.web.url}/admin/mapping", params={"a": sf_token, "lang": "en"}, timeout=10)
    assert 'id="end_date-choices"' in sf_page.text and '<option value="End_Date__c">' in sf_page.text
    mapping = salesforce_settings(tenants.get(org.tenant_id)).mapping
    form = {f: getattr(mapping, f) or "" for f in ("object", "name", "start_date", "end_date", "consultant_contact",
                                                     "consultant_user", "manager_user", "business_engineer_user",
                                                     "hr_user", "account", "client_contact", "status", "end_reason")}
    bad = requests.post(f"{org.web.url}/admin/mapping", data=_form(sf_token, sf_csrf, **{**form, "end_date": "Finish__c"}),
                        timeout=10)
    assert bad.status_code == 400 and 'id="end_date-error"' in bad.text and "has no field Finish__c" in bad.text
    assert "pas de champ" not in bad.text  # one language a page
    assert salesforce_settings(tenants.get(org.tenant_id)).mapping.end_date == mapping.end_date
    no_object = requests.post(f"{org.web.url}/admin/mapping", data=_form(sf_token, sf_csrf, **{**form, "object": "Gig__c"}),
                              timeout=10)
    assert no_object.status_code == 400 and "no object Gig__c in your org" in no_object.text


def test_saving_a_mapping_shows_what_it_writes_then_replans_a_cancelled_missions_reminders_away(stack):
    """Issue #27: a mapping saved re-plans the open missions it changes, after a confirmation that counts them."""
    clock.pin(T0)
    tenant = tenants.get(stack.tenant_id)
    unmapped = {k: v for k, v in boond_settings(tenant).delivery_states.items() if v != "cancelled"}
    tenants.save(tenant.model_copy(update={"host_settings": boond_settings(tenant).model_copy(update={"delivery_states": unmapped})}))
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
    settle()
    stack.control("POST", f"/_control/deliveries/{mission}/cancel", json={})
    settle()
    mine = lambda: [a for a in stack.actions() if f"intermission:{mission}/" in a["attributes"]["text"]]  # noqa: E731
    assert len(mine()) == 8  # the cancelled state means nothing yet: the reminders stay
    token, csrf = _admin(stack)
    states = ", ".join(f"{k}={v}" for k, v in {**unmapped, "4": "cancelled"}.items())
    asked = requests.post(f"{stack.web.url}/admin/mapping", data=_form(token, csrf, delivery_states=states), timeout=30)
    assert asked.status_code == 200 and 'id="replan-confirm"' in asked.text
    assert 'data-changing="1"' in asked.text and "8 cancelled" in asked.text  # what will be written, before it is
    assert boond_settings(tenants.get(stack.tenant_id)).delivery_states == unmapped and len(mine()) == 8  # nothing yet
    done = requests.post(f"{stack.web.url}/admin/mapping", data=_form(token, csrf, delivery_states=states, confirm="1"),
                         timeout=30)
    assert done.status_code == 200 and boond_settings(tenants.get(stack.tenant_id)).delivery_states["4"] == "cancelled"
    settle()
    assert mine() == []  # the cancelled mission's reminders went away


def test_the_overview_lists_what_needs_attention_in_words_with_a_retry(stack, redis_conn):
    """Issue #27: failures with a plain reason and a retry button, held missions and a pause, in one panel."""
    from handlers.sync import holds

    clock.pin(T0)
    token, csrf = _admin(stack)
    calm = requests.get(f"{stack.web.url}/admin/", params={"a": token, "lang": "en"}, timeout=10).text
    assert "Nothing needs attention." in calm
    stack.control("POST", "/_control/faults", json={"kind": "500", "times": 50, "method": "GET", "path": "/api/deliveries"})
    stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))
    settle()
    stack.control("DELETE", "/_control/faults")
    holds.hold(redis_conn, stack.tenant_id, "999", reason="API budget spent")
    tenants.save(tenants.get(stack.tenant_id).model_copy(update={"enabled": False}))
    page = requests.get(f"{stack.web.url}/admin/", params={"a": token, "lang": "en"}, timeout=10).text
    panel = page.split('id="attention"')[1].split("</div>")[0]
    assert "An update failed: the host did not answer" in panel and "HostUnavailable" not in panel
    assert "1 mission(s) on hold: API quota spent" in panel and "Intermission is paused" in panel
    job_id = re.search(r'/admin/retry/([^"]+)"', panel).group(1)
    tenants.save(tenants.get(stack.tenant_id).model_copy(update={"enabled": True}))
    retried = requests.post(f"{stack.web.url}/admin/retry/{job_id}", data=_form(token, csrf, back="overview"),
                            timeout=10)
    assert retried.status_code == 200 and 'id="attention"' in retried.text  # back on the overview
    settle()
    assert len(stack.actions()) == 8


def test_salesforce_connect_page_speaks_the_tenants_language_and_leads_to_the_set_up(sf_stack):
    """Issue #27: the connect page ends with the next step (the set-up flow while unfinished), not a CLI command."""
    tenants.save(tenants.get(sf_stack.tenant.id).model_copy(update={"setup_complete": False}))
    page = sf_stack.connect()
    assert '<html lang="fr">' in page.text and "Salesforce est connecté" in page.text
    assert "Étape suivante : la mise en route" in page.text and "intermission " not in page.text.lower()
    link = re.search(r'id="admin-link" href="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    assert "/admin/setup" in link and 'id="setup-connection"' in requests.get(sf_stack.web.url + link, timeout=10).text


def test_the_preview_picks_a_mission_by_consultant_or_client_name_and_shows_one_table(stack):
    """Issue #27, point 5: the picker says who and for whom (no id), searchable; one table, under the picture."""
    clock.pin(T0)
    stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))
    settle()
    token, _ = _admin(stack)
    page = requests.get(f"{stack.web.url}/admin/preview", params={"a": token, "lang": "en", "q": "dupont"},
                        timeout=10).text
    options = re.findall(r'<option value="[^"]+" selected>([^<]+)</option>', page)
    assert options and "Jean Dupont · Acme Industrie" in options[0] and "(16/04/2026)" in options[0]
    assert page.count("<table") == 1 and 'id="timeline-steps"' in page
    none = requests.get(f"{stack.web.url}/admin/preview", params={"a": token, "lang": "en", "q": "nobody-here"},
                        timeout=10).text
    assert "No mission received yet." in none or "<option" not in none
