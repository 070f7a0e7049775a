"""Helpers shared by the /api blueprints: state access, paging, bodies, webhook publishing."""
from __future__ import annotations

from flask import current_app, g, request

from . import webhooks
from .envelope import document, invalid
from .state import SandboxState

DEFAULT_PAGE, MAX_PAGE = 30, 500


def sandbox() -> SandboxState:
    """The sandbox state of the running app."""
    return current_app.extensions["boond_sandbox"]


def debug_mode() -> bool:
    """True when the caller sent X-Debug-Boondmanager: true."""
    return request.headers.get("X-Debug-Boondmanager", "").strip().lower() == "true"


def _int_arg(name: str, default: int) -> int:
    """An integer query parameter, the default when missing or unreadable."""
    try:
        return int(request.args.get(name, default))
    except ValueError:
        return default


def paging(*, fallback_over: int | None = None, fixed: int | None = None) -> tuple[int, int]:
    """(page, maxResults): 1-based page, default 30, cap 500, optional silent fallback to 30; `fixed`: the page
    size whatever maxResults asks (observed /actions, §10)."""
    page, size = max(1, _int_arg("page", 1)), _int_arg("maxResults", DEFAULT_PAGE)
    if size < 1 or (fallback_over is not None and size > fallback_over):
        size = DEFAULT_PAGE
    return page, fixed or min(size, MAX_PAGE)


def paged_document(items: list, *, fallback_over: int | None = None, fixed: int | None = None):
    """One page of items with meta.totals.rows."""
    page, size = paging(fallback_over=fallback_over, fixed=fixed)
    return document(items[(page - 1) * size: page * size], rows=len(items))


def json_body() -> dict:
    """The request's JSON body, or the 422 for an unreadable one."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise invalid("data")
    return body


def publish(entity: str, entity_id: str, change: str) -> None:
    """Record and deliver the webhook event of a change made through the API."""
    events = webhooks.record_change(sandbox(), entity, entity_id, change, g.boond_identity.user_token)
    webhooks.publish(sandbox(), events)
