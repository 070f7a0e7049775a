"""Operations surface of the web process: /healthz, /readyz, /metrics, request ids and one log line per request."""
from __future__ import annotations

import hmac
import time

import redis
from flask import Blueprint, Flask, Response, g, jsonify, request

from config.infra import metrics
from config.infra.logs import pop_fields, push_fields
from config.settings import get_settings
from handlers.ops import health
from handlers.ops.metrics import exposition, make_registry
from webhooks.common import redis_unavailable
from webhooks.plain import log_answer, request_id

bp = Blueprint("ops", __name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # as is: Flask adds a charset to a bare `mimetype`
_registry = make_registry()


@bp.get("/healthz")
def healthz():
    """The process is up (liveness): no dependency is checked."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Redis reachable, queue not stuck, scheduler alive; `?scope=web` checks only what the web process needs.

    The details (queue ages, worker names) need the metrics bearer token; probes get the status alone."""
    ready, details = health.readiness(scope="web" if request.args.get("scope") == "web" else "all")
    g.redis_down = details.get("redis") == "down"
    body = details if _scraper() else {"status": "ready" if ready else "not ready"}
    return jsonify(body), 200 if ready else 503


@bp.get("/metrics")
def metrics_endpoint():
    """Prometheus text format; totals come from Redis, so every web process answers the same. Bearer token only."""
    if not get_settings().metrics_token:
        return jsonify(error="Not Found", message="set INTERMISSION_METRICS_TOKEN to expose /metrics"), 404
    if not _scraper():
        return (jsonify(error="Unauthorized", message="send Authorization: Bearer <INTERMISSION_METRICS_TOKEN>"),
                401, {"WWW-Authenticate": 'Bearer realm="metrics"'})
    return Response(exposition(_registry), content_type=CONTENT_TYPE)


def _scraper() -> bool:
    """True when the request carries the configured metrics bearer token (constant-time compare)."""
    expected = get_settings().metrics_token
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                                                   expected.encode())


def _start() -> None:
    g.request_id = request_id(request.headers.get("X-Request-Id", ""))
    g.started = time.monotonic()
    g.log_token = push_fields(request_id=g.request_id)


def _finish(response: Response) -> Response:
    response.headers["X-Request-Id"] = g.get("request_id", "")
    rule = request.url_rule.rule if request.url_rule else None
    seconds = time.monotonic() - g.get("started", time.monotonic())
    if not g.get("redis_down"):  # when Redis does not answer, the 503 must not wait for it a second time
        metrics.record_request(rule or "(no route)", request.method, response.status_code, seconds=seconds)
    log_answer(request.method, rule, response.status_code, seconds=seconds, tenant=(request.view_args or {}).get("tenant_id"))
    return response


def _teardown(_exc) -> None:
    token = g.pop("log_token", None)
    if token is not None:
        pop_fields(token)


def install(app: Flask) -> None:
    """Register the ops routes and the per-request hooks (request id in, header out, one log line, counts)."""
    app.register_blueprint(bp)
    app.register_error_handler(redis.RedisError, redis_unavailable)  # 503 with the reason, within a second
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_teardown)
