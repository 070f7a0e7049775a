"""Real Redis processes for reliability tests: the production config on a free port, SIGKILL, restart, Sentinel."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[2]
REDIS_CONF = ROOT / "deploy" / "redis.conf"


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


def pings(client: redis.Redis) -> bool:
    """True when the server answers PING (False while it is down or loading)."""
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


class RedisServer:
    """`redis-server <conf> --port P --dir D [extra]`: started, SIGKILLed and restarted on the same files."""

    def __init__(self, directory: Path, *extra: str, conf: Path | None = REDIS_CONF, port: int | None = None):
        self.dir, self.port, self.conf = Path(directory), port or free_port(), conf
        self.extra = list(extra)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None
        self.client = redis.Redis(port=self.port, socket_timeout=5)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def argv(self) -> list[str]:
        """The command line: the config file first, then what the test overrides."""
        head = ["redis-server"] + ([str(self.conf)] if self.conf else [])
        return head + ["--port", str(self.port), "--dir", str(self.dir), "--bind", "127.0.0.1", *self.extra]

    def start(self) -> "RedisServer":
        """Start (or restart) and wait until it answers PING (the AOF loaded)."""
        with open(self.dir / "redis.log", "ab") as out:
            self.proc = subprocess.Popen(self.argv(), stdout=out, stderr=subprocess.STDOUT, cwd=self.dir)
        wait_until(lambda: pings(self.client) or self.proc.poll() is not None, timeout=30,
                   what=f"redis-server on {self.port}")
        assert self.proc.poll() is None, (self.dir / "redis.log").read_text()[-2000:]
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final fsync, no AOF rewrite."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """A polite stop, then SIGKILL if it lingers."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def running(*servers: RedisServer):
    """Start the servers in order; stop them all at the end, whatever happened."""
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in reversed(servers):
            server.stop()


@contextmanager
def app_on_redis(url: str | None = None, **env: str):
    """Point this process's settings and cached client at another Redis (URL or Sentinel env), then back."""
    from config.infra.redis_conn import reset_connection
    from config.settings import get_settings

    names = {"REDIS_URL": url, **env}
    before = {name: os.environ.get(name) for name in names}
    for name, value in names.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    get_settings.cache_clear()
    reset_connection()
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
        reset_connection()
