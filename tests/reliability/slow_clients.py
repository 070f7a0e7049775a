"""Slow clients for real: gunicorn from deploy/gunicorn.conf.py, Debian's nginx from deploy/nginx.conf, trickling sockets.

Used by tests/reliability/test_slow_clients.py (the shipped set-up holds) and tests/bench/slow_clients.py (the
options side by side). Everything listens on 127.0.0.1, on free ports.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import requests

from tests.e2e.proc_helpers import DEPLOY, Process, free_port, procfile, wait_until


def nginx_binary() -> str:
    """Debian's nginx (scripts/ensure-nginx installs it)."""
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    assert found, "nginx is missing: run scripts/ensure-nginx (make install-test does)"
    return found


def render_nginx_conf(tmp: Path, *, listen: int, upstream: int, error_level: str = "crit") -> Path:
    """deploy/nginx.conf with only its ports and /tmp paths moved to this test's (one worker: 2 shared cores);
    `error_level` other than the shipped `crit` makes nginx write the error lines it otherwise keeps."""
    text = (DEPLOY / "nginx.conf").read_text()
    for old, new in (("error_log stderr crit;", f"error_log stderr {error_level};"),
                     ("listen 8080;", f"listen 127.0.0.1:{listen};"), ("server 127.0.0.1:8000;",
                     f"server 127.0.0.1:{upstream};"), ("/tmp/", f"{tmp}/"), ("worker_processes auto;",
                     "worker_processes 1;"), ("access_log /dev/stdout nopath;", f"access_log {tmp}/access.log nopath;")):
        assert old in text, f"deploy/nginx.conf no longer has {old!r}"
        text = text.replace(old, new)
    if _is_root():
        text = "user root;\n" + text  # the test's temp dirs belong to root; in a container nginx runs unprivileged
    conf = tmp / "nginx.conf"
    conf.write_text(text)
    return conf


def _is_root() -> bool:
    import os

    return os.geteuid() == 0


def start_gunicorn(env: dict, port: int, log: Path, *, worker_class: str | None = None) -> Process:
    """The Procfile's web command on 127.0.0.1:port (optionally another worker class); waits for /healthz."""
    argv = procfile()["web"] + (["--worker-class", worker_class] if worker_class else [])
    proc = Process(argv, {**env, "INTERMISSION_BIND": f"127.0.0.1:{port}"}, log).start()
    _wait_healthy(f"http://127.0.0.1:{port}", proc, log)
    return proc


def start_nginx(tmp: Path, *, listen: int, upstream: int, wait: bool = True, error_level: str = "crit") -> Process:
    """Debian's nginx running deploy/nginx.conf in the foreground; waits until it proxies /healthz (`wait`), or
    only until it listens."""
    tmp.mkdir(parents=True, exist_ok=True)
    conf = render_nginx_conf(tmp, listen=listen, upstream=upstream, error_level=error_level)
    proc = Process([nginx_binary(), "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"], {}, tmp / "nginx.log")
    proc.start()
    if wait:
        _wait_healthy(f"http://127.0.0.1:{listen}", proc, tmp / "nginx.log")
    else:
        wait_until(lambda: _listens(listen) or proc.proc.poll() is not None, timeout=30, what="nginx to listen")
    return proc


def _listens(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _wait_healthy(base: str, proc: Process, log: Path) -> None:
    def up() -> bool:
        assert proc.proc.poll() is None, log.read_text()[-3000:]
        try:
            return requests.get(base + "/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    wait_until(up, timeout=60, what=f"{base}/healthz")


class Tricklers:
    """`count` connections that send a request one byte at a time, every `every` seconds, never finishing it.

    Half stall in the headers, half in a declared body (the two ways in the issue)."""

    def __init__(self, port: int, count: int, *, every: float = 1.0, path: str = "/healthz"):
        self.port, self.count, self.every, self.path = port, count, every, path
        self.sockets: list[socket.socket] = []
        self.refused = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._feed, daemon=True)

    def _opening(self, i: int) -> bytes:
        if i % 2:
            return f"POST {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" \
                   f"Content-Length: 100000\r\n\r\n{{".encode()
        return f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".encode()

    def open(self) -> "Tricklers":
        for i in range(self.count):
            s = socket.socket()
            s.settimeout(5)
            try:
                s.connect(("127.0.0.1", self.port))
                s.sendall(self._opening(i))
            except OSError:
                self.refused += 1
                s.close()
                continue
            self.sockets.append(s)
        self._thread.start()
        return self

    def _feed(self) -> None:
        while not self._stop.wait(self.every):
            for s in self.sockets:
                try:
                    s.send(b"a")
                except OSError:
                    pass  # closed by the server: counted by held()

    def held(self) -> int:
        """How many of the connections the server still keeps open (no answer, no close)."""
        held = 0
        for s in self.sockets:
            s.setblocking(False)
            try:
                held += s.recv(1, socket.MSG_PEEK) != b""  # data = the server answered; b"" = it closed
            except BlockingIOError:
                held += 1  # nothing to read: still open, still waiting for us
            except OSError:
                pass
            finally:
                s.setblocking(True)
        return held

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for s in self.sockets:
            s.close()

    def __enter__(self) -> "Tricklers":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()


def timed_get(url: str, *, timeout: float = 5.0) -> tuple[int | None, float]:
    """(status or None on timeout/refusal, seconds taken) for one fresh-connection GET."""
    started = time.monotonic()
    try:
        status = requests.get(url, timeout=timeout, headers={"Connection": "close"}).status_code
    except requests.RequestException:
        status = None
    return status, time.monotonic() - started


def timed_post(url: str, body: dict, *, timeout: float = 5.0) -> tuple[int | None, float]:
    """(status or None, seconds) for one JSON POST on a fresh connection."""
    started = time.monotonic()
    try:
        status = requests.post(url, json=body, timeout=timeout, headers={"Connection": "close"}).status_code
    except requests.RequestException:
        status = None
    return status, time.monotonic() - started


def free_ports(n: int) -> list[int]:
    """n distinct free ports."""
    ports: set[int] = set()
    while len(ports) < n:
        ports.add(free_port())
    return sorted(ports)


__all__ = ["Tricklers", "free_ports", "start_gunicorn", "start_nginx", "timed_get", "timed_post", "subprocess"]
