"""The Procfile's processes, started exactly as written on a Redis run from deploy/redis.conf, tell the Boond
story while a worker and the web process are SIGKILLed mid-write; the host ends exactly as after a clean run."""
from __future__ import annotations

import json
from collections import Counter
from datetime import date
from types import SimpleNamespace

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from rq import Worker
from rq.job import Job
from rq.registry import StartedJobRegistry
from rq.serializers import JSONSerializer

from config.infra import metrics
from sandboxes.stack import SUBSCRIBED, Stack
from config.infra import clock
from handlers.sync.jobs import tick
from handlers.state.ledger import Ledger
from handlers.intake.queues import get_queue, run_burst
from tests.conftest import METRICS_TOKEN
from tests.e2e.helpers import host_state, markers
from tests.e2e.proc_helpers import (Process, child_env, free_port, procfile, redis_from_deploy_conf,
                                    settle_live, using_redis, wait_until)

T0 = date(2026, 3, 2)
WEBHOOK_ROUTE = "/webhooks/boond/<tenant_id>/<secret>"
SCRAPER = {"Authorization": f"Bearer {METRICS_TOKEN}"}  # /metrics and the /readyz details want it


class SandboxOnly(Stack):
    """The Boond sandbox in a thread and a tenant whose webhooks go to an outside web process."""

    def __init__(self, tenant_id: str, web_url: str):
        super().__init__(tenant_id)
        self.web = SimpleNamespace(url=web_url)

    def start(self) -> "SandboxOnly":
        from sandboxes.boond.app import create_app as sandbox_app
        from sandboxes.serving import ThreadedServer

        self.sandbox = ThreadedServer(sandbox_app()).start()
        self.servers = [self.sandbox]
        self.http = requests.Session()
        self.control("POST", "/_control/reset")
        self.tenant = self._create_tenant()
        self.control("POST", "/_control/webhooks", json={"url": self.webhook_url, "events": SUBSCRIBED})
        return self


def story(stack: Stack, settle, end_early) -> None:
    """Natural end, extension, early end by the client (through `end_early`), two bench weeks, restaffing."""
    clock.pin(T0)
    mission = stack.new_mission(date(2025, 11, 3), date(2026, 4, 16))
    settle()
    stack.move_end(mission, date(2026, 5, 7))
    settle()
    end_early(mission)
    settle()
    for day in (date(2026, 3, 13), date(2026, 3, 20)):
        clock.pin(day)
        tick()
        settle()
    stack.new_mission(date(2026, 3, 30), date(2026, 12, 18))
    settle()


class Deployment:
    """The Procfile's web process and two workers, each restartable on its own."""

    def __init__(self, redis_url: str, logs):
        self.commands, self.logs = procfile(), logs
        port = free_port()
        self.env = child_env(redis_url, INTERMISSION_BIND=f"127.0.0.1:{port}")
        self.url = f"http://127.0.0.1:{port}"
        self.web = self.start("web", "web.log")
        self.workers = [self.start("worker", f"worker-{n}.log") for n in (1, 2)]

    def start(self, kind: str, log_name: str) -> Process:
        return Process(self.commands[kind], self.env, self.logs / log_name).start()

    def restart_web(self) -> None:
        self.web = self.start("web", "web.log")
        wait_until(lambda: _get_json(self.url + "/healthz"), timeout=60, what="gunicorn to answer /healthz")

    def restart_worker(self, killed: Process) -> None:
        self.workers[self.workers.index(killed)] = self.start("worker", "worker-restarted.log")

    def stop(self) -> None:
        for proc in [self.web, *self.workers]:
            proc.stop()


def _get_json(url: str) -> dict | None:
    """The JSON of a 200 answer, else None (not up yet, or not ready)."""
    try:
        answer = requests.get(url, headers=SCRAPER, timeout=5)
    except (requests.ConnectionError, requests.Timeout):  # not listening yet, or its workers still booting
        return None
    return answer.json() if answer.status_code == 200 else None


def _readyz_counting(url: str, workers: int) -> dict | None:
    """/readyz's JSON once it counts `workers` workers (it says ready with the first; the second may boot later)."""
    found = _get_json(url + "/readyz")
    return found if found and found.get("workers") == workers else None


def _intent(conn, mission: str):
    """The ledger entry of a create sent to the host but not yet confirmed."""
    return next((e for e in Ledger(conn, "acme", mission).entries().values() if e.status == "intent"), None)


def _worker_running_a_job(conn, deployment: Deployment) -> Process:
    """The Procfile worker whose work horse is running a job now."""
    def owner():
        for job_id in StartedJobRegistry(queue=get_queue(conn)).get_job_ids():
            job = Job.fetch(job_id, connection=conn, serializer=JSONSerializer)
            pids = {w.pid for w in Worker.all(connection=conn) if w.name == job.worker_name}
            return next((p for p in deployment.workers if p.pid in pids), None)
    return wait_until(owner, timeout=60, what="the worker running the early-end job")


