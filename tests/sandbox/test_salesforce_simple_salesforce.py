"""A third-party client, simple-salesforce, against `intermission sandbox salesforce` started as a real process (HTTPS).

simple-salesforce builds every URL itself (https only, its own default API version, trailing slashes on
/query/, /sobjects/Task/, /limits/), so these tests show the sandbox serves Salesforce's URL forms, not only ours.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import os
import secrets
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession, SalesforceMalformedRequest

from tests.e2e.proc_helpers import free_port, wait_until

CLIENT_ID, CLIENT_SECRET = "sbx-client-id", "sbx-client-secret"
REDIRECT = "http://127.0.0.1:8765/oauth/callback"
JEAN, ACME = "003000000000007AAA", "001000000000010AAA"


def _self_signed(folder) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "sandbox.pem", folder / "sandbox.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    """`intermission sandbox salesforce --tls-cert … --tls-key …` in its own process; (base URL, CA bundle)."""
    folder = tmp_path_factory.mktemp("sf-tls")
    cert, key = _self_signed(folder)
    port = free_port()
    log = open(folder / "sandbox.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "intermission_cli.main", "sandbox", "salesforce", "--port", str(port),
                             "--tls-cert", cert, "--tls-key", key], stdout=log, stderr=log, env=dict(os.environ),
                            start_new_session=True)
    base = f"https://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.get(f"{base}/services/data/", verify=cert, timeout=2).status_code == 200
        except requests.RequestException:
            return False
    try:
        wait_until(up, timeout=60, what="the Salesforce sandbox process")
        yield base, cert
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture()
def session(org) -> requests.Session:
    """A requests session trusting the sandbox's certificate, on a freshly reset org."""
    base, cert = org
    http = requests.Session()
    http.verify, http.trust_env = cert, False  # REQUESTS_CA_BUNDLE would otherwise replace our CA
    http.post(f"{base}/_control/reset", timeout=10).raise_for_status()
    return http


