"""What every host's webhook endpoint shares: the tenant/secret check and the answers."""
from __future__ import annotations

import hmac
import logging
from functools import lru_cache

import redis
from flask import Response, g, jsonify, request

from config import metrics, tenants
from config.redis_conn import get_redis
from config.settings import get_settings

log = logging.getLogger(__name__)
_DUMMY_SECRET = "x" * 43
WEBHOOKS = "intermission_webhooks"  # the counter of webhook requests answered, by host and HTTP status


def too_large() -> bool:
    """True when the declared body is over the limit (checked before reading it)."""
    return (request.content_length or 0) > get_settings().max_webhook_bytes


def authenticate(tenant_id: str, secret: str, host: str) -> tenants.Tenant | None:
    """The tenant when the secret matches (constant time, same work for unknown tenants), else None."""
    tenant = tenants.get(tenant_id)
    ok_host = tenant is not None and tenant.host == host
    expected = tenant.webhook_secret if ok_host else _DUMMY_SECRET
    matches = hmac.compare_digest(secret.encode(), expected.encode())
    return tenant if matches and ok_host else None


def error(status: int, name: str, message: str):
    """A JSON error an admin can act on."""
    return jsonify(error=name, message=message), status


def not_found():
    """The one answer for an unknown tenant and a wrong secret."""
    return error(404, "not found", "unknown tenant or wrong secret: copy the URL from `intermission tenant show`")


def ignored(reason: str) -> Response:
    """204 with the reason in a header."""
    response = Response(status=204)
    response.headers["X-Intermission-Ignored"] = reason
    return response


@lru_cache(maxsize=64)
def _counter_field(host: str, status: int) -> str:
    return metrics.field(WEBHOOKS, {"host": host, "status": str(status)})


class Count:
    """This request's `intermission_webhooks` count, added by the admit script in its own round trip."""

    # the request is then counted in the same EVALSHA as its change, not by one more HINCRBY after the view
    # (webhooks.ops); with INTERMISSION_REDIS_WAIT_REPLICAS the WAIT that follows the script may still turn the
    # answer into a 503, so the request is counted after the view, as before

    def __init__(self, host: str, statuses: dict[str, int]):
        self.host, self.statuses = host, statuses
        waits = get_settings().redis_wait_replicas > 0
        self.fields = None if waits else {o: _counter_field(host, s) for o, s in statuses.items()}

    def record(self, outcome: str) -> str:
        """Note the status the script counted for this outcome (read by `count_answer`); returns the outcome."""
        if self.fields is not None:
            g.webhook_counted = (self.host, self.statuses[outcome])
        return outcome


def count_answer(host: str, status: int) -> None:
    """Count a webhook answer once: after the view, unless the admit script already counted this very status."""
    counted = g.pop("webhook_counted", None)
    if counted == (host, status):
        return
    if counted is not None:  # answered otherwise than the script counted (an error after it): move its count
        try:
            get_redis().hincrby(metrics.KEY, _counter_field(*counted), -1)
        except redis.RedisError as exc:
            log.warning("metric %s not corrected: %s", WEBHOOKS, exc)
    metrics.incr(WEBHOOKS, {"host": host, "status": str(status)})
