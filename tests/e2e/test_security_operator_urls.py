"""One check for every URL an operator or an admin sets (issue #30, `config/infra/urls.py`): the Boond API address,
the Salesforce login address and instance URL, INTERMISSION_PUBLIC_BASE_URL, a tenant's survey SMTP server, the CLI's
flags. Names are resolved: one that points at a link-local or metadata address is refused, loopback only with
INTERMISSION_ALLOW_SANDBOX_HOSTS, private ranges only with INTERMISSION_ALLOW_PRIVATE_HOSTS. Every refusal is said in
words (the admin's language on admin pages, one line on the CLI) and nothing is sent."""
from __future__ import annotations

import socket
from html import unescape
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
import requests

from connectors.boond.settings import BoondConfig
from connectors.salesforce.settings import salesforce_settings
from config import tenants
from config.infra import urls
from config.settings import get_settings

# names a DNS server could answer with any address: what each resolves to in these tests
NAMES = {"boond.esn.example": "10.1.2.3", "acme.my.salesforce.com": "169.254.169.254",
         "rebound.esn.example": "127.0.0.1", "smtp.esn.example": "192.168.1.25", "nat.esn.example": "100.64.0.9",
         "ula.esn.example": "fd12:3456::1", "public.esn.example": "93.184.215.14"}


@pytest.fixture
def dns(monkeypatch):
    """getaddrinfo answering NAMES (and nothing else for them); the check's cache emptied."""
    real = socket.getaddrinfo

    def answer(host, port, *args, **kwargs):
        if host in NAMES:
            family = socket.AF_INET6 if ":" in NAMES[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (NAMES[host], port or 0))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", answer)
    getattr(urls, "_RESOLVED", {}).clear()
    yield
    getattr(urls, "_RESOLVED", {}).clear()


@pytest.fixture
def strict(monkeypatch):
    """A production set-up: no sandbox hosts, no private hosts."""
    monkeypatch.setattr(get_settings(), "allow_sandbox_hosts", False)
    monkeypatch.setattr(get_settings(), "allow_private_hosts", False, raising=False)


@pytest.mark.parametrize("url, why", [
    ("https://boond.esn.example/api", "private network"),
    ("https://acme.my.salesforce.com", "metadata"),
    ("https://rebound.esn.example/api", "this machine"),
    ("https://nat.esn.example/api", "private network"),
    ("https://ula.esn.example/api", "private network"),
    ("https://[fd12:3456::1]/api", "private network"),
    ("https://10.0.0.8/api", "private network"),
])
def test_a_name_or_address_that_reaches_inside_is_refused_with_its_reason(dns, strict, url, why):
    with pytest.raises(urls.BadHostUrl) as refused:
        urls.checked_host_url(url, ("the Boond API address", "l'adresse de l'API Boond"))
    assert why in str(refused.value) and "l'adresse de l'API Boond" in refused.value.say("fr")
    if urls._address(urlsplit(url).hostname) is None:
        assert "resolves to" in str(refused.value)  # a name: the address it reached is named


def test_private_hosts_are_an_explicit_choice_metadata_never(dns, strict, monkeypatch):
    assert urls.checked_host_url("https://public.esn.example/api") == "https://public.esn.example/api"
    assert urls.checked_host_url("https://does-not-resolve.invalid/api")  # nothing can be sent to it
    monkeypatch.setattr(get_settings(), "allow_private_hosts", True, raising=False)
    assert urls.checked_host_url("https://boond.esn.example/api") == "https://boond.esn.example/api"
    with pytest.raises(urls.BadHostUrl, match="metadata"):
        urls.checked_host_url("https://acme.my.salesforce.com")
    with pytest.raises(urls.BadHostUrl, match="this machine"):
        urls.checked_host_url("https://rebound.esn.example/api")


def _cli(capsys, *args) -> tuple[int, str]:
    from intermission_cli.main import main

    code = main(list(args))
    return code, capsys.readouterr().err


def test_cli_flags_are_refused_in_a_clear_line_and_nothing_is_saved(redis_conn, dns, strict, capsys):
    cases = [
        (["tenant", "add", "boond", "--id", "leaky", "--base-url", "https://boond.esn.example/api",
          "--app-token", "t", "--app-key", "k", "--user-token", "u"], "--base-url “boond.esn.example” is on a private"),
        (["tenant", "add", "salesforce", "--id", "leaky", "--login", "mydomain", "--my-domain", "acme",
          "--client-id", "c", "--client-secret", "s"], "--my-domain “acme.my.salesforce.com” is a link-local, metadata"),
        (["tenant", "add", "salesforce", "--id", "leaky", "--login-url", "http://127.0.0.1:9",
          "--client-id", "c", "--client-secret", "s"], "--login-url “127.0.0.1” is this machine"),
    ]
    for args, said in cases:
        code, err = _cli(capsys, *args)
        assert code == 2 and said in err and "Traceback" not in err, err
        assert tenants.get("leaky") is None


