"""What every host's webhook endpoint shares: the tenant/secret check and the answers."""
from __future__ import annotations

from typing import NamedTuple

import hashlib
import hmac
import logging
from functools import lru_cache

import redis
from flask import Response, g, request

from config import tenants
from config.infra import crypto
from config.settings import get_settings
from webhooks import plain
from webhooks.plain import to_flask

_DUMMY_SECRET = "x" * 43
# The path-free form of a webhook (issue #30): `POST /webhooks/<host>/<tenant>` with the tenant's webhook secret in
# `Authorization: Bearer <secret>`, for the senders that can set a header (a Salesforce Flow's Named Credential). The
# path form `/webhooks/<host>/<tenant>/<secret>` stays for the hosts that can only take a URL (Boond's webhook
# settings, Salesforce Outbound Messages). nginx's error lines carry the request line, never this header.
SECRET_SCHEME = "Bearer"
log = logging.getLogger(__name__)


def too_large() -> bool:
    """True when the declared body is over the limit (checked before reading it)."""
    return (request.content_length or 0) > get_settings().max_webhook_bytes


# tenant id -> (SHA-1 of its stored record, the tenant): a process checks the secret against the tenant it read
# last, and the admit script checks atomically with its writes that the stored record is still that one (a saved
# tenant is encrypted anew, so any change, deletion included, changes the digest): one Redis round trip a webhook
_KNOWN: dict[str, tuple[str, tenants.Tenant]] = {}


class Known(NamedTuple):
    """A tenant whose webhook secret matched, and what the admit checks it is still: (its Redis key, its digest)."""

    tenant: tenants.Tenant
    check: tuple[str, str]


def authenticate_known(tenant_id: str, secret: str, host: str, *, fresh: bool = False) -> Known | None:
    """(tenant, (its Redis key, the digest the admit must find)) when the secret matches, else None.

    From the process's copy unless `fresh`; a refusal is always decided on a fresh read."""
    known = None if fresh else _KNOWN.get(tenant_id)
    if known is not None and known[1].host == host and hmac.compare_digest(secret.encode(),
                                                                            known[1].webhook_secret.encode()):
        return Known(known[1], (tenants._key(tenant_id), known[0]))
    _KNOWN.pop(tenant_id, None)
    if not tenants.TENANT_ID.match(tenant_id or ""):
        return authenticate(tenant_id, secret, host)  # None, with the same work as an unknown tenant
    from config.infra.redis_conn import get_redis

    blob = get_redis().get(tenants._key(tenant_id))
    tenant = tenants.parse(blob, tenant_id) if blob is not None else _as_costly_as_a_tenant(host)
    if tenant is not None:
        _KNOWN[tenant_id] = (hashlib.sha1(blob).hexdigest(), tenant)
    found = _checked(tenant, secret, host)
    return Known(found, (tenants._key(tenant_id), _KNOWN[tenant_id][0])) if found else None


@lru_cache(maxsize=8)
def _dummy_record(key_material: str, host: str) -> bytes:
    """A stored record the size of a real tenant's of this host, encrypted under the current keys."""
    from handlers.hosts.registry import HOSTS

    model = tenants.HOST_SETTINGS.get(host)
    known = HOSTS.get(host)
    filled = set(known.secret_fields if known else ()) | {n for n, f in (model.model_fields if model else {}).items()
                                                          if f.is_required()}
    settings = model.model_construct(**{name: "x" * 40 for name in filled}) if model else None
    dummy = tenants.Tenant(id="no-such-tenant", host=host if model else next(iter(tenants.HOST_SETTINGS)),
                           name="x" * 24, host_settings=settings)
    return crypto.encrypt(dummy.model_dump_json().encode())


def _as_costly_as_a_tenant(host: str) -> None:
    """Decrypt and parse a dummy record: an unknown tenant's refusal costs what a wrong secret's does (issue #30,
    the decrypt was a 90-170 µs tell of which tenant ids exist). Returns None, the unknown tenant."""
    try:
        tenants.Tenant.model_validate_json(crypto.decrypt(_dummy_record(get_settings().secret_keys or "", host)))
    except Exception:  # noqa: BLE001 - only the work matters
        pass
    return None


def forget_known(tenant_id: str) -> None:
    """Drop the process's copy of a tenant (the admit found the stored record changed)."""
    _KNOWN.pop(tenant_id, None)


def _checked(tenant: tenants.Tenant | None, secret: str, host: str) -> tenants.Tenant | None:
    ok_host = tenant is not None and tenant.host == host
    expected = tenant.webhook_secret if ok_host else _DUMMY_SECRET
    matches = hmac.compare_digest(secret.encode(), expected.encode())
    return tenant if matches and ok_host else None


def authenticate(tenant_id: str, secret: str, host: str) -> tenants.Tenant | None:
    """The tenant when the secret matches (constant time, same work for unknown tenants), else None."""
    return _checked(tenants.get(tenant_id) or _as_costly_as_a_tenant(host), secret, host)


def header_secret(authorization: str | None) -> str:
    """The webhook secret an `Authorization: Bearer <secret>` header carries, else "" (which matches no tenant: the
    same 404, after the same work, as a wrong secret)."""
    scheme, _, secret = (authorization or "").strip().partition(" ")
    return secret.strip() if scheme.lower() == SECRET_SCHEME.lower() else ""


def error(status: int, name: str, message: str):
    """A JSON error an admin can act on (Flask's side of `webhooks.plain.error`)."""
    return to_flask(plain.error(status, name, message))


NOT_FOUND = "unknown tenant or wrong secret: copy the URL from `intermission tenant show`"


def not_found_answer() -> plain.Answer:
    """The one answer for an unknown tenant and a wrong secret."""
    return plain.error(404, "not found", NOT_FOUND)


def not_found():
    """`not_found_answer` as a Flask response."""
    return to_flask(not_found_answer())


def ignored(reason: str) -> Response:
    """204 with the reason in a header."""
    return to_flask(plain.ignored(reason))


def redis_unavailable(exc: redis.RedisError):
    """`unavailable` as Flask's error handler."""
    from webhooks.people_errors import for_a_person, person_page

    answer, down = plain.unavailable(exc)
    g.redis_down = down  # the per-request metrics would wait on the same Redis: skipped for this answer
    if for_a_person():  # a person gets a page in their language, never the Redis address (issue #27)
        return person_page(503, "unavailable")
    return to_flask(answer)
