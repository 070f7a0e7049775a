"""Durability at every crash point: a webhook whose Redis connection dies before its k-th command, for every k.

The statistical test (`test_durability.py`) kills Redis at one random moment; this one walks every point of a
webhook's Redis conversation deterministically. At each, the request is either acknowledged with its work kept
whole, or refused (5xx) and the host's redelivery is then queued: never a dedupe key left without its job.
"""
from __future__ import annotations

import json

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.reliability.test_durability import ORG
from tests.reliability.webhook_load import boond_event, flow_event, sf_record_id
from connectors.salesforce.settings import SalesforceConfig
from connectors.boond.settings import BoondConfig

MAX_CALLS = 16  # more Redis commands than any webhook makes


class Cut:
    """Mixed into the pool's connection class: refuses to send once the shared budget is spent (as if Redis died)."""

    budget: int | None = None

    def on_connect(self) -> None:
        self._setup = True
        try:
            super().on_connect()
        finally:
            self._setup = False

    def send_packed_command(self, command, check_health=True):
        if Cut.budget is not None and not getattr(self, "_setup", False):
            if Cut.budget <= 0:
                raise redis.ConnectionError("Redis went away (test cut)")
            Cut.budget -= 1
        return super().send_packed_command(command, check_health)


@pytest.fixture
def cut_client(redis_conn, monkeypatch):
    """The app's Redis client, on the same server (TCP or socket), through a cutting connection, with no retries."""
    from config.infra import redis_conn as module

    base = redis_conn.connection_pool
    cutting = type("Cutting" + base.connection_class.__name__, (Cut, base.connection_class), {})
    kwargs = {k: v for k, v in base.connection_kwargs.items() if k != "retry"}
    pool = redis.ConnectionPool(connection_class=cutting, retry=Retry(NoBackoff(), 0), **kwargs)
    monkeypatch.setattr(module, "_client", redis.Redis(connection_pool=pool))
    yield
    Cut.budget = None


def _tenant(host: str):
    from config import tenants

    if host == "boond":
        tenant = tenants.Tenant(id="cut", host="boond", host_settings=BoondConfig(app_token="a" * 16, app_key="k" * 16))
    else:
        tenant = tenants.Tenant(id="cut-sf", host="salesforce", host_settings=SalesforceConfig(
            client_id="c" * 16, client_secret="s" * 16, org_id=ORG))
    tenants.save(tenant)
    return tenant


def _body(host: str, k: int) -> dict:
    return boond_event(f"ev-{k}", str(500 + k)) if host == "boond" else flow_event(f"ev-{k}", ORG, sf_record_id(k))


def _kept(conn, host: str, tenant: str, k: int) -> bool:
    """The change is waiting for a worker: a queued job for the mission, or dirty with its tenant's batch queued."""
    from rq.job import Job
    from rq.serializers import JSONSerializer

    from handlers.sync.batch import dirty_key
    from handlers.intake.queues import get_queue

    jobs = [j for j in Job.fetch_many(get_queue(conn).get_job_ids(), connection=conn, serializer=JSONSerializer) if j]
    if host == "boond":
        return any(j.args[1] == str(500 + k) for j in jobs)
    dirty = conn.hexists(dirty_key(tenant), sf_record_id(k))
    return dirty and any(j.func_name == "handlers.sync.batch.sync_tenant" and j.args[0] == tenant for j in jobs)


@pytest.mark.parametrize("host", ["boond", "salesforce"])
def test_a_webhook_cut_at_any_redis_command_is_refused_or_kept_whole(redis_conn, cut_client, host):
    from webhooks.app import create_app

    tenant, client = _tenant(host), create_app().test_client()
    url = "/" + tenant.webhook_url().split("/", 3)[3]
    outcomes = []
    for k in range(MAX_CALLS):
        Cut.budget = k
        first = client.post(url, json=_body(host, k)).status_code
        Cut.budget = None
        again = client.post(url, json=_body(host, k)).status_code if first >= 500 else None
        kept = _kept(redis_conn, host, tenant.id, k)
        outcomes.append({"cut_at": k, "first": first, "redelivery": again, "kept": kept})
    print(json.dumps({"test": "cut_requests", "host": host, "outcomes": outcomes}))
    assert all(o["first"] in (202, 503) and o["kept"] for o in outcomes), outcomes
    assert outcomes[-1]["first"] == 202  # the budget outlasted the whole request at least once
