"""What happens around every /api call: faults, rate limit, auth, call log, and dropped connections."""
from __future__ import annotations

import re
import socket

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from .auth import authenticate, rate_key
from .dialect import REFUSED_ROUTES
from .actions import MISSING_PARENT
from .envelope import BoondError, invalid
from .schemas import body_schema_name, load_spec, refusals
from .faults import apply_slow, check_rate_limit, fault_error, take_fault
from .state import SandboxState

DROP_FLAG = "boond_sandbox.drop"
SELF_AUTHENTICATED = {"/api/marketplace/refresh-token"}


def _state() -> SandboxState:
    """The sandbox state of the running app."""
    return current_app.extensions["boond_sandbox"]


def is_api() -> bool:
    """True for requests under /api."""
    return request.path == "/api" or request.path.startswith("/api/")


def _inject_fault():
    """Apply the next queued fault matching this request; a response when it answers for it."""
    fault = take_fault(_state(), request.method, request.path)
    if fault is None:
        return None
    g.boond_fault = fault.kind
    if fault.kind == "drop" and fault.when == "after":
        request.environ[DROP_FLAG] = "after"
        return None
    if fault.kind == "drop":
        request.environ[DROP_FLAG] = "before"
        return Response(status=599)
    apply_slow(fault)
    error = fault_error(fault)
    return error.response() if error else None


def guard():
    """before_request: PATCH is 405 everywhere; on /api, faults, then the rate limit, then auth."""
    if request.method == "PATCH":
        raise BoondError(405, "Method not allowed")
    if not is_api():
        return None
    injected = _inject_fault()
    if injected is not None:
        return injected
    limited = check_rate_limit(_state(), rate_key(request.headers, request.remote_addr))
    if limited is not None:
        return limited.response()
    if request.routing_exception is not None:
        return None  # Flask raises the 404/405 next; the error handlers shape it.
    if _state().config.dialect == "observed" and request.url_rule.rule in REFUSED_ROUTES:
        g.boond_identity = authenticate(request.headers, _state())
        raise BoondError(404, "Not found", logged=True)  # §10: optional tabs and searches a tenant lacks
    if request.path in SELF_AUTHENTICATED:
        return None  # checks its own header (x-JWT-App-Refresh)
    g.boond_identity = authenticate(request.headers, _state())
    if _state().config.schema_path and request.method in ("POST", "PUT"):
        _check_schema(_state().config.schema_path)
    return None


def _check_schema(path: str) -> None:
    """Boond's 422 for a body its published schema refuses (unknown attributes, lengths, id patterns, required)."""
    spec = load_spec(path)
    route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", request.url_rule.rule.removeprefix("/api"))
    name = body_schema_name(spec, request.method, route)
    if name is None:
        return
    found = refusals(spec, name, request.get_json(silent=True))
    if not found:
        return
    pointer, keyword, message = found[0]
    if keyword == "required":
        missing = message.split("'")[1] if "'" in message else ""
        where = f"{pointer.rstrip('/')}/{missing}"
        if where.endswith("/relationships/dependsOn") or where == "/data/relationships":
            raise BoondError(422, MISSING_PARENT, code="2303", logged=True)
        raise invalid(where, code="1017")
    if keyword == "additionalProperties" and "'" in message:
        pointer = f"{pointer.rstrip('/')}/{message.split(chr(39))[1]}"
    raise invalid(pointer)


def record_call(response: Response) -> Response:
    """after_request: log method, route template and status of every /api call."""
    if is_api():
        rule = request.url_rule.rule if request.url_rule is not None else request.path
        status = "dropped" if request.environ.get(DROP_FLAG) else str(response.status_code)
        with _state().lock:
            _state().calls.append((request.method, rule, status))
    return response


def boond_error(error: BoondError) -> Response:
    """Shape a BoondError; the caller counts as logged in once authenticated."""
    if getattr(g, "boond_identity", None) is not None:
        error.logged = True
    return error.response()


def http_error(error: HTTPException) -> Response:
    """404/405 and other HTTP errors in Boond's envelope."""
    logged = error.code == 404 and getattr(g, "boond_identity", None) is not None
    detail = {404: "Not found", 405: "Method not allowed"}.get(error.code, error.name)
    return BoondError(error.code or 500, detail, logged=logged).response()


def unexpected_error(error: Exception) -> Response:
    """Any other exception: a Boond-shaped 500."""
    current_app.logger.exception("sandbox error", exc_info=error)
    return BoondError(500, "Internal server error").response()


class DropConnections:
    """WSGI middleware: close the socket without answering when a `drop` fault fired."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        """Run the app; for a dropped call, shut the socket and abort before any byte is sent."""
        result = self.wsgi_app(environ, start_response)
        if not environ.get(DROP_FLAG):
            return result
        if hasattr(result, "close"):
            result.close()
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise ConnectionAbortedError("boond sandbox: injected dropped connection")


def install(app: Flask) -> None:
    """Wire the pipeline into an app."""
    app.before_request(guard)
    app.after_request(record_call)
    app.register_error_handler(BoondError, boond_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)
    app.wsgi_app = DropConnections(app.wsgi_app)
