"""The connection test in words: one call with the tenant's credentials, then the mapping checked against the host."""
from __future__ import annotations

from config.redis_conn import get_redis
from connectors.errors import HostAuthError, HostError, HostRateLimited, HostUnavailable
from webhooks.admin.i18n import of, say

HOSTS = {"boond": "Boond", "salesforce": "Salesforce"}


def check(tenant, lang: str) -> dict:
    """{'ok', 'message', 'mapping'}: what an admin reads after pressing "Test connection"."""
    host = HOSTS.get(tenant.host, tenant.host)
    words = {"host": host, "tenant": tenant.name or tenant.id, "of_tenant": of(tenant.name or tenant.id, lang)}
    try:
        from handlers.hosts.registry import adapter_for

        adapter = adapter_for(tenant, get_redis())
        if tenant.host == "boond":
            who = adapter.client.current_user().get("data", {}).get("attributes", {})
            name = f"{who.get('firstName', '')} {who.get('lastName', '')}".strip() or "?"
            message = say("test_ok_boond", lang, who=name)
        else:
            adapter.client.query_all("SELECT Id FROM User LIMIT 1")
            message = say("test_ok_salesforce", lang, usage=adapter.client.api_usage or "—")
    except HostAuthError:
        return {"ok": False, "message": say("test_auth", lang, **words), "mapping": None}
    except (HostUnavailable, HostRateLimited) as exc:
        return {"ok": False, "message": say("test_unreachable", lang, detail=_short(exc), **words), "mapping": None}
    except HostError as exc:
        return {"ok": False, "message": say("test_refused", lang, detail=_short(exc), **words), "mapping": None}
    except (ValueError, KeyError, AttributeError) as exc:
        return {"ok": False, "message": say("test_config", lang, detail=str(exc), **words), "mapping": None}
    return {"ok": True, "message": message, "mapping": _mapping(tenant, adapter, lang)}


def _mapping(tenant, adapter, lang: str) -> dict:
    """Boond: every mapped action type is in the dictionary; Salesforce: the mapped object and fields answer a query."""
    try:
        problems, detail = (_boond(tenant, adapter, lang) if tenant.host == "boond" else _salesforce(tenant, adapter, lang))
    except HostError as exc:
        problems, detail = [_short(exc)], ""
    if problems:
        return {"ok": False, "message": say("test_mapping_ko", lang, detail="; ".join(problems))}
    return {"ok": True, "message": say("test_mapping_ok", lang, detail=detail)}


def _boond(tenant, adapter, lang: str) -> tuple[list[str], str]:
    setting = (adapter.client.dictionary().get("data") or {}).get("setting") or {}
    actions = setting.get("action") or {}
    known = {entity: {str(t.get("id")) for t in types or []} for entity, types in actions.items()}
    wanted = [("resource", kind, v) for kind, v in tenant.boond.action_types.items()]
    wanted += [("contact", kind, v) for kind, v in tenant.boond.contact_action_types.items()]
    wanted += [("resource", "done", v) for v in tenant.boond.done_action_types]
    bad = [f"{kind} → {value}" for entity, kind, value in wanted if str(value) not in known.get(entity, set())]
    missing = ("le type d'action {v} n'existe pas dans le dictionnaire Boond" if lang == "fr"
               else "action type {v} is not in Boond's dictionary")
    done = (f"{len(wanted)} type(s) d'action trouvés dans le dictionnaire" if lang == "fr"
            else f"{len(wanted)} action type(s) found in the dictionary")
    if not wanted:
        done = ("types d'action détectés depuis le dictionnaire" if lang == "fr"
                else "action types detected from the dictionary")
    return [missing.format(v=b) for b in bad], done


def _salesforce(tenant, adapter, lang: str) -> tuple[list[str], str]:
    mapping = tenant.salesforce.mapping
    try:
        adapter.client.query_all(f"SELECT {', '.join(mapping.fields())} FROM {mapping.object} LIMIT 1")
    except HostError as exc:
        return [_short(exc)], ""
    fields = len(mapping.fields()) - 1
    return [], (f"{mapping.object} et ses {fields} champs répondent" if lang == "fr"
                else f"{mapping.object} and its {fields} fields answer")


def _short(exc: HostError) -> str:
    status = f"HTTP {exc.status}" if exc.status else ""
    text = str(exc.args[0]) if exc.args else ""
    return " — ".join(x for x in (status, text[:200]) if x)
