"""Plain WSGI routes for the hottest paths (a host's webhook), in front of Flask; every other path goes to Flask.

A webhook is answered in well under a millisecond of our own work, and Flask's request context, routing, hooks
and response objects cost about as much again. A `PlainRoute` answers its one path with what Flask's hooks do
for every request — the request id in and out, the counts and latency (`config.infra.metrics`), one log line
(`webhooks.ops.log_answer`), 503 naming the cause when Redis fails — and no more. Its handler gets a
`PlainRequest` and returns an `Answer`; the answers' shapes are the ones Flask's routes give (`json_answer`,
`error`, `ignored`), and `to_flask` turns one into a Flask response, so a shape is written once.

An admit can count its own answer atomically with its writes (`PlainRequest.tally`): the counter and the
latency then cost no round trip of their own, and nothing is counted twice nor lost when the process dies.
"""
from __future__ import annotations

from typing import NamedTuple

import http
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import redis

from config.infra import metrics
from config.infra.logs import pop_fields, push_fields
from config.settings import get_settings
from config.tenants import KeyMismatch
from handlers.intake.ingest import Tally

log = logging.getLogger(__name__)
_access = logging.getLogger("webhooks.access")  # one line per request, Flask's routes and these alike
_common_log = logging.getLogger("webhooks.common")  # where the 503s have always been logged
JSON = "application/json"
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}\Z")
QUIET = {"/healthz", "/readyz", "/metrics"}  # probes and scrapes log at DEBUG
RETRY_AFTER_SECONDS = 10


@dataclass
class Answer:
    """An HTTP answer: status, body bytes, headers (Content-Type included)."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_answer(code: int, /, **fields) -> Answer:
    """A JSON body, serialized as Flask's `jsonify` does (sorted keys, compact, ASCII, a final newline)."""
    body = json.dumps(fields, sort_keys=True, separators=(",", ":")) + "\n"
    return Answer(code, body.encode(), [("Content-Type", JSON)])


def error(code: int, name: str, message: str, **more) -> Answer:
    """A JSON error an admin can act on: {error, message}."""
    return json_answer(code, error=name, message=message, **more)


def body_too_large() -> Answer:
    """413: the body is over INTERMISSION_MAX_WEBHOOK_BYTES (declared, or read from a chunked stream)."""
    return error(413, "body too large", f"the limit is {get_settings().max_webhook_bytes} bytes")


def ignored(reason: str) -> Answer:
    """204 with the reason in a header."""
    return Answer(204, b"", [("X-Intermission-Ignored", reason)])


def to_flask(answer: Answer):
    """The same answer as a Flask response (for the routes Flask serves)."""
    from flask import Response

    response = Response(answer.body, status=answer.status)
    for name, value in answer.headers:
        response.headers[name] = value
    return response


class Unavailable(NamedTuple):
    """The answer to give while Redis fails, and whether Redis is down (not merely slow)."""

    answer: Answer
    down: bool


def unavailable(exc: redis.RedisError) -> Unavailable:
    """(503 naming the cause, whether Redis is down) when Redis does not answer (or refuses): the host retries."""
    from config.infra.redis_conn import NotReplicated, describe

    down = isinstance(exc, (redis.ConnectionError, redis.TimeoutError))
    if isinstance(exc, NotReplicated):
        reason = f"not acknowledged by enough Redis replicas: {exc}"
    elif down:
        reason = f"Redis at {describe()} does not answer"
    else:
        reason = f"Redis at {describe()} refused the command ({type(exc).__name__})"
    _common_log.warning("answered 503: %s (%s)", reason, " ".join(str(exc).split())[:200])
    answer = error(503, "Service Unavailable", f"{reason}; retry later", reason=reason)
    answer.headers.append(("Retry-After", str(RETRY_AFTER_SECONDS)))
    return Unavailable(answer, down)


def request_id(given: str) -> str:
    """The caller's X-Request-Id when it is a sane one, else a new id."""
    return given if REQUEST_ID.match(given) else uuid.uuid4().hex


def log_answer(method: str, rule: str | None, status: int, *, seconds: float, tenant: str | None) -> None:
    """The one log line of a request: method, route template (never the path: it carries secrets), status, time."""
    level = logging.DEBUG if rule in QUIET else logging.INFO
    if _access.isEnabledFor(level):
        _access.log(level, "%s %s %s", method, rule or "(no route)", status,
                extra={"method": method, "route": rule, "status": status, "tenant": tenant,
                       "duration_ms": round(seconds * 1000, 1)})


class BodyTooLarge(Exception):
    """The body is over INTERMISSION_MAX_WEBHOOK_BYTES."""


class UnreadableBody(Exception):
    """The server could not read the body as framed (a malformed chunked encoding, a body cut short)."""


def is_unreadable_body(exc: BaseException) -> bool:
    """Whether `exc` is the server's complaint about the request's framing (gunicorn's parser, werkzeug's input)."""
    from werkzeug.exceptions import ClientDisconnected

    return isinstance(exc, (UnreadableBody, ClientDisconnected)) or type(exc).__module__.startswith("gunicorn.http")


def unreadable_body() -> Answer:
    """400: the body's framing is broken (never a 503 with a traceback that echoes the body's bytes)."""
    return error(400, "unreadable body", "the request body is not framed correctly (chunked encoding, length)")


