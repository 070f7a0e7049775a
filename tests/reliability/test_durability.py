"""Durability: 1,000 webhooks while Redis (deploy/redis.conf, AOF) is SIGKILLed mid-stream and restarted.

Three in four are Boond events (one queued job per mission), one in four Salesforce Flow callouts (the mission is
marked dirty in its tenant's hash and one batch job is queued per tenant). Every webhook names a distinct mission,
so "lost" is exact: an event acknowledged (2xx, first try or the host's redelivery) whose mission, once Redis is
back, has no queued job (Boond) or is not dirty with a batch job queued (Salesforce). Requests made while Redis
is down must be refused with a 5xx, which makes the host deliver again.
"""
from __future__ import annotations

import json
import threading
import time
from collections import Counter

import pytest
from rq.job import Job
from rq.serializers import JSONSerializer

from tests.reliability.redis_servers import RedisServer, app_on_redis, running, wait_until
from tests.reliability.webhook_load import Answer, Load, boond_event, flow_event, sf_record_id
from connectors.salesforce.settings import SalesforceConfig
from connectors.boond.settings import BoondConfig

N, KILL_AFTER, SENDERS = 1000, 400, 8
ORG = "00D000000000001AAA"


class Outage:
    """SIGKILLs Redis after `kill_after` acknowledgements, restarts it once `refusals` requests were refused."""

    def __init__(self, server: RedisServer, *, kill_after: int, refusals: int):
        self.server, self.kill_after, self.refusals = server, kill_after, refusals
        self.acks, self.refused = 0, 0
        self.killed_at = self.restart_at = self.back_at = None
        self._lock = threading.Lock()
        self._restarter: threading.Thread | None = None

    def observe(self, _i: int, answer: Answer) -> None:
        """Called with every answer, from the sender threads."""
        with self._lock:
            if 200 <= answer.status < 300:
                self.acks += 1
            if self.killed_at is None and self.acks >= self.kill_after:
                self.server.kill()
                self.killed_at = time.monotonic()
            elif self.killed_at and answer.sent > self.killed_at and answer.status >= 500:
                self.refused += 1
                if self.refused >= self.refusals and self._restarter is None:
                    self._restarter = threading.Thread(target=self._restart)
                    self._restarter.start()

    def _restart(self) -> None:
        self.restart_at = time.monotonic()
        self.server.start()  # same --dir: the AOF is replayed
        self.back_at = time.monotonic()

    def join(self) -> None:
        wait_until(lambda: self._restarter is not None, timeout=60, what="the outage to end")
        self._restarter.join()


def _tenants():
    """A Boond tenant and a Salesforce tenant (Flow callouts, batch path); no host is ever called."""
    from config import tenants

    boond = tenants.Tenant(id="durable", host="boond", host_settings=BoondConfig(
        base_url="http://127.0.0.1:9/api", app_token="a" * 16, app_key="k" * 16, user_token="u" * 16))
    sf = tenants.Tenant(id="durable-sf", host="salesforce", host_settings=SalesforceConfig(
        login_url="http://127.0.0.1:9", client_id="c" * 16, client_secret="s" * 16, org_id=ORG))
    for tenant in (boond, sf):
        tenants.save(tenant)
    return boond, sf


def _targets(base: str):
    """event i → (URL, body): a Boond event for delivery 100000+i, or (one in four) a Flow callout."""
    boond, sf = _tenants()

    def target(i: int) -> tuple[str, dict]:
        if i % 4 == 3:
            return sf.webhook_url(base), flow_event(f"ev-{i}", ORG, sf_record_id(i))
        return boond.webhook_url(base), boond_event(f"ev-{i}", str(100000 + i))
    return target


def _mission(i: int) -> str:
    return sf_record_id(i) if i % 4 == 3 else str(100000 + i)


def _redeliver(load: Load) -> set[int]:
    """Deliver again, as the host does, every event that got no 2xx; returns their indexes."""
    failed = {i for i in load.answers if not 200 <= load.last(i) < 300}
    deadline = time.monotonic() + 60
    while (todo := sorted(failed - load.acknowledged())) and time.monotonic() < deadline:
        load.run(todo)
    return failed


