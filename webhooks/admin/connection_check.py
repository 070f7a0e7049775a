"""The connection test in words: one call with the tenant's credentials, then the mapping checked against the host."""

from __future__ import annotations

from config.infra.redis_conn import get_redis
from config.infra.urls import BadHostUrl
from connectors.errors import HostAuthError, HostError, HostRateLimited, HostUnavailable
from handlers.hosts.registry import adapter_for, host_of
from webhooks.admin.host_pages import pages_for
from webhooks.admin.i18n import of, say


def check(tenant, lang: str) -> dict:
    """{'ok', 'message', 'mapping'}: what an admin reads after pressing "Test connection"."""
    pages = pages_for(tenant)
    words = {"host": host_of(tenant).label, "tenant": tenant.name or tenant.id, "of_tenant": of(tenant.name or tenant.id, lang)}
    try:
        adapter = adapter_for(tenant, get_redis())
        message = pages.test_call(tenant, adapter, lang)
    except HostAuthError:
        return {"ok": False, "message": say("test_auth", lang, **words), "mapping": None}
    except (HostUnavailable, HostRateLimited) as exc:
        return {"ok": False, "message": say("test_unreachable", lang, detail=short(exc), **words), "mapping": None}
    except HostError as exc:
        if isinstance(exc.__cause__, BadHostUrl):  # an address the credentials are never sent to: said in words
            return {"ok": False, "message": say("test_url_refused", lang, detail=exc.__cause__.say(lang)), "mapping": None}
        return {"ok": False, "message": say("test_refused", lang, detail=short(exc), **words), "mapping": None}
    except (ValueError, KeyError, AttributeError) as exc:
        return {"ok": False, "message": say("test_config", lang, detail=str(exc), **words), "mapping": None}
    return {"ok": True, "message": message, "mapping": _mapping(tenant, pages, adapter, lang)}


def _mapping(tenant, pages, adapter, lang: str) -> dict | None:
    """The host's check of the tenant's mapping (Boond: the dictionary; Salesforce: a query), in words."""
    try:
        checked = pages.check_mapping(tenant, adapter, lang)
    except HostError as exc:
        checked = [short(exc)], ""
    if checked is None:
        return None
    problems, detail = checked
    if problems:
        return {"ok": False, "message": say("test_mapping_ko", lang, detail="; ".join(problems))}
    return {"ok": True, "message": say("test_mapping_ok", lang, detail=detail)}


def short(exc: HostError) -> str:
    """A host error in a few words: its HTTP status and the start of its message."""
    status = f"HTTP {exc.status}" if exc.status else ""
    text = str(exc.args[0]) if exc.args else ""
    return " — ".join(x for x in (status, text[:200]) if x)
