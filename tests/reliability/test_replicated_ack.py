"""WAIT-based acknowledgement: with INTERMISSION_REDIS_WAIT_REPLICAS=1 a 202 means the replica holds the change.

Replication is asynchronous: without WAIT, a webhook can be answered 202 while only the master holds its job, and a
failover at that moment loses it (the host never resends a 202). The replica is frozen (SIGSTOP) to open that
window on purpose: without WAIT the 202 comes anyway; with WAIT the webhook answers 503 and the host's redelivery,
once the replica is back, is acknowledged only when the replica has the job.
"""
from __future__ import annotations

import json
import os
import signal
from contextlib import contextmanager

import pytest
from rq.job import Job
from rq.serializers import JSONSerializer

from tests.reliability.redis_servers import RedisServer, app_on_redis, running, wait_until
from tests.reliability.webhook_load import boond_event
from connectors.boond.settings import BoondConfig

pytestmark = pytest.mark.slow


def _on_replica(replica: RedisServer, mission: str) -> bool:
    """The replica holds a queued sync job for the mission."""
    ids = [i.decode() for i in replica.client.lrange("rq:queue:intermission", 0, -1)]
    jobs = Job.fetch_many(ids, connection=replica.client, serializer=JSONSerializer)
    return any(job is not None and job.args[1] == mission for job in jobs)


@contextmanager
def frozen(server: RedisServer):
    """SIGSTOP the server for the block (it stops acknowledging replication), then SIGCONT."""
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)


def _deliver(client, url: str, i: int) -> int:
    return client.post(url, json=boond_event(f"ev-{i}", str(700 + i))).status_code


def test_a_202_waits_for_the_replica_when_asked_to(tmp_path):
    from config import tenants
    from webhooks.app import create_app

    master = RedisServer(tmp_path / "master")
    replica = RedisServer(tmp_path / "replica", "--replicaof", "127.0.0.1", str(master.port))
    figures = {"test": "replicated-ack"}
    with running(master, replica):
        wait_until(lambda: replica.client.info("replication").get("master_link_status") == "up", timeout=20,
                   what="the replica to sync")
        for wait in (0, 1):
            with app_on_redis(master.url, INTERMISSION_REDIS_WAIT_REPLICAS=str(wait),
                              INTERMISSION_REDIS_WAIT_TIMEOUT_MS="300"):
                tenant = tenants.Tenant(id="acked", host="boond", host_settings=BoondConfig(app_token="a" * 16, app_key="k" * 16))
                tenants.save(tenant)
                client, url = create_app().test_client(), "/" + tenant.webhook_url().split("/", 3)[3]
                first = 10 * wait
                calm = _deliver(client, url, first)
                figures[f"wait={wait}: replica up"] = [calm, _on_replica(replica, str(700 + first))]
                with frozen(replica):
                    stalled = _deliver(client, url, first + 1)
                wait_until(lambda: replica.client.info("replication").get("master_link_status") == "up",
                           timeout=20, what="the replica to come back")
                again = _deliver(client, url, first + 1) if stalled >= 500 else None
                figures[f"wait={wait}: replica frozen"] = [stalled, again, _on_replica(replica, str(701 + first))]
    print(json.dumps(figures))
    assert figures["wait=0: replica up"][0] == 202 and figures["wait=1: replica up"] == [202, True]
    assert figures["wait=0: replica frozen"][0] == 202  # acknowledged while only the master had it: the window
    assert figures["wait=1: replica frozen"] == [503, 204, True]  # refused, resent, then held by the replica