class PlainRequest:
    """What a plain handler may read of a request: method, media type, body (read once, bounded)."""

    def __init__(self, environ: dict, route: str, started: float):
        self.environ, self.route, self.started = environ, route, started
        self.method = environ.get("REQUEST_METHOD", "GET")
        self.mimetype = (environ.get("CONTENT_TYPE") or "").split(";", 1)[0].strip().lower()
        self._body: bytes | None = None
        self.tallied: Tally | None = None
        self.statuses: dict[str, int] = {}

    def content_length(self) -> int | None:
        try:
            length = int(self.environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return None
        return max(length, 0)

    def too_large(self) -> bool:
        """True when the declared body is over the limit (checked before reading it)."""
        return (self.content_length() or 0) > get_settings().max_webhook_bytes

    def body(self) -> bytes:
        """The body (at most the limit; BodyTooLarge past it, for a chunked body that declared no length)."""
        if self._body is None:
            try:
                self._body = self._read()
            except Exception as exc:
                if is_unreadable_body(exc):
                    raise UnreadableBody(type(exc).__name__) from None  # its message may quote the body's bytes
                raise
        return self._body

    def _read(self) -> bytes:
        limit, length, stream = get_settings().max_webhook_bytes, self.content_length(), self.environ["wsgi.input"]
        if length is not None:
            return stream.read(min(length, limit)) if length else b""
        if self.environ.get("wsgi.input_terminated"):  # chunked: the server ends the stream
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise BodyTooLarge
            return body
        return b""

    def tally(self, statuses: dict[str, int]) -> Tally:
        """Counters for the admit to add to with its writes: each outcome's status (outcome → HTTP status)."""
        seconds = time.monotonic() - self.started
        fields = {outcome: metrics.request_fields(self.route, self.method, status, seconds=seconds)
                  for outcome, status in statuses.items()}
        first = next(iter(fields.values()))
        self.tallied = Tally(metrics.KEY, {o: f.counter for o, f in fields.items()}, first.hit, first.total, seconds)
        self.statuses = statuses
        return self.tallied


Handler = Callable[..., Answer]


def _other(route: PlainRoute, request: PlainRequest) -> Answer:
    """What Flask answers for another method on a route's path: OPTIONS lists the methods, the rest are 405."""
    allow = [("Allow", f"OPTIONS, {route.method}")]
    if request.method == "OPTIONS":
        return Answer(200, b"", allow)
    answer = error(405, "Method Not Allowed", "The method is not allowed for the requested URL.")
    answer.headers.extend(allow)
    return answer


@dataclass(frozen=True)
class PlainRoute:
    """`method prefix<a>/<b>` answered by `handler(request, a, b)`; `template` names the route in counts and logs."""

    method: str
    prefix: str
    template: str
    handler: Handler
    parts: int = 2

    def match(self, environ: dict) -> list[str] | None:
        """The path's parts when the path is this route's (whatever the method), else None."""
        path = environ.get("PATH_INFO", "")
        if not path.startswith(self.prefix):
            return None
        try:  # as werkzeug reads PATH_INFO (WSGI gives it as latin-1)
            path = path.encode("latin-1").decode("utf-8", "replace")
        except UnicodeEncodeError:
            return None
        parts = path[len(self.prefix):].split("/")
        return parts if len(parts) == self.parts and all(parts) else None


class PlainRoutes:
    """WSGI middleware: the plain routes answered here, every other request passed to `app` (Flask)."""

    def __init__(self, app, routes: list[PlainRoute]):
        self.app, self.routes = app, list(routes)

    def __call__(self, environ, start_response):
        for route in self.routes:
            parts = route.match(environ)
            if parts is not None:
                return self._serve(route, parts, environ, start_response)
        return self.app(environ, start_response)

    def _serve(self, route: PlainRoute, parts: list[str], environ, start_response):
        started = time.monotonic()
        rid = request_id(environ.get("HTTP_X_REQUEST_ID", ""))
        token = push_fields(request_id=rid)
        request = PlainRequest(environ, route.template, started)
        redis_down = False
        try:
            try:
                if request.method != route.method:
                    answer = _other(route, request)
                elif request.too_large():  # declared over the limit: refused before a byte of it is read
                    answer = body_too_large()
                else:
                    answer = route.handler(request, *parts)
            except BodyTooLarge:
                answer = body_too_large()
            except UnreadableBody as exc:
                log.info("unreadable request body: %s", exc)
                answer = unreadable_body()
            except redis.RedisError as exc:
                answer, redis_down = unavailable(exc)
            except KeyMismatch:  # logged once, naming the tenant and the fix (config.tenants.parse); /readyz says it
                answer = error(503, "Service Unavailable", "temporary failure, please retry")
                answer.headers.append(("Retry-After", "60"))
            except Exception:  # noqa: BLE001 - the same answer as Flask's last error handler
                log.exception("unexpected error")
                answer = error(503, "Service Unavailable", "temporary failure, please retry")
            seconds = time.monotonic() - started
            if not redis_down:  # when Redis does not answer, the 503 must not wait for it a second time
                self._count(request, answer, seconds)
            log_answer(request.method, route.template, answer.status, seconds=seconds, tenant=parts[0] if parts else None)
        finally:
            pop_fields(token)
        headers = [*answer.headers, ("X-Request-Id", rid)]
        if answer.status != 204:
            headers.append(("Content-Length", str(len(answer.body))))
        start_response(f"{answer.status} {http.HTTPStatus(answer.status).phrase}", headers)
        return [answer.body] if answer.status != 204 else []

    @staticmethod
    def _count(request: PlainRequest, answer: Answer, seconds: float) -> None:
        tally = request.tallied
        if tally is None or tally.outcome is None:  # the admit did not count it: counted here
            metrics.record_request(request.route, request.method, answer.status, seconds=seconds)
        elif request.statuses.get(tally.outcome) != answer.status:  # counted as its outcome, answered otherwise
            metrics.recount_request(request.route, request.statuses[tally.outcome], answer.status)
