"""Around every /services call: faults, bearer auth, the daily API limit, Sforce-Limit-Info, call log, drops."""
from __future__ import annotations

import socket
import time

from flask import Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from .errors import OAuthError, SfError, invalid_session, not_found
from .faults import apply_slow, fault_error, take_fault
from .state import API_PREFIX, SandboxState

DROP_FLAG = "salesforce_sandbox.drop"
DATA_ROOT = "/services/data"


def _state() -> SandboxState:
    """The sandbox state of the running app."""
    return current_app.extensions["salesforce_sandbox"]


def is_services() -> bool:
    """True for requests under /services (REST and OAuth)."""
    return request.path.startswith("/services/")


def is_data() -> bool:
    """True for requests under /services/data (they carry Sforce-Limit-Info)."""
    return request.path == DATA_ROOT or request.path.startswith(DATA_ROOT + "/")


def needs_session() -> bool:
    """True for REST calls that need a bearer token and count against the API limit."""
    return is_data() and request.path.rstrip("/") != DATA_ROOT


def bearer_token() -> str | None:
    """The token of `Authorization: Bearer …` (or the older `OAuth …`)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() in ("bearer", "oauth") else None


def session_user(state: SandboxState, token: str | None) -> str | None:
    """The user id behind a live access token, or None."""
    with state.lock:
        info = state.access_tokens.get(token or "")
        if info is None or info["revoked"] or info["expires_at"] <= time.time():
            return None
        return info["user"]


def _inject_fault():
    """Apply the next queued fault matching this request; a response when it answers for it."""
    fault = take_fault(_state(), request.method, request.path)
    if fault is None:
        return None
    g.sf_fault = fault.kind
    if fault.kind == "drop":
        request.environ[DROP_FLAG] = fault.when
        return None if fault.when == "after" else Response(status=599)
    apply_slow(fault)
    error = fault_error(fault)
    return error.response() if error else None


def _check_limit(state: SandboxState) -> None:
    """403 REQUEST_LIMIT_EXCEEDED once the daily allocation is spent; otherwise count this call."""
    with state.lock:
        if state.api_used >= state.config.daily_api_limit:
            raise SfError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        state.api_used += 1


def guard():
    """before_request: on /services, queued faults; on REST, then the session, then the API limit."""
    if not is_services():
        return None
    injected = _inject_fault()
    if injected is not None or not needs_session():
        return injected
    g.sf_user = session_user(_state(), bearer_token())
    if g.sf_user is None:
        raise invalid_session()
    _check_limit(_state())
    return None


def finish(response: Response) -> Response:
    """after_request: Sforce-Limit-Info on /services/data answers, and the REST call log."""
    if not is_data():
        return response
    state = _state()
    with state.lock:
        response.headers["Sforce-Limit-Info"] = f"api-usage={state.api_used}/{state.config.daily_api_limit}"
        rule = request.url_rule.rule if request.url_rule is not None else request.path
        rule = rule[len(API_PREFIX):] if rule.startswith(API_PREFIX) else rule
        status = "dropped" if request.environ.get(DROP_FLAG) else str(response.status_code)
        state.calls.append((request.method, rule or "/", status))
    return response


def sf_error(error: SfError) -> Response:
    """Shape a REST error array."""
    return error.response()


def oauth_error(error: OAuthError) -> Response:
    """Shape an OAuth error."""
    return error.response()


def http_error(error: HTTPException):
    """404/405 under /services/data in Salesforce's shape; elsewhere a small JSON error."""
    if not is_data():
        return jsonify({"error": error.name}), error.code or 500
    if error.code == 405:
        allowed = ",".join(sorted(m for m in (error.valid_methods or []) if m not in ("HEAD", "OPTIONS")))
        return SfError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed. "
                       f"Allowed are {allowed}").response()
    if error.code == 404:
        return not_found().response()
    return SfError(error.code or 500, "UNKNOWN_EXCEPTION", error.description or error.name).response()


def unexpected_error(error: Exception) -> Response:
    """Any other exception: a Salesforce-shaped 500 (logged)."""
    current_app.logger.exception("sandbox error", exc_info=error)
    return SfError(500, "UNKNOWN_EXCEPTION", f"An unexpected error occurred: {type(error).__name__}").response()


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
        raise ConnectionAbortedError("salesforce sandbox: injected dropped connection")


def install(app: Flask) -> None:
    """Wire the pipeline into an app."""
    app.before_request(guard)
    app.after_request(finish)
    app.register_error_handler(SfError, sf_error)
    app.register_error_handler(OAuthError, oauth_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)
    app.wsgi_app = DropConnections(app.wsgi_app)
