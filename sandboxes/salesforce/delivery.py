"""Trigger targets, the notification outbox, and synchronous delivery with retries until the right answer."""
from __future__ import annotations

import time

import requests

from .outbound import SOAP_HEADERS, flow_bytes, flow_payload, is_ack, soap_envelope, webhook_headers
from .state import SandboxState
from .values import soap_value

MAX_PER_MESSAGE = 100
EXCERPT = 300


def add_target(state: SandboxState, url: str, sobject: str, fields: list[str], mode: str,
               flow_secret: str | None, headers: dict | None = None) -> dict:
    """Register a trigger target (an Outbound Message or a Flow callout on one object)."""
    with state.lock:
        target = {"id": state.new_id("04k"), "url": url, "object": sobject, "fields": list(fields),
                  "mode": mode, "flow_secret": flow_secret, "headers": dict(headers or {})}
        state.targets.append(target)
        return dict(target)


def target_of(state: SandboxState, notification: dict) -> dict:
    """The target a notification is addressed to."""
    return next(t for t in state.targets if t["id"] == notification["target"])


def record_change(state: SandboxState, sobject: str, record_id: str, event: str) -> list[dict]:
    """One held notification per target watching that object."""
    created = []
    with state.lock:
        for target in state.targets:
            if target["object"] != sobject:
                continue
            note = {"id": state.serial_id("04l"), "event_id": state.event_id(), "target": target["id"],
                    "object": sobject, "record_id": record_id, "event": event, "state": "held", "attempts": 0}
            state.notifications.append(note)
            created.append(note)
    return created


def _soap_fields(state: SandboxState, target: dict, note: dict) -> dict:
    """sObject field texts at send time (latest data; a deleted record sends only its Id)."""
    rec = state.table(note["object"]).get(note["record_id"]) or {}
    if note["event"] == "deleted" or rec.get("IsDeleted") or not rec:
        return {"Id": note["record_id"]}
    names = ["Id"] + [f for f in target["fields"] if f != "Id"]
    return {n: None if rec.get(n) is None else soap_value(rec.get(n)) for n in names}


def build(state: SandboxState, target: dict, notes: list[dict], base: str) -> tuple[bytes, dict, object]:
    """(body bytes, headers, raw payload) of one message carrying these notifications."""
    with state.lock:
        if target["mode"] == "soap":
            items = [(n["id"], n["object"], _soap_fields(state, target, n)) for n in notes]
            xml = soap_envelope(base, target["id"], items)
            return xml.encode(), dict(SOAP_HEADERS), xml
        event_id = notes[0]["event_id"] if len(notes) == 1 else state.event_id()
        payload = flow_payload(target["object"], [n["record_id"] for n in notes], notes[0]["event"], event_id)
    body = flow_bytes(payload)
    return body, {**webhook_headers(target["flow_secret"], event_id, body), **target.get("headers", {})}, payload


def _post(state: SandboxState, target: dict, body: bytes, headers: dict) -> tuple[int | str, str, bool]:
    """POST once: (status or error name, body excerpt, accepted)."""
    try:
        resp = requests.post(target["url"], data=body, headers=headers, timeout=state.config.outbound_timeout,
                             allow_redirects=False)
    except requests.RequestException as exc:
        return f"error: {type(exc).__name__}", "", False
    accepted = is_ack(resp.status_code, resp.content) if target["mode"] == "soap" else resp.ok
    return resp.status_code, resp.text[:EXCERPT], accepted


def _log(state: SandboxState, target: dict, notes: list[dict], outcome: tuple, attempt: int,
         duplicate: bool = False) -> None:
    """Record one delivery attempt."""
    status, excerpt, accepted = outcome
    with state.lock:
        state.outbound_log.append({"url": target["url"], "mode": target["mode"],
                                   "notification_ids": [n["id"] for n in notes], "status": status,
                                   "acked": accepted, "attempt": attempt, "duplicate": duplicate,
                                   "body_excerpt": excerpt, "at": time.time()})


def send(state: SandboxState, target: dict, notes: list[dict], base: str, *, retry: bool = True) -> dict:
    """Send one message, retrying per outbound_retry_delays until accepted; leaves failures pending."""
    body, headers, _ = build(state, target, notes, base)
    delays = [None] + (list(state.config.outbound_retry_delays) if retry else [])
    attempts, outcome = 0, ("", "", False)
    for delay in delays:
        if delay:
            time.sleep(delay)
        attempts += 1
        outcome = _post(state, target, body, headers)
        _log(state, target, notes, outcome, attempts)
        if outcome[2]:
            break
    _settle(state, notes, attempts, outcome[2])
    if outcome[2] and _roll(state, state.config.duplicate_rate):
        _log(state, target, notes, _post(state, target, body, headers), attempts + 1, duplicate=True)
    return {"url": target["url"], "status": outcome[0], "acked": outcome[2], "attempts": attempts,
            "notification_ids": [n["id"] for n in notes]}


def _settle(state: SandboxState, notes: list[dict], attempts: int, accepted: bool) -> None:
    """Mark notifications acked, or pending for a later flush."""
    with state.lock:
        for note in notes:
            note["attempts"] += attempts
            note["state"] = "acked" if accepted else "pending"


def _roll(state: SandboxState, rate: float) -> bool:
    """True with probability `rate` (seeded RNG)."""
    with state.lock:
        return rate > 0 and state.rng.random() < rate


def _ordered(state: SandboxState, notes: list[dict]) -> list[dict]:
    """Notifications in outbox order, or shuffled when config.shuffle is on."""
    notes = list(notes)
    if state.config.shuffle:
        with state.lock:
            state.rng.shuffle(notes)
    return notes


def deliver_each(state: SandboxState, notes: list[dict], base: str) -> list[dict]:
    """Send each notification in its own message (with retries)."""
    return [send(state, target_of(state, n), [n], base) for n in notes]


def flush(state: SandboxState, base: str) -> list[dict]:
    """One more attempt for every pending notification, each in its own message."""
    with state.lock:
        pending = [n for n in state.notifications if n["state"] == "pending"]
    return [send(state, target_of(state, n), [n], base, retry=False) for n in _ordered(state, pending)]


def batch(state: SandboxState, base: str) -> list[dict]:
    """Send every held notification, grouped per target (and per event for Flow), ≤ 100 per message."""
    with state.lock:
        held = [n for n in state.notifications if n["state"] == "held"]
    groups: dict[tuple, list[dict]] = {}
    for note in _ordered(state, held):
        target = target_of(state, note)
        key = (target["id"], note["event"] if target["mode"] == "flow" else "")
        groups.setdefault(key, []).append(note)
    results = []
    for (target_id, _), notes in groups.items():
        target = next(t for t in state.targets if t["id"] == target_id)
        for start in range(0, len(notes), MAX_PER_MESSAGE):
            results.append(send(state, target, notes[start:start + MAX_PER_MESSAGE], base))
    return results


def preview(state: SandboxState, note: dict, base: str):
    """The raw payload a notification's own message carries now (XML text or Flow JSON)."""
    return build(state, target_of(state, note), [note], base)[2]
