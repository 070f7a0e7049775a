"""Webhook registrations, the event outbox and synchronous delivery (references only, like Boond)."""
from __future__ import annotations

import requests

from .state import CLIENT_TOKEN, SandboxState


def register(state: SandboxState, url: str, events: list[str] | None) -> dict:
    """Register a target URL; `events` lists entities (None = every entity)."""
    with state.lock:
        hook = {"id": state.next_id("webhook"), "url": url,
                "events": sorted(set(events)) if events else None}
        state.webhooks.append(hook)
        return dict(hook)


def _wants(hook: dict, entity: str, change: str | None = None) -> bool:
    """True when a webhook is subscribed to an entity (and, for API-registered ones, to that change)."""
    if hook.get("changes") is not None and change is not None:
        return [change, entity] in hook["changes"]
    return hook["events"] is None or entity in hook["events"]


def _payload(event_id: str, hook_id: str | None, entity: str, entity_id: str,
             change: str, user_token: str, log_id: str) -> dict:
    """The webhookevent document: ids and tokens only, never dates."""
    webhook = {"data": {"id": hook_id, "type": "webhook"}} if hook_id else {"data": None}
    return {"data": {
        "id": event_id, "type": "webhookevent",
        "attributes": {"userToken": user_token, "clientToken": CLIENT_TOKEN, "type": change},
        "relationships": {
            "webhook": webhook,
            "dependsOn": {"data": {"id": str(entity_id), "type": entity}},
            "log": {"data": {"id": log_id, "type": "log"}},
        },
    }}


def record_change(state: SandboxState, entity: str, entity_id: str, change: str,
                  user_token: str) -> list[dict]:
    """Append one event per subscribed webhook (one unaddressed event if none) to the outbox."""
    with state.lock:
        log_id = state.next_id("log")
        hooks = [h for h in state.webhooks if _wants(h, entity, change)] or [None]
        created = []
        for hook in hooks:
            payload = _payload(state.next_id("event"), hook and hook["id"], entity, entity_id,
                               change, user_token, log_id)
            event = {"payload": payload, "entity": entity, "url": hook and hook["url"],
                     "deliveries": []}
            state.events.append(event)
            created.append(event)
        return created


def post_event(url: str, payload: dict, timeout: float) -> int | str:
    """POST one event; the HTTP status, or the error's class name."""
    try:
        resp = requests.post(url, json=payload, timeout=timeout,
                             headers={"User-Agent": "boond-sandbox-webhook"})
    except requests.RequestException as exc:
        return f"error: {type(exc).__name__}"
    return resp.status_code


def deliver(state: SandboxState, events: list[dict]) -> list[dict]:
    """Send events to their URLs now (never while holding the lock); no retries."""
    results = []
    timeout = state.config.webhook_timeout
    for event in events:
        if not event["url"]:
            continue
        status = post_event(event["url"], event["payload"], timeout)
        result = {"event": event["payload"]["data"]["id"], "url": event["url"], "status": status}
        with state.lock:
            event["deliveries"].append(result)
        results.append(result)
    return results


def publish(state: SandboxState, events: list[dict], *, send: bool = True) -> list[dict]:
    """Deliver events unless sending is disabled by the caller or the config."""
    if not send or not state.config.deliver_webhooks:
        return []
    return deliver(state, events)


def find_event(state: SandboxState, event_id: str) -> dict | None:
    """An outbox event by its id."""
    with state.lock:
        return next((e for e in state.events if e["payload"]["data"]["id"] == event_id), None)