def _jobs_per_mission(conn) -> tuple[Counter, int]:
    """How many queued jobs cover each mission (a batch job covers its tenant's dirty missions), and ids without job."""
    from handlers.sync.batch import dirty_key
    from handlers.intake.queues import get_queue

    ids = get_queue(conn).get_job_ids()
    jobs = [job for job in Job.fetch_many(ids, connection=conn, serializer=JSONSerializer) if job is not None]
    covered = Counter(job.args[1] for job in jobs if job.func_name == "handlers.sync.jobs.sync_mission")
    if any(job.func_name == "handlers.sync.batch.sync_tenant" and job.args[0] == "durable-sf" for job in jobs):
        covered.update(key.decode() for key in conn.hkeys(dirty_key("durable-sf")))
    return covered, len(ids) - len(jobs)


def _figures(load: Load, outage: Outage, redelivered: set[int], fsync: str) -> dict:
    from config.infra.redis_conn import get_redis

    jobs, orphan_ids = _jobs_per_mission(get_redis())
    acked = load.acknowledged()
    lost = sorted(i for i in acked if _mission(i) not in jobs)
    first = [load.answers[i][0] for i in range(N)]
    down = [a for a in first if a.sent > outage.killed_at and a.answered < outage.restart_at]
    before_kill = [a for a in first if a.answered <= outage.killed_at and a.status == 202]
    started = min(a.sent for a in first)
    after = [a.answered for tries in load.answers.values() for a in tries
             if a.sent >= outage.back_at and a.status == 202]
    return {"test": "durability", "appendfsync": fsync, "webhooks": N, "acknowledged": len(acked),
            "acknowledged_before_kill": len(before_kill), "lost": len(lost),
            "lost_acknowledged_before_kill": sum(1 for i in lost if load.answers[i][0].status == 202),
            "duplicated": sum(n - 1 for n in jobs.values() if n > 1), "job_ids_without_job": orphan_ids,
            "refused_while_down": sum(a.status >= 500 or a.status == 0 for a in down),
            "acknowledged_while_down": sum(200 <= a.status < 300 for a in down),
            "redelivered": len(redelivered), "recovered": len(redelivered & acked),
            "outage_s": round(outage.back_at - outage.killed_at, 2),
            "time_to_recover_s": round(min(after) - outage.restart_at, 2) if after else None,
            "webhooks_per_s_before_kill": round(len(before_kill) / (outage.killed_at - started), 1),
            "acked_in_last_2s_before_kill": sum(a.answered > outage.killed_at - 2 for a in before_kill),
            "statuses": {str(k): v for k, v in sorted(load.statuses().items())}, "lost_missions": lost[:10]}


@pytest.mark.slow
@pytest.mark.parametrize("fsync", ["always", "everysec"])
def test_no_acknowledged_webhook_is_lost_when_redis_is_killed(tmp_path, fsync):
    from sandboxes.serving import ThreadedServer
    from webhooks.app import create_app

    server = RedisServer(tmp_path / fsync, "--appendfsync", fsync)
    # a short retry budget: requests made while Redis is down are refused quickly instead of held for 15 s
    with running(server), app_on_redis(server.url, INTERMISSION_REDIS_RETRY_SECONDS="0.5"), \
            ThreadedServer(create_app()) as web:
        outage = Outage(server, kill_after=KILL_AFTER, refusals=SENDERS)
        load = Load(_targets(web.url), N, senders=SENDERS, on_answer=outage.observe)
        load.run()
        outage.join()
        figures = _figures(load, outage, _redeliver(load), fsync)
    print(json.dumps(figures))
    assert figures["acknowledged_while_down"] == 0 and figures["refused_while_down"] > 0
    assert figures["acknowledged"] == N and figures["recovered"] == figures["redelivered"]
    assert figures["job_ids_without_job"] == 0 and figures["duplicated"] == 0
    if fsync == "always":
        assert figures["lost"] == 0, figures
    else:  # everysec: a crash of the process may lose at most the writes not yet handed to the kernel
        assert figures["lost"] <= figures["acked_in_last_2s_before_kill"], figures
