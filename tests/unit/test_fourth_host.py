"""A fourth host added from tests/ alone (tests/testhost/), registered at test time through the registry's `register`,
as a built-in host's folder declares itself: its tenants are added, stored and read back with its settings model; its
flags, metric, words and mapping picker reach the CLI, /metrics and the admin pages through the generic code."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from config import tenants
from config.infra import crypto
from handlers.hosts import registry
from handlers.intake import telemetry
from handlers.ops import metrics as ops_metrics
from intermission_cli import main as cli
from tests.testhost import host as testhost
from webhooks.admin.auth import admin_token
from webhooks.admin.i18n import word

ADD = ["tenant", "add", "testhost", "--id", "four-co", "--name", "Four Co", "--api-key", "k-123456789"]


@pytest.fixture
def fourth(redis_conn):
    """The test host registered for one test, its tenants removed afterwards."""
    registry.register(testhost.HOST)
    yield testhost.HOST
    for tenant_id in tenants.list_ids():
        tenants.remove(tenant_id)
    registry.unregister(testhost.NAME)


def test_an_unregistered_host_is_refused_by_name():
    with pytest.raises(ValidationError, match="unknown host 'testhost'"):
        tenants.Tenant(id="four-co", host="testhost")
    with pytest.raises(SystemExit):
        cli.main(ADD)


def test_tenant_add_stores_its_settings_in_its_own_model_and_reads_them_back(fourth, redis_conn, capsys):
    assert cli.main([*ADD, "--region", "us", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["host"] == "testhost" and shown["host_settings"]["region"] == "us"
    assert shown["host_settings"]["api_key"] == "k-1…"  # its secret field, masked by the generic `tenant show`

    tenant = tenants.get("four-co")
    settings = tenant.settings_as(testhost.TesthostSettings)
    assert isinstance(settings, testhost.TesthostSettings) and settings.api_key == "k-123456789"
    assert fourth.settings_of(tenant) is settings and fourth.secret_fields == ("api_key",)
    stored = json.loads(crypto.decrypt(redis_conn.get(tenants._key("four-co"))))
    assert stored["host_settings"] == {"api_key": "k-123456789", "region": "us", "queue": ""}

    assert cli.main(["tenant", "show", "four-co"]) == 0
    assert "Tenant four-co (testhost, fr, " in capsys.readouterr().out


def test_its_settings_model_refuses_bad_values_in_words(fourth, capsys):
    assert cli.main([*ADD, "--region", "Mars"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: region: String should match pattern") and "pydantic" not in error
    assert tenants.get("four-co") is None
    assert cli.main(["tenant", "add", "testhost", "--id", "four-co"]) == 2
    assert "missing --api-key" in capsys.readouterr().err
    with pytest.raises(ValidationError) as refused:
        tenants.Tenant(id="four-co", host="testhost", host_settings={"api_key": "k-123456789", "colour": "red"})
    assert tenants.in_words(refused.value) == "host_settings: colour: Extra inputs are not permitted"


def test_its_flags_and_next_step_come_from_its_package(fourth, capsys):
    with pytest.raises(SystemExit):
        cli.main(["tenant", "add", "--help"])
    assert "a test host" in capsys.readouterr().out
    assert cli.main(ADD) == 0
    assert "In the test host: paste that URL" in capsys.readouterr().out


def test_its_metric_is_exposed_with_its_labels(fourth, redis_conn):
    testhost.INSTALLED.clear()
    telemetry.install()
    assert testhost.INSTALLED == [True]  # the generic wiring asked the host to wire its counter
    testhost.ping("us")
    text = ops_metrics.exposition(ops_metrics.make_registry()).decode()
    assert "# HELP intermission_testhost_pings_total Test host pings, by region." in text
    assert 'intermission_testhost_pings_total{region="us"} 1.0' in text
    assert 'intermission_testhost_regions{region="eu"} 1.0' in text


def test_its_admin_words_button_and_picker_reach_the_admin_pages(fourth, redis_conn):
    from webhooks.app import create_app

    tenants.save(
        tenants.Tenant(
            id="four-co", host="testhost", name="Four Co", language="en", host_settings=testhost.TesthostSettings(api_key="k-123456789")
        )
    )
    assert word("testhost_connect", "fr") == "Connecter l'hôte de test"
    client, token = create_app().test_client(), admin_token("four-co", "test")

    overview = client.get(f"/admin/?a={token}").get_data(as_text=True)
    assert 'id="connect-testhost"' in overview and "Connect the test host" in overview
    mapping = client.get(f"/admin/mapping?a={token}").get_data(as_text=True)
    assert "Test host queue" in mapping and '<option value="q-night">Night queue</option>' in mapping
    assert client.get("/testhost/nowhere").status_code == 404  # its people's pages: an error page, not JSON
    assert "<html" in client.get("/testhost/nowhere").get_data(as_text=True)
