"""`tenant add` leaves a working tenant or says what it lacks; `tenant setup` finishes it (issue #27, point 2)."""
from __future__ import annotations

import json
import subprocess
from datetime import date

from config import tenants
from config.infra import clock
from handlers.sync import holds
from handlers.intake.ingest import enqueue_sync
from handlers.intake.queues import run_burst
from tests.e2e.test_cli import CLI, run

OWNERS = ["--default-owner", "manager=2", "--default-owner", "business_engineer=3", "--default-owner", "hr=4"]


def _add(stack, env, tenant_id: str, *extra: str, check: bool = True):
    creds = stack.control("GET", "/_control/credentials")
    return run(env, "tenant", "add", "boond", "--id", tenant_id, "--base-url", stack.sandbox.url + "/api",
               "--app-token", creds["appToken"], "--app-key", creds["appKey"], "--user-token", creds["userToken"],
               *extra, check=check)


def test_tenant_add_applies_the_label_proposals_warns_and_lists_what_is_missing(stack, child_env):
    done = _add(stack, child_env, "esn-mtl", "--timezone", "America/Montreal", "--json")
    data = json.loads(done.stdout)
    assert data["host_settings"]["delivery_states"]["2"] == "client"  # "Arrêtée par le client", applied, not just proposed
    assert data["host_settings"]["resource_states"]["0"] == "left" and data["host_settings"]["states_confirmed"] is True
    assert data["missing"] == ["owner_manager", "owner_business_engineer", "owner_hr"]
    assert "a default manager" in data["missing_text"]
    assert any("America/Montreal is not one of FR's" in w for w in data["warnings"])
    assert tenants.get("esn-mtl").setup_complete is False
    assert "set-up incomplete" in run(child_env, "tenant", "show", "esn-mtl").stdout
    listed = run(child_env, "tenant", "list").stdout
    assert "esn-mtl\tboond\tset-up incomplete" in listed and "1 set-up incomplete" in listed


def test_tenant_add_with_everything_is_complete_and_silent(stack, child_env):
    done = _add(stack, child_env, "esn-full", *OWNERS)
    assert "warning" not in done.stderr and "incomplete" not in done.stderr
    assert tenants.get("esn-full").setup_complete is True


def test_bad_values_answer_in_words_without_pydantic(stack, child_env):
    for extra, expected in ((("--timezone", "Mars/Base"), "unknown time zone 'Mars/Base'"),
                            (("--country", "ZZ"), "unknown country code 'ZZ'")):
        bad = _add(stack, child_env, "esn-bad", *extra, check=False)
        assert bad.returncode == 2 and expected in bad.stderr
        assert "pydantic" not in bad.stderr and "validation error" not in bad.stderr
    bad = _add(stack, child_env, "Bad_Id", check=False)
    assert bad.returncode == 2 and "a tenant id is 2 to 63 lower-case letters" in bad.stderr
    assert "pydantic" not in bad.stderr and tenants.get("esn-bad") is None


def test_changes_are_held_until_tenant_setup_then_written_with_named_owners(stack, child_env, redis_conn):
    clock.pin(date(2026, 3, 2))
    _add(stack, child_env, "esn-held")
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 6, 30), deliver=False)["data"]["id"]
    stack.end_early(mission, date(2026, 4, 10), "client", deliver=False)
    enqueue_sync(redis_conn, "esn-held", mission, trigger={"kind": "webhook"})
    run_burst()
    assert stack.actions() == []  # nothing written while the set-up is incomplete
    assert holds.held(redis_conn, "esn-held")[mission]["reason"] == holds.SETUP_INCOMPLETE
    assert "set-up incomplete" in run(child_env, "status").stdout

    done = run(child_env, "tenant", "setup", "esn-held", "--yes", *OWNERS, "--json")
    assert json.loads(done.stdout) | {"resumed": 1, "complete": True} == json.loads(done.stdout)
    run_burst()
    written = [a for a in stack.actions() if f"intermission:{mission}/" in a["attributes"].get("text", "")]
    assert written and all("/client." in a["attributes"]["text"] for a in written)  # the client case, not natural
    owners = {(a["relationships"]["mainManager"]["data"] or {}).get("id") for a in written}
    assert owners and "1" not in owners  # never the technical account nobody reads


def test_tenant_setup_asks_with_defaults_and_searches_people_by_name(stack, child_env):
    _add(stack, child_env, "esn-ask")
    answers = "\n".join(["",  # the proposed state mapping: yes
                         "", "", "",  # time zone, country, region: the defaults
                         "martin", "1", "hugo", "1", "moreau", "1"]) + "\n"
    done = subprocess.run([*CLI, "tenant", "setup", "esn-ask"], env=child_env, input=answers, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Arrêtée par le client → client" in done.stdout and "1. Claire Martin" in done.stdout
    saved = tenants.get("esn-ask")
    assert saved.planning.default_owners == {"manager": "2", "business_engineer": "3", "hr": "4"}
    assert saved.planning.default_owner_names["hr"] == "Inès Moreau"
    assert (saved.timezone, saved.country, saved.setup_complete) == ("Europe/Paris", "FR", True)
