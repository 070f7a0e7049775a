"""Helpers to run the deploy files' processes for real: a Redis from deploy/redis.conf, Procfile commands, kills."""
from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import redis
from rq.registry import ScheduledJobRegistry, StartedJobRegistry

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, *, timeout: float, what: str, every: float = 0.05):
    """Poll `check()` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


def procfile() -> dict[str, list[str]]:
    """deploy/Procfile as {process type: argv}."""
    found = {}
    for line in (DEPLOY / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            found[name.strip()] = shlex.split(command)
    return found


@contextmanager
def redis_from_deploy_conf(tmp_path: Path):
    """`redis-server deploy/redis.conf` on a free loopback port with its files in a temp dir; yields its URL."""
    port = free_port()
    tmp_path.mkdir(parents=True, exist_ok=True)
    argv = ["redis-server", str(DEPLOY / "redis.conf"), "--port", str(port), "--dir", str(tmp_path),
            "--bind", "127.0.0.1"]
    proc = subprocess.Popen(argv, stdout=open(tmp_path / "redis.log", "wb"), stderr=subprocess.STDOUT)
    client = redis.Redis(port=port)
    try:
        wait_until(lambda: _pings(client) or proc.poll() is not None, timeout=20, what="redis-server to answer")
        assert proc.poll() is None, (tmp_path / "redis.log").read_text()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


@contextmanager
def using_redis(url: str):
    """Point this test process (settings, cached client) at another Redis, and back afterwards."""
    from config.infra.redis_conn import reset_connection
    from config.settings import get_settings

    before = os.environ.get("REDIS_URL")
    os.environ["REDIS_URL"] = url
    get_settings.cache_clear()
    reset_connection()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("REDIS_URL", None)
        else:
            os.environ["REDIS_URL"] = before
        get_settings.cache_clear()
        reset_connection()


class Process:
    """One Procfile process, run from the repository root with its output appended to a log file."""

    def __init__(self, argv: list[str], env: dict, log_path: Path):
        self.argv, self.env, self.log_path = argv, env, log_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Process":
        out = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        out.close()
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill_tree(self) -> None:
        """SIGKILL the process and every descendant (gunicorn workers, rq work horses and scheduler)."""
        for pid in [self.pid, *descendants(self.pid)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """A polite stop (SIGTERM to the group), then SIGKILL if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            self.kill_tree()


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (Linux /proc), whatever its process group."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        found += [int(c) for c in children]
        todo += [int(c) for c in children]
    return found


def child_env(redis_url: str, **extra: str) -> dict:
    """The environment a deployed process gets: the test settings, this Redis, the venv's commands first."""
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "REDIS_URL": redis_url, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
           "INTERMISSION_LOG_LEVEL": "INFO", "INTERMISSION_LOG_FORMAT": "json", **extra}
    env.pop("INTERMISSION_CRASH_AFTER_HOST_WRITE", None)
    return env


def queue_idle(conn: redis.Redis) -> bool:
    """Nothing queued, being handed over, running or due for retry (the 15-minute tick aside)."""
    from handlers.intake.queues import get_queue

    queue = get_queue(conn)
    scheduled = ScheduledJobRegistry(queue=queue).get_job_ids()
    return (queue.count == 0 and conn.llen(queue.intermediate_queue_key) == 0
            and StartedJobRegistry(queue=queue).count == 0 and all(j.startswith("tick-") for j in scheduled))


def settle_live(conn: redis.Redis, *, timeout: float = 90) -> None:
    """Wait until the running workers have drained the queue (idle on three polls in a row)."""
    streak = {"n": 0}

    def calm() -> bool:
        streak["n"] = streak["n"] + 1 if queue_idle(conn) else 0
        return streak["n"] >= 3

    wait_until(calm, timeout=timeout, what="the workers to drain the queue")