def access_token(base: str, http: requests.Session) -> str:
    """The PKCE web-server flow against the sandbox: an access token, as our connector gets one."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    consent = http.get(f"{base}/services/oauth2/authorize", allow_redirects=False, timeout=10, params={
        "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "code_challenge": challenge,
        "code_challenge_method": "S256", "scope": "api refresh_token"})
    code = parse_qs(urlsplit(consent.headers["Location"]).query)["code"][0]
    answer = http.post(f"{base}/services/oauth2/token", timeout=10, data={
        "grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "redirect_uri": REDIRECT, "code_verifier": verifier})
    answer.raise_for_status()
    return answer.json()["access_token"]


@pytest.fixture()
def sf(org, session) -> Salesforce:
    """simple-salesforce with its own default API version, a session id from OAuth, our CA bundle."""
    base, _ = org
    return Salesforce(instance_url=base, session_id=access_token(base, session), session=session)


def task(subject: str, **fields) -> dict:
    return {"Subject": subject, "ActivityDate": "2026-08-31", "Status": "Not Started", "Priority": "Normal",
            "WhoId": JEAN, **fields}


def test_its_default_version_and_the_versions_list(sf, org, session):
    assert sf.sf_version not in ("67.0",)  # the client's own default (59.0 in 1.12.x), not ours
    versions = session.get(f"{org[0]}/services/data/", timeout=10).json()
    assert {"31.0", "52.0", sf.sf_version, "67.0"} <= {v["version"] for v in versions}
    assert sf.limits()["DailyApiRequests"]["Max"] > 0
    assert sf.api_usage["api-usage"].total > 0  # it read Sforce-Limit-Info


def test_query_and_query_all_over_several_pages(sf, org, session):
    session.post(f"{org[0]}/_control/config", json={"max_query_batch": 2}, timeout=10).raise_for_status()
    for n in range(5):
        sf.Task.create(task(f"Page test {n}"))
    first = sf.query("SELECT Id, Subject FROM Task WHERE Subject LIKE 'Page test%' ORDER BY Subject")
    assert first["totalSize"] == 5 and len(first["records"]) == 2 and first["done"] is False
    everything = sf.query_all("SELECT Id, Subject FROM Task WHERE Subject LIKE 'Page test%' ORDER BY Subject")
    assert [r["Subject"] for r in everything["records"]] == [f"Page test {n}" for n in range(5)]
    gone = everything["records"][0]["Id"]
    sf.Task.delete(gone)
    live = sf.query_all("SELECT Id FROM Task WHERE Subject LIKE 'Page test%'")
    with_deleted = sf.query_all("SELECT Id FROM Task WHERE Subject LIKE 'Page test%'", include_deleted=True)
    assert live["totalSize"] == 4 and with_deleted["totalSize"] == 5
    assert gone in {r["Id"] for r in with_deleted["records"]}


def test_task_create_get_update_delete(sf):
    created = sf.Task.create(task("Entretien de fin de mission"))
    assert created["success"] is True and created["id"].startswith("00T")
    assert sf.Task.get(created["id"])["Subject"] == "Entretien de fin de mission"
    assert sf.Task.update(created["id"], {"Status": "Completed"}) == 204
    assert sf.Task.get(created["id"])["Status"] == "Completed"
    assert sf.Task.delete(created["id"]) == 204
    with pytest.raises(Exception) as info:
        sf.Task.get(created["id"])
    assert info.value.status == 404


def test_upsert_by_external_id(sf):
    assert sf.Task.upsert("Intermission_Key__c/m1/review", task("Bilan")) == 201
    assert sf.Task.upsert("Intermission_Key__c/m1/review", {"Subject": "Bilan (moved)"}) == 200  # v46.0+: 200
    found = sf.Task.get_by_custom_id("Intermission_Key__c", "m1/review")
    assert found["Subject"] == "Bilan (moved)"
    assert sf.query("SELECT Id FROM Task WHERE Intermission_Key__c = 'm1/review'")["totalSize"] == 1


def test_describe_global_basic_and_full(sf):
    names = {o["name"]: o for o in sf.describe()["sobjects"]}
    assert {"Task", "Mission__c", "Account"} <= set(names) and names["Mission__c"]["keyPrefix"] == "a0X"
    assert sf.Mission__c.metadata()["objectDescribe"]["keyPrefix"] == "a0X"
    fields = {f["name"]: f for f in sf.Task.describe()["fields"]}
    assert fields["ActivityDate"]["type"] == "date" and fields["Intermission_Key__c"]["externalId"] is True


def test_composite_through_restful(sf):
    body = {"allOrNone": False, "compositeRequest": [
        {"method": "POST", "url": f"/services/data/v{sf.sf_version}/sobjects/Task", "referenceId": "t1",
         "body": task("Composite one")},
        {"method": "GET", "url": f"/services/data/v{sf.sf_version}/sobjects/Task/@{{t1.id}}", "referenceId": "read"}]}
    answer = sf.restful("composite", method="POST", json=body)
    by_ref = {item["referenceId"]: item for item in answer["compositeResponse"]}
    assert by_ref["t1"]["httpStatusCode"] == 201 and by_ref["read"]["body"]["Subject"] == "Composite one"


def test_expired_token_raises_its_expired_session_error(sf, org, session):
    session.post(f"{org[0]}/_control/oauth/expire-access-tokens", timeout=10).raise_for_status()
    with pytest.raises(SalesforceExpiredSession) as info:
        sf.query("SELECT Id FROM Task")
    assert info.value.content[0]["errorCode"] == "INVALID_SESSION_ID"


def test_bad_soql_raises_its_malformed_request_error(sf):
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.query("SELEKT Id FROM Task")
    assert info.value.content[0]["errorCode"] == "MALFORMED_QUERY"
