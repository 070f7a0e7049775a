"""WSGI apps the benchmarks serve with gunicorn: both sandboxes with a bench-only recorder, a bare 202 endpoint and
its durable floor (one fsynced Redis write).

The recorder keeps every host API call (method, path with query, headers, body, status, wall-clock arrival and
answer times) and can snapshot and restore the whole sandbox state, so a benchmark can replay the exact calls the
pipeline made against the same starting state. It lives here, not in the sandboxes: the product never sees it.
`gunicorn ... tests.bench.hosts:boond` (one worker process: the sandboxes keep their state in memory).
"""
from __future__ import annotations

import base64
import os
import copy
import io
import threading
import time

from flask import Flask, jsonify, request

API_PREFIXES = ("/api/", "/services/")
HEADERS_KEPT = ("Content-Type", "Authorization", "X-Jwt-App-Boondmanager", "X-Jwt-Client-Boondmanager", "Accept")
UNSAVED = ("lock", "changelog")  # state attributes a snapshot leaves out (see Recorder.snapshot)


class Recorder:
    """WSGI middleware: log each host API call with its body and times; snapshot/restore the sandbox state."""

    def __init__(self, app: Flask, state_name: str):
        self.app, self.inner = app, app.wsgi_app
        self.state = app.extensions[state_name]
        self.calls: list[dict] = []
        self.lock = threading.Lock()
        self.saved: dict[str, dict] = {}

    def __call__(self, environ, start_response):
        """Record /api and /services calls; pass everything else through."""
        path = environ.get("PATH_INFO", "")
        if not path.startswith(API_PREFIXES):
            return self.inner(environ, start_response)
        arrived = time.time()
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size) if size else b""
        environ["wsgi.input"] = io.BytesIO(body)
        call = {"t0": arrived, "method": environ["REQUEST_METHOD"], "path": path,
                "query": environ.get("QUERY_STRING", ""), "body": base64.b64encode(body).decode(),
                "headers": {h: _header(environ, h) for h in HEADERS_KEPT}}

        def recording_start(status, headers, exc_info=None):
            call["status"], call["t1"] = int(status.split()[0]), time.time()
            return start_response(status, headers, exc_info)

        result = self.inner(environ, recording_start)
        with self.lock:
            self.calls.append(call)
        return result

    def snapshot(self, name: str) -> None:
        """Keep a deep copy of the sandbox state under `name`: everything but its lock and the Salesforce change
        stream's log (made on first use, with a lock and a condition of its own; no benchmark replays a stream)."""
        with self.state.lock:
            self.saved[name] = copy.deepcopy({k: v for k, v in vars(self.state).items() if k not in UNSAVED})

    def restore(self, name: str) -> None:
        """Put the state saved as `name` back (a deep copy, so it can be restored again)."""
        with self.state.lock:
            vars(self.state).update(copy.deepcopy(self.saved[name]))


def _header(environ: dict, name: str) -> str | None:
    """A request header from the WSGI environ (Content-Type has no HTTP_ prefix there)."""
    key = name.upper().replace("-", "_")
    return environ.get("HTTP_" + key) or environ.get(key)


def with_recorder(app: Flask, state_name: str) -> Flask:
    """Wrap a sandbox app with the recorder and its /_bench routes."""
    recorder = Recorder(app, state_name)
    app.wsgi_app = recorder

    @app.get("/_bench/calls")
    def bench_calls():
        """Every recorded call since the last reset, in answer order."""
        since = int(request.args.get("since", 0))
        with recorder.lock:
            return jsonify(recorder.calls[since:])

    @app.post("/_bench/calls/reset")
    def bench_reset():
        """Forget the recorded calls."""
        with recorder.lock:
            recorder.calls.clear()
        return jsonify(ok=True)

    @app.post("/_bench/snapshot/<name>")
    def bench_snapshot(name: str):
        """Save the sandbox state as `name`."""
        recorder.snapshot(name)
        return jsonify(ok=True)

    @app.post("/_bench/restore/<name>")
    def bench_restore(name: str):
        """Put the state saved as `name` back."""
        recorder.restore(name)
        return jsonify(ok=True)

    return app


def _boond() -> Flask:
    """The Boond sandbox, its rate limit lifted, recorded."""
    from sandboxes.boond import SandboxConfig, create_app

    dialect = os.environ.get("INTERMISSION_BENCH_BOOND_DIALECT", "documented")  # observed: thin deliveries (§10)
    return with_recorder(create_app(SandboxConfig(rate_limit_per_10s=0, dialect=dialect)), "boond_sandbox")


def _salesforce() -> Flask:
    """The Salesforce sandbox, its daily limit lifted and its Outbound Messages retried without delay, recorded."""
    from sandboxes.salesforce import SandboxConfig, create_app

    config = SandboxConfig(daily_api_limit=10**9, outbound_retry_delays=[0.0, 0.0, 0.0, 0.0])
    return with_recorder(create_app(config), "salesforce_sandbox")


def _bare() -> Flask:
    """The floor of the receive path: a Flask endpoint on the same route that answers 202 and does nothing."""
    app = Flask("bare")

    @app.post("/webhooks/boond/<tenant_id>/<secret>")
    def receive(tenant_id: str, secret: str):
        return jsonify(status="queued"), 202

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    return app


def _durable():
    """The floor of any intake that keeps what it accepts: a plain WSGI app that reads the body, makes one write
    that Redis acknowledges (on `deploy/redis.conf`: after its fsync) and answers 202 — no parsing, no tenant, no
    dedupe, no job, no log line. What the product could reach were all of its own work free."""
    import os
    import threading
    import uuid

    import redis

    url, local = os.environ["REDIS_URL"], threading.local()
    body = b'{"status":"queued"}\n'

    def app(environ, start_response):
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "16")])
            return [b'{"status":"ok"}\n']
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        conn = getattr(local, "conn", None) or redis.Redis.from_url(url)
        local.conn = conn
        conn.set("bench:durable:" + uuid.uuid4().hex, b"1", ex=60)
        start_response("202 Accepted", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return app


def __getattr__(name: str):
    """gunicorn loads `tests.bench.hosts:boond|salesforce|bare|durable`; each app is built on first access."""
    makers = {"boond": _boond, "salesforce": _salesforce, "bare": _bare, "durable": _durable}
    if name not in makers:
        raise AttributeError(name)
    app = makers[name]()
    globals()[name] = app
    return app
