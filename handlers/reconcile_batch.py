"""Reconciliation for hosts that write in batches (Salesforce sObject Collections: ≤ 200 records a call)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Protocol

from handlers.ledger import LedgerEntry
from handlers.model import DesiredAction
from handlers.reconcile import Op, Reconciler, _maybe_crash, await_in_flight, diff


@dataclass(frozen=True)
class WriteResult:
    """The host's answer for one record of a batch."""

    host_id: str | None = None
    ok: bool = True
    not_found: bool = False
    error: str | None = None


class BatchWriter(Protocol):
    """What a batching host adapter offers the reconciler; each method yields results chunk by chunk."""

    def create_many(self, mission_id: str, actions: list[DesiredAction]) -> Iterator[tuple[DesiredAction, WriteResult]]: ...
    def update_many(self, mission_id: str, pairs: list[tuple[str, DesiredAction]]) -> Iterator[tuple[str, WriteResult]]: ...
    def delete_many(self, host_ids: list[str]) -> Iterator[tuple[str, WriteResult]]: ...
    def find_marked(self, mission_id: str, target_type: str, target_id: str) -> dict[str, list[str]]: ...


class PartialFailure(RuntimeError):
    """Some records of a batch were refused; what succeeded is recorded, the job retries the rest."""


class BatchReconciler(Reconciler):
    """Same diff and ledger as the single-call reconciler, but one host call per chunk of records."""

    def run(self, desired: list[DesiredAction]) -> dict[str, int]:
        ops = diff(desired, self.ledger.entries())
        self.errors: list[str] = []
        lost = [op.action for op in ops if op.kind == "recover" and not self._adopted(op)]
        self._create_all([o.action for o in ops if o.kind == "create"] + lost)
        self._update_all([o for o in ops if o.kind == "update"])
        self._cancel_all([o for o in ops if o.kind == "cancel"])
        if self.errors:
            raise PartialFailure("; ".join(self.errors[:5]) + (f" (+{len(self.errors) - 5} more)" if len(self.errors) > 5 else ""))
        return self.counts

    def _create_all(self, actions: list[DesiredAction]) -> None:
        if not actions:
            return
        for action in actions:
            self.ledger.put(LedgerEntry.of(action, "intent"))
        for action, result in self.writer.create_many(self.mission_id, actions):
            if result.ok:
                self.counts["created"] += 1
                self._written("created", action, None, result.host_id)
            else:
                self.errors.append(f"{action.key}: {result.error}")
                self._log_failure("create", action.key, action.step_id, result.error or "")
        _maybe_crash()

    def _update_all(self, ops: list[Op]) -> None:
        by_host = {op.entry.host_id: op for op in ops}
        if not by_host:
            return
        for host_id, result in self.writer.update_many(self.mission_id, [(h, o.action) for h, o in by_host.items()]):
            op = by_host[host_id]
            if result.ok:
                self.counts["rescheduled"] += 1
                self._written("rescheduled", op.action, op.entry, host_id)
            elif result.not_found:
                self.ledger.put(op.entry.model_copy(update={"status": "dismissed"}))
                self._log("dismissed", op.action, op.entry)
            else:
                self.errors.append(f"{op.key}: {result.error}")
                self._log_failure("reschedule", op.key, op.action.step_id, result.error or "")

    def _cancel_all(self, ops: list[Op]) -> None:
        targets: dict[str, Op] = {}
        for op in ops:
            ids = [op.entry.host_id] if op.entry.host_id else self._read_back(op.entry).get(op.key, [])
            if op.entry.status == "dismissed" or not ids:
                self.ledger.drop(op.key)
                continue
            targets.update({host_id: op for host_id in ids})
        done: set[str] = set()
        for host_id, result in self.writer.delete_many(list(targets)) if targets else ():
            op = targets[host_id]
            if result.ok or result.not_found:
                if op.key not in done:
                    self.ledger.drop(op.key)
                    self.counts["cancelled"] += 1
                    self._log("cancelled", None, op.entry)
                    done.add(op.key)
            else:
                self.errors.append(f"{op.key}: {result.error}")
                self._log_failure("cancel", op.key, op.entry.step_id, result.error or "")

    def _adopted(self, op: Op) -> bool:
        """An unrecorded create: adopt what the host holds for this key (False: create it with the others)."""
        await_in_flight(op.entry)
        found = self._read_back(op.entry).get(op.key, [])
        if not found:
            return False
        extras = found[1:]
        if extras:
            list(self.writer.delete_many(extras))
        list(self.writer.update_many(self.mission_id, [(found[0], op.action)]))
        self.counts["recovered"] += 1
        self._written("recovered", op.action, op.entry, found[0])
        return True