def test_a_public_base_url_is_checked_when_a_process_starts(redis_conn, child_env):
    for value, said in (("https://169.254.169.254", "metadata"), ("http://intermission.example.com", "https://")):
        env = {**child_env, "INTERMISSION_PUBLIC_BASE_URL": value, "INTERMISSION_ALLOW_SANDBOX_HOSTS": "false"}
        done = subprocess.run([sys.executable, "-m", "intermission_cli.main", "worker", "--burst"], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, done.stderr[-1500:]
        assert "INTERMISSION_PUBLIC_BASE_URL" in done.stderr and said in done.stderr and "Traceback" not in done.stderr
    ok = {**child_env, "INTERMISSION_PUBLIC_BASE_URL": "http://localhost:8000", "INTERMISSION_ALLOW_SANDBOX_HOSTS": "false"}
    assert urls.checked_host_url(ok["INTERMISSION_PUBLIC_BASE_URL"], "x", ours=True)  # compose's local try-out


def test_no_salesforce_secret_goes_to_a_login_or_instance_address_that_resolves_inside(dns, strict, monkeypatch):
    from connectors.errors import HostError
    from connectors.salesforce import oauth

    sent = []
    monkeypatch.setattr(requests.Session, "request", lambda *a, **k: sent.append(a) or pytest.fail("sent"))
    with pytest.raises(HostError) as refused:
        oauth.exchange_code("https://acme.my.salesforce.com", "client", "the-client-secret",
                            redirect_uri="https://intermission.example.com/salesforce/callback", code="c",
                            code_verifier="v" * 43)
    assert "metadata" in str(refused.value) and "métadonnées" in refused.value.__cause__.say("fr")
    with pytest.raises(HostError, match="metadata"):
        oauth.checked_instance_url("https://acme.my.salesforce.com")
    assert sent == []


def test_test_connection_says_why_in_the_admins_language(redis_conn, dns, strict, monkeypatch):
    from webhooks.app import create_app
    from webhooks.admin.auth import admin_token, csrf_token

    sent = []
    monkeypatch.setattr(requests.Session, "request", lambda *a, **k: sent.append(a) or pytest.fail("sent"))
    tenants.save(tenants.Tenant(id="inside", host="boond", language="fr", host_settings=BoondConfig(
        base_url="https://boond.esn.example/api", app_token="t" * 20, app_key="k" * 20, user_token="u" * 20)))
    token = admin_token("inside", "test")
    page = create_app().test_client().post("/admin/test", data={"a": token, "csrf": csrf_token(token), "lang": "fr"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and sent == []
    assert "Aucun appel n&#39;est parti" in text and "est sur un réseau privé" in text, text[-3000:]
    assert "INTERMISSION_ALLOW_PRIVATE_HOSTS=true" in text


def test_a_survey_smtp_server_inside_is_not_connected_to_and_the_admin_reads_why(mail_stack, dns, monkeypatch):
    stack, inbox, mission = mail_stack
    from config.infra.redis_conn import get_redis
    from handlers.surveys import records as surveys

    states = surveys.states(get_redis(), stack.tenant_id, mission)
    assert states and inbox.messages == []
    errors = {role: (s.mail_status, s.mail_error) for role, s in states.items()}
    assert all(status == "failed" and "est sur un réseau privé" in error for status, error in errors.values()), errors
    assert connections == [], connections


connections: list = []


@pytest.fixture
def mail_stack(stack, monkeypatch, dns):
    """A tenant whose survey SMTP server's name resolves to a private address, on its survey day."""
    import smtplib
    from datetime import date

    from config.infra import clock
    from handlers.sync.jobs import tick
    from tests.e2e.helpers import settle
    from tests.e2e.smtp_helpers import PASSWORD, USER, start_smtp
    from tests.e2e.survey_helpers import END, T0, serve_links_from

    serve_links_from(stack, monkeypatch)
    controller, inbox = start_smtp()
    connections.clear()
    monkeypatch.setattr(smtplib.SMTP, "connect", lambda self, *a, **k: connections.append(a) or pytest.fail("connected"))
    monkeypatch.setattr(get_settings(), "allow_private_hosts", False, raising=False)
    tenant = tenants.get(stack.tenant_id)
    email = tenants.SurveyEmail(host="smtp.esn.example", port=controller.port, security="none", username=USER,
                                password=PASSWORD, sender="surveys@esn.example", sender_name="Demo ESN")
    tenants.save(tenant.model_copy(update={"surveys": tenant.surveys.model_copy(update={"email": email})}))
    clock.pin(T0)
    mission = stack.create_delivery(date(2025, 11, 3), END)["data"]["id"]
    settle()
    clock.pin(date(2026, 4, 9))
    tick()
    settle()
    yield stack, inbox, mission
    controller.stop()


def test_a_salesforce_connect_is_refused_before_the_browser_is_sent_to_a_login_address_inside(sf_stack, dns, strict):
    from sandboxes.stack_salesforce import admin_connect

    tenant = tenants.get(sf_stack.tenant_id)
    tenants.save(tenant.model_copy(update={"host_settings": salesforce_settings(tenant).model_copy(
        update={"login_url": "https://acme.my.salesforce.com"})}))
    answer = admin_connect(requests.Session(), sf_stack.web.url, sf_stack.tenant_id, follow=False)
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert "est une adresse link-local, de métadonnées" in unescape(answer.text)  # the tenant's language, one only
    assert "is a link-local, metadata" not in answer.text
