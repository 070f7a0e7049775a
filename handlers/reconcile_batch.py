"""Reconciliation for hosts that write in batches (Salesforce sObject Collections: ≤ 200 records a call)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Protocol

from handlers.model import DesiredAction
from handlers.reconcile import Op, Reconciler, await_in_flight


@dataclass(frozen=True)
class WriteResult:
    """The host's answer for one record of a batch."""

    host_id: str | None = None
    ok: bool = True
    not_found: bool = False
    error: str | None = None


class BatchWriter(Protocol):
    """What a batching host adapter offers the reconcilers; results come call by call."""

    def write_all(self, creates: list[tuple[str, DesiredAction]], updates: list[tuple[str, str, DesiredAction]],
                  deletes: list[str]) -> Iterator[tuple[str, int, WriteResult]]: ...
    def update_many(self, mission_id: str, pairs: list[tuple[str, DesiredAction]]) -> Iterator[tuple[str, WriteResult]]: ...
    def delete_many(self, host_ids: list[str]) -> Iterator[tuple[str, WriteResult]]: ...
    def find_marked(self, mission_id: str, target_type: str, target_id: str) -> dict[str, list[str]]: ...


class PartialFailure(RuntimeError):
    """Some records of a batch were refused; what succeeded is recorded, the job retries the rest."""


class BatchReconciler(Reconciler):
    """Same diff and ledger as the single-call reconciler, but one host call per chunk of records."""

    def run(self, desired: list[DesiredAction]) -> dict[str, int]:
        """Reconcile one mission as a round of its own (the writes of several missions share one: MultiReconciler)."""
        from handlers.reconcile_multi import MissionWork, MultiReconciler

        MultiReconciler([MissionWork(run=self, desired=desired)], self.writer).run()
        return self.counts

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