def _action_totals(conn) -> Counter:
    return Counter({labels["op"]: value for name, labels, value in metrics.read_all(conn)
                    if name == "intermission_actions"})


@pytest.fixture
def deploy_redis(tmp_path):
    """A Redis started from deploy/redis.conf; this test process talks to it too. Yields (client, url)."""
    with redis_from_deploy_conf(tmp_path / "redis") as url, using_redis(url):
        from config.infra.redis_conn import get_redis

        yield get_redis(), url


@pytest.mark.slow
def test_procfile_processes_survive_killed_worker_and_web_and_end_like_a_clean_run(deploy_redis, tmp_path):
    conn, url = deploy_redis
    assert conn.config_get("appendonly")["appendonly"] == "yes"
    assert conn.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
    with Stack("acme") as clean:  # the reference: in-process web and burst worker, nothing killed
        story(clean, run_burst, lambda m: clean.end_early(m, date(2026, 3, 12), "client"))
        reference, reference_ops = host_state(clean.actions()), _action_totals(conn)
    assert len(reference) >= 16 and reference_ops["created"] > len(reference)

    conn.flushdb()
    (tmp_path / "logs").mkdir()
    deployment = Deployment(url, tmp_path / "logs")
    try:
        wait_until(lambda: _get_json(deployment.url + "/healthz"), timeout=60, what="gunicorn to answer")
        ready = wait_until(lambda: _readyz_counting(deployment.url, 2), timeout=60,
                           what="/readyz to say ready with both workers")
        assert ready["status"] == "ready" and ready["workers"] == 2
        with SandboxOnly("acme", deployment.url) as stack:

            def end_early_while_crashing(mission: str) -> None:
                stack.control("POST", "/_control/faults", json={"kind": "slow", "times": 1, "method": "POST",
                                                                "path": "/api/actions", "delay": 3})
                stack.end_early(mission, date(2026, 3, 12), "client")  # 202 from gunicorn: the job is queued
                intent = wait_until(lambda: _intent(conn, mission), timeout=60, what="a create in flight")
                victim = _worker_running_a_job(conn, deployment)
                victim.kill_tree()
                deployment.web.kill_tree()
                # the host completes the slow create on its own: the new worker must adopt it, not write it again
                wait_until(lambda: any(intent.key in m for m in markers(stack.actions())), timeout=30,
                           what="the in-flight create to land in the host")
                deployment.restart_worker(victim)
                deployment.restart_web()

            story(stack, lambda: settle_live(conn), end_early_while_crashing)
            actions = stack.actions()
            assert max(markers(actions).values()) == 1
            assert host_state(actions) == reference
            ops = _action_totals(conn)
            assert ops["recovered"] >= 1 and ops["created"] + ops["recovered"] == reference_ops["created"]
            _check_metrics(deployment.url, stack)
            _check_logs(tmp_path / "logs", stack)
    finally:
        deployment.stop()


def _check_metrics(url: str, stack) -> None:
    """Totals from every process: one webhook count per delivery the sandbox saw answered."""
    text = requests.get(url + "/metrics", headers=SCRAPER, timeout=5).text
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    answered = Counter(str(d["status"]) for d in stack.control("GET", "/_control/events")["deliveries"])
    for status, count in answered.items():
        assert samples[("intermission_webhooks_total", (("host", "boond"), ("status", status)))] == count
    assert samples[("intermission_queue_depth", (("queue", "intermission"),))] == 0
    assert samples[("intermission_dead_letters", (("queue", "intermission"),))] == 0
    assert samples[("intermission_host_calls_total", (("code", ""), ("host", "boond"), ("status", "200")))] > 0
    done = ("intermission_job_duration_seconds_count",
            (("function", "handlers.sync.jobs.sync_mission"), ("outcome", "success")))
    assert samples[done] >= 6


def _check_logs(logs, stack) -> None:
    """One JSON object per line; the early end's request id goes from the web line to each host write."""
    lines = [json.loads(line) for path in sorted(logs.iterdir()) for line in path.read_text().splitlines()
             if line.strip()]
    assert all(isinstance(line, dict) and line["msg"] is not None for line in lines)
    web = {line["request_id"] for line in lines if line.get("route") == WEBHOOK_ROUTE and line["status"] == 202}
    writes = [line for line in lines if line["msg"].startswith("host write")]
    assert writes and all(w.get("request_id") and w.get("job_id") and w["host"] == "boond" for w in writes)
    adopted = [w for w in writes if w["op"] == "recovered"]  # the create the killed worker left in flight
    assert adopted and {w["request_id"] for w in adopted} <= web
    rerun = [w for w in writes if w["job_id"] == adopted[0]["job_id"]]
    assert len(rerun) > 1 and {w["request_id"] for w in rerun} == {adopted[0]["request_id"]}
    text = "\n".join(path.read_text() for path in logs.iterdir())
    creds = stack.control("GET", "/_control/credentials")
    for secret in (stack.tenant.webhook_secret, creds["appKey"], creds["clientKey"], creds["userToken"]):
        assert secret not in text
