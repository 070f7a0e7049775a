"""Redis Sentinel through settings: the app and the rq workers find the master, and the new one after a failover."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from contextlib import ExitStack, contextmanager

import pytest
import redis
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from config.infra.redis_conn import parse_sentinels
from tests.e2e.proc_helpers import DEPLOY, free_port, wait_until

WORKER = [sys.executable, "-m", "intermission_cli.main", "worker", "--burst"]


@contextmanager
def server(argv: list[str], port: int):
    """A redis-server (or Sentinel) process, answering PING before the block starts."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    try:
        wait_until(lambda: _pings(client) or proc.poll() is not None, timeout=20, what=f"redis on {port}")
        assert proc.poll() is None, f"{argv[0]} on port {port} exited"
        yield client
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def _master_port(sentinel: redis.Redis) -> int | None:
    found = sentinel.execute_command("SENTINEL", "get-master-addr-by-name", "mymaster")
    return int(found[1]) if found else None


@pytest.fixture
def sentinel_setup(tmp_path):
    """A master (deploy/redis.conf), its replica and one Sentinel (quorum 1), all on loopback."""
    ports = {"master": free_port(), "replica": free_port(), "sentinel": free_port()}
    conf = tmp_path / "redis.conf"  # a copy: a failover makes Redis rewrite its configuration file
    shutil.copy(DEPLOY / "redis.conf", conf)
    base = ["redis-server", str(conf), "--bind", "127.0.0.1", "--repl-diskless-sync-delay", "0"]
    (tmp_path / "master").mkdir()
    (tmp_path / "replica").mkdir()
    sentinel_conf = tmp_path / "sentinel.conf"
    sentinel_conf.write_text(f"port {ports['sentinel']}\nbind 127.0.0.1\ndir {tmp_path}\n"
                             f"sentinel monitor mymaster 127.0.0.1 {ports['master']} 1\n"
                             "sentinel down-after-milliseconds mymaster 2000\n"
                             "sentinel failover-timeout mymaster 10000\n")
    at = {name: ["--port", str(port), "--dir", str(tmp_path / name)] for name, port in ports.items()}
    with ExitStack() as stack:
        master = stack.enter_context(server([*base, *at["master"]], ports["master"]))
        replica = stack.enter_context(server([*base, *at["replica"], "--replicaof", "127.0.0.1", str(ports["master"])],
                                             ports["replica"]))
        sentinel = stack.enter_context(server(["redis-server", str(sentinel_conf), "--sentinel"], ports["sentinel"]))
        wait_until(lambda: replica.info("replication").get("master_link_status") == "up", timeout=20,
                   what="the replica to sync")
        wait_until(lambda: sentinel.execute_command("SENTINEL", "replicas", "mymaster"), timeout=20,
                   what="the Sentinel to discover the replica")
        yield {"ports": ports, "master": master, "replica": replica, "sentinel": sentinel}


@pytest.fixture
def sentinel_settings(sentinel_setup, monkeypatch):
    """This process configured with INTERMISSION_REDIS_SENTINELS and no REDIS_URL."""
    from config.infra.redis_conn import reset_connection
    from config.settings import get_settings

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("INTERMISSION_REDIS_SENTINELS", f"127.0.0.1:{sentinel_setup['ports']['sentinel']}")
    monkeypatch.setenv("INTERMISSION_REDIS_SENTINEL_MASTER", "mymaster")
    get_settings.cache_clear()
    reset_connection()
    yield sentinel_setup
    get_settings.cache_clear()
    reset_connection()


def _run_worker() -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    done = subprocess.run(WORKER, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def _finished_on(client: redis.Redis, job_id: str) -> bool:
    return Job.fetch(job_id, connection=client, serializer=JSONSerializer).get_status() == JobStatus.FINISHED


def test_sentinel_spec_is_parsed_and_a_bad_one_named():
    assert parse_sentinels("a:26379, [::1]:26380") == [("a", 26379), ("::1", 26380)]
    with pytest.raises(ValueError, match="expected host:port, got 'nohost'"):
        parse_sentinels("a:1,nohost")


@pytest.mark.slow
def test_app_and_workers_follow_the_master_through_sentinel_and_a_failover(sentinel_settings):
    from config.infra.redis_conn import get_redis
    from handlers.intake.queues import get_queue

    conn = get_redis()
    assert conn.connection_pool.service_name == "mymaster"
    conn.set("im:test:hello", "1")
    assert sentinel_settings["master"].get("im:test:hello") == b"1"
    first = get_queue().enqueue("handlers.sync.holds.resume", "nobody").id
    _run_worker()  # the worker process reaches Redis only through the Sentinel settings
    assert _finished_on(sentinel_settings["master"], first)

    sentinel, ports = sentinel_settings["sentinel"], sentinel_settings["ports"]
    sentinel.execute_command("SENTINEL", "FAILOVER", "mymaster")
    wait_until(lambda: _master_port(sentinel) == ports["replica"], timeout=30, what="the replica to be promoted")
    wait_until(lambda: sentinel_settings["replica"].info("replication")["role"] == "master", timeout=30,
               what="the new master to accept writes")
    wait_until(lambda: sentinel_settings["master"].info("replication")["role"] == "slave", timeout=30,
               what="the old master to be demoted")  # before that, a write there would be lost (async replication)
    second = wait_until(lambda: _enqueue_quietly(get_queue), timeout=30, what="a write through the new master")
    _run_worker()
    assert _finished_on(sentinel_settings["replica"], second)


def _enqueue_quietly(get_queue) -> str | None:
    """Enqueue once the client has noticed the failover (the first try may hit the demoted master)."""
    try:
        return get_queue().enqueue("handlers.sync.holds.resume", "nobody").id
    except (redis.ConnectionError, redis.ReadOnlyError):
        return None
