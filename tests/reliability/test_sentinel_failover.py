"""Redis Sentinel: the master is SIGKILLed while Boond webhooks flow and a worker runs; Sentinel promotes the replica.

A master and a replica (deploy/redis.conf) and one Sentinel (quorum 1, down-after 1 s) on free ports; the web app,
the Boond sandbox and a worker process reach Redis only through `INTERMISSION_REDIS_SENTINELS`. Missions are created
before, during and after the failover; the test plays the host, redelivering any event refused with a 5xx. Every
acknowledged mission must end with its eight actions in the sandbox, each written once.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date

import pytest
import requests

from config.infra import clock
from tests.e2e.helpers import MARK
from tests.reliability.redis_servers import REDIS_CONF, RedisServer, app_on_redis, free_port, running, wait_until

T0, START, END = date(2026, 3, 2), date(2025, 11, 3), date(2026, 4, 16)
BEFORE, AFTER, MAX_DURING, SENDERS = 6, 6, 24, 4
CONSULTANTS = BEFORE + AFTER + MAX_DURING + SENDERS
pytestmark = pytest.mark.slow


def _servers(tmp_path) -> tuple[RedisServer, RedisServer, RedisServer]:
    """Master, replica (each with its own copy of deploy/redis.conf: Redis rewrites it) and a Sentinel."""
    master_port = free_port()
    made = []
    for name, extra in (("master", []), ("replica", ["--replicaof", "127.0.0.1", str(master_port)])):
        conf = tmp_path / f"{name}.conf"
        conf.write_text(REDIS_CONF.read_text())
        made.append(RedisServer(tmp_path / name, "--repl-diskless-sync-delay", "0", *extra, conf=conf,
                                port=master_port if name == "master" else None))
    sentinel_port = free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(f"port {sentinel_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
                    f"sentinel monitor mymaster 127.0.0.1 {master_port} 1\n"
                    "sentinel down-after-milliseconds mymaster 1000\nsentinel failover-timeout mymaster 10000\n")
    made.append(RedisServer(tmp_path / "sentinel", "--sentinel", conf=conf, port=sentinel_port))
    return tuple(made)


def _master_port(sentinel: RedisServer) -> int | None:
    found = sentinel.client.execute_command("SENTINEL", "get-master-addr-by-name", "mymaster")
    return int(found[1]) if found else None


class Host:
    """Plays Boond: creates missions (one consultant each) and delivers their events, again after any 5xx."""

    def __init__(self, stack, consultants: list[str]):
        self.stack, self.consultants = stack, consultants
        self.missions: dict[str, dict] = {}  # mission → {"phase", "answers": [(status, at)]}
        self.lock = threading.Lock()

    def mission(self, phase: str, deadline: float = 90) -> str:
        """One new mission, its event delivered until acknowledged (or the deadline passes); thread-safe."""
        with self.lock:
            consultant = self.consultants.pop()
        made = requests.post(self.stack.sandbox.url + "/_control/deliveries", timeout=30, json={
            "resource": consultant, "project": "45", "startDate": START.isoformat(), "endDate": END.isoformat(),
            "state": 0, "title": f"Mission {phase}", "deliver": False}).json()
        mission, event = made["data"]["id"], made["events"][0]
        answers, stop = [], time.monotonic() + deadline
        with self.lock:
            self.missions[mission] = {"phase": phase, "answers": answers}
        while time.monotonic() < stop and not (answers and 200 <= answers[-1][0] < 300):
            try:
                status = requests.post(self.stack.webhook_url, json=event, timeout=30).status_code
            except requests.RequestException:
                status = 0
            answers.append((status, time.monotonic()))
        return mission

    def acknowledged(self) -> set[str]:
        with self.lock:
            return {m for m, r in self.missions.items() if r["answers"] and 200 <= r["answers"][-1][0] < 300}

    def count(self, phase: str) -> int:
        with self.lock:
            return sum(1 for r in self.missions.values() if r["phase"] == phase)


def _worker(tmp_path, sentinels: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(INTERMISSION_REDIS_SENTINELS=sentinels, INTERMISSION_RETRY_INTERVALS="1,2,5,10",
               INTERMISSION_ORPHAN_CHECK_SECONDS="1", INTERMISSION_LOG_LEVEL="INFO")
    with open(tmp_path / "worker.log", "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "intermission_cli.main", "worker"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, cwd=REDIS_CONF.parents[1])


def _stop(worker: subprocess.Popen) -> None:
    """SIGTERM (a warm shutdown), then SIGKILL if it is still there after 20 s."""
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=10)


def _landed(stack, missions: set[str]) -> Counter:
    """How many actions each (mission, step) marker has in the sandbox."""
    found = Counter(MARK.search(a["attributes"].get("text") or "").group(0) for a in stack.actions())
    return Counter({k: v for k, v in found.items() if k.split(":")[1].split("/")[0] in missions})


def _complete(stack, missions: set[str]) -> bool:
    per_mission = Counter(k.split(":")[1].split("/")[0] for k in _landed(stack, missions))
    return all(per_mission[m] >= 8 for m in missions)


def _during(host: Host, master: RedisServer, sentinel: RedisServer, replica_port: int) -> tuple[float, dict]:
    """Senders create missions, the master dies under them; each stops once acknowledged after the promotion."""
    promoted = {}

    def sender() -> None:
        while host.count("during") < MAX_DURING:
            mission = host.mission("during")
            if "at" not in promoted and _master_port(sentinel) == replica_port:
                promoted.setdefault("at", time.monotonic())
            if "at" in promoted and host.missions[mission]["answers"][-1][1] > promoted["at"]:
                return

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    wait_until(lambda: len(host.acknowledged()) >= BEFORE + SENDERS, timeout=30, what="webhooks in flight")
    master.kill()
    killed = time.monotonic()
    for thread in threads:
        thread.join(timeout=120)
    return killed, {"promoted_after_s": round(promoted["at"] - killed, 2) if promoted else None}


def _resumed_after(killed_wall: float) -> float | None:
    """Seconds from the kill to the first job a worker started afterwards (rq's started_at)."""
    from rq.job import Job
    from rq.registry import FinishedJobRegistry
    from rq.serializers import JSONSerializer

    from handlers.intake.queues import get_queue

    queue = get_queue()
    jobs = Job.fetch_many(FinishedJobRegistry(queue=queue).get_job_ids(), connection=queue.connection,
                          serializer=JSONSerializer)
    starts = [j.started_at.timestamp() for j in jobs if j and j.started_at and j.started_at.timestamp() > killed_wall]
    return round(min(starts) - killed_wall, 2) if starts else None


def _figures(host: Host, stack, killed: float, extra: dict) -> dict:
    acked = host.acknowledged()
    landed = _landed(stack, acked)
    first_202 = min((at for r in host.missions.values() for status, at in r["answers"]
                     if at > killed and status == 202), default=None)
    refused = sum(1 for r in host.missions.values() for status, _ in r["answers"] if status >= 500 or status == 0)
    per_mission = Counter(k.split(":")[1].split("/")[0] for k in landed)
    return {"test": "sentinel-failover", "missions": len(host.missions), "acknowledged": len(acked),
            "by_phase": dict(Counter(r["phase"] for r in host.missions.values())),
            "refused_5xx": refused, "lost": sorted(m for m in acked if per_mission[m] < 8),
            "duplicated": sum(n - 1 for n in landed.values() if n > 1), "actions": sum(landed.values()),
            "webhooks_recovered_after_s": round(first_202 - killed, 2) if first_202 else None, **extra}


def test_webhooks_and_work_go_on_through_a_sentinel_failover(tmp_path):
    from sandboxes.stack import Stack

    master, replica, sentinel = _servers(tmp_path)
    with running(master, replica, sentinel):
        wait_until(lambda: replica.client.info("replication").get("master_link_status") == "up", timeout=20,
                   what="the replica to sync")
        wait_until(lambda: sentinel.client.execute_command("SENTINEL", "replicas", "mymaster"), timeout=20,
                   what="the Sentinel to find the replica")
        sentinels = f"127.0.0.1:{sentinel.port}"
        with app_on_redis(None, INTERMISSION_REDIS_SENTINELS=sentinels), Stack("acme") as stack:
            clock.pin(T0)
            host = Host(stack, [stack.new_consultant(f"C{i}") for i in range(CONSULTANTS)])
            worker = _worker(tmp_path, sentinels)
            try:
                figures = _story(host, stack, master, replica, sentinel)
            finally:
                _stop(worker)
    print(json.dumps(figures))
    assert figures["lost"] == [] and figures["duplicated"] == 0, figures
    assert figures["by_phase"]["during"] >= 1 and figures["promoted_after_s"] is not None


def _story(host: Host, stack, master: RedisServer, replica: RedisServer, sentinel: RedisServer) -> dict:
    """Before, kill while senders run, after; then wait for the work to land."""
    for _ in range(BEFORE):
        host.mission("before")
    wait_until(lambda: _complete(stack, host.acknowledged()), timeout=60, what="the first missions' actions",
               every=0.2)
    wall = time.time() - time.monotonic()
    killed, extra = _during(host, master, sentinel, replica.port)
    for _ in range(AFTER):
        host.mission("after")
    wait_until(lambda: _complete(stack, host.acknowledged()), timeout=120, what="every acknowledged mission's "
               "actions", every=0.5)
    extra["all_work_done_after_s"] = round(time.monotonic() - killed, 2)
    extra["worker_resumed_after_s"] = _resumed_after(killed + wall)
    return _figures(host, stack, killed, extra)
