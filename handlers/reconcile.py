"""Reconciliation: compare the plan with the ledger and write only the difference, crash-safely."""
from __future__ import annotations

import logging
import os
import re
import signal
import time
from dataclasses import dataclass
from typing import Literal, Protocol

from connectors.errors import HostNotFound
from handlers.ledger import ActivityLog, Ledger, LedgerEntry
from handlers.model import DesiredAction

log = logging.getLogger(__name__)
MARKER = re.compile(r"intermission:([A-Za-z0-9_.-]+)/([A-Za-z0-9_.#-]+)")


def marker(mission_id: str, key: str) -> str:
    """The tag embedded in an action's text so a lost ledger write can be recovered by reading back."""
    return f"intermission:{mission_id}/{key}"


class ActionWriter(Protocol):
    """What a host adapter offers the reconciler."""

    def create(self, mission_id: str, action: DesiredAction) -> str: ...
    def update(self, host_id: str, mission_id: str, action: DesiredAction) -> None: ...
    def delete(self, host_id: str) -> None: ...
    def find_marked(self, mission_id: str, target_type: str, target_id: str) -> dict[str, list[str]]: ...


@dataclass(frozen=True)
class Op:
    """One difference between plan and ledger."""

    kind: Literal["create", "update", "cancel", "recover"]
    key: str
    action: DesiredAction | None = None
    entry: LedgerEntry | None = None


def diff(desired: list[DesiredAction], entries: dict[str, LedgerEntry]) -> list[Op]:
    """The operations that bring the ledger (and so the host) to the plan; pure."""
    ops: list[Op] = []
    wanted = {a.key: a for a in desired}
    for key, action in wanted.items():
        entry = entries.get(key)
        if entry is None:
            ops.append(Op("create", key, action))
        elif entry.status == "intent":
            ops.append(Op("recover", key, action, entry))
        elif entry.status == "written" and _changed(entry, action):
            ops.append(Op("update", key, action, entry))
    for key, entry in entries.items():
        if key not in wanted:
            ops.append(Op("cancel", key, None, entry))
    return ops


def _changed(entry: LedgerEntry, action: DesiredAction) -> bool:
    """Only a change of plan or wording moves an action; time passing never does (a past step stays put)."""
    return action.digest() != entry.content or entry.nominal_due != action.nominal_due


class Reconciler:
    """Applies ops for one tenant's mission through a host writer, recording intent first."""

    def __init__(self, ledger: Ledger, writer: ActionWriter, activity: ActivityLog, mission_id: str,
                 provenance: dict, *, host: str = ""):
        self.ledger, self.writer, self.activity = ledger, writer, activity
        self.mission_id, self.provenance, self.host = mission_id, provenance, host
        self.counts = {"created": 0, "rescheduled": 0, "cancelled": 0, "recovered": 0}

    def run(self, desired: list[DesiredAction]) -> dict[str, int]:
        """Reconcile and return how many actions were created, rescheduled, cancelled, recovered."""
        for op in diff(desired, self.ledger.entries()):
            getattr(self, f"_{op.kind}")(op)
        return self.counts

    def _create(self, op: Op) -> None:
        action = op.action
        self.ledger.put(LedgerEntry.of(action, "intent"))
        host_id = self.writer.create(self.mission_id, action)
        _maybe_crash()
        self.counts["created"] += 1
        self._written("created", action, None, host_id)

    def _update(self, op: Op) -> None:
        action, entry = op.action, op.entry
        try:
            self.writer.update(entry.host_id, self.mission_id, action)
        except HostNotFound:
            # someone deleted it in the host: respect that, never re-create it
            self.ledger.put(entry.model_copy(update={"status": "dismissed"}))
            self._log("dismissed", action, entry)
            return
        self.counts["rescheduled"] += 1
        self._written("rescheduled", action, entry, entry.host_id)

    def _recover(self, op: Op) -> None:
        """A create was attempted but not recorded: read back before creating again."""
        await_in_flight(op.entry)
        found = self._read_back(op.entry).get(op.key, [])
        if not found:
            self._create(op)
            return
        host_id, extras = found[0], found[1:]
        for extra in extras:
            self._delete_quietly(extra)
        self.writer.update(host_id, self.mission_id, op.action)
        self.counts["recovered"] += 1
        self._written("recovered", op.action, op.entry, host_id)

    def _cancel(self, op: Op) -> None:
        entry = op.entry
        host_ids = [entry.host_id] if entry.host_id else self._read_back(entry).get(op.key, [])
        if entry.status != "dismissed":
            for host_id in host_ids:
                self._delete_quietly(host_id)
            self.counts["cancelled"] += 1
            self._log("cancelled", None, entry)
        self.ledger.drop(op.key)

    def _read_back(self, entry: LedgerEntry) -> dict[str, list[str]]:
        return self.writer.find_marked(self.mission_id, entry.target_type, entry.target_id)

    def _delete_quietly(self, host_id: str) -> None:
        try:
            self.writer.delete(host_id)
        except HostNotFound:
            pass

    def _written(self, op: str, action: DesiredAction, entry: LedgerEntry | None, host_id: str) -> None:
        """The written ledger entry and its activity record, in one round trip to Redis."""
        pipe = self.ledger.conn.pipeline(transaction=False)
        self.ledger.put(LedgerEntry.of(action, "written", host_id), pipe=pipe)
        self._log(op, action, entry, pipe=pipe)
        pipe.execute()

    def _log(self, op: str, action: DesiredAction | None, entry: LedgerEntry | None, *, pipe=None) -> None:
        record = {"mission": self.mission_id, "op": op, "key": (action or entry).key,
                  "step": (action.step_id if action else entry.step_id),
                  "title": action.title if action else entry.title,
                  "due": str(action.due) if action else None,
                  "previous_due": str(entry.due) if entry else None,
                  "late": bool(action and action.late), **self.provenance}
        self.activity.add(record, pipe=pipe)
        log.info("host write %s %s/%s due %s", op, self.mission_id, record["key"], record["due"],
                 extra={"op": op, "host": self.host, "mission": self.mission_id, "step": record["step"],
                        "status": "not_found" if op == "dismissed" else "ok"})

    def _log_failure(self, op: str, key: str, step: str, error: str) -> None:
        """A host write the host refused (the job retries it)."""
        log.warning("host write %s %s/%s refused: %s", op, self.mission_id, key, error,
                    extra={"op": op, "host": self.host, "mission": self.mission_id, "step": step, "status": "error"})


def await_in_flight(entry: LedgerEntry) -> None:
    """Let a create sent by a worker that died reach the host before reading back (else it would be made twice).

    A single create call lasts at most the HTTP timeout; the host may finish it a little after our client gave
    up, hence the margin. Only the rare crash-recovery path ever waits here.
    """
    from config.settings import get_settings

    settings = get_settings()
    wait = entry.at + settings.http_timeout_seconds + settings.in_flight_margin_seconds - time.time()
    if entry.at and wait > 0:
        log.info("waiting %.1fs for a create in flight to land before reading back", wait)
        time.sleep(wait)


def _maybe_crash() -> None:
    """Fault injection for tests: SIGKILL this process after the N-th host create (never in production)."""
    from config.redis_conn import get_redis
    from config.settings import get_settings

    limit = get_settings().crash_after_host_write
    if limit and get_redis().incr("im:test:crash-counter") == int(limit):
        os.kill(os.getpid(), signal.SIGKILL)
