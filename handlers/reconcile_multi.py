"""Reconciling many missions of one tenant together: their writes share the host's composite calls."""
from __future__ import annotations

from dataclasses import dataclass, field

from handlers.ledger import LedgerEntry
from handlers.model import DesiredAction
from handlers.reconcile import Op, _maybe_crash, diff
from handlers.reconcile_batch import BatchReconciler, BatchWriter, PartialFailure, WriteResult


@dataclass
class MissionWork:
    """One mission's share of a batch: its reconciler (ledger, log, counts) and what it should hold."""

    run: BatchReconciler
    desired: list[DesiredAction]
    ops: list[Op] = field(default_factory=list)


class MultiReconciler:
    """Diffs every mission, then sends all creates, updates and deletes together (composite calls of the writer)."""

    def __init__(self, works: list[MissionWork], writer: BatchWriter):
        self.works, self.writer = works, writer

    def run(self) -> None:
        """Reconcile them all; raise PartialFailure (after recording every success) if the host refused some."""
        creates: list[tuple[MissionWork, DesiredAction]] = []
        for work in self.works:
            work.run.errors = []
            work.ops = diff(work.desired, work.run.ledger.entries())
            lost = [op.action for op in work.ops if op.kind == "recover" and not work.run._adopted(op)]
            creates += [(work, a) for a in [o.action for o in work.ops if o.kind == "create"] + lost]
        self._write(creates, [(w, o) for w in self.works for o in w.ops if o.kind == "update"],
                    [(w, o) for w in self.works for o in w.ops if o.kind == "cancel"])
        errors = [e for w in self.works for e in w.run.errors]
        if errors:
            raise PartialFailure("; ".join(errors[:5]) + (f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""))

    def _write(self, creates: list[tuple[MissionWork, DesiredAction]], updates: list[tuple[MissionWork, Op]],
               cancels: list[tuple[MissionWork, Op]]) -> None:
        """Intents and cancel targets first; then one round of host writes, each record's result on its own."""
        for work, action in creates:
            work.run.ledger.put(LedgerEntry.of(action, "intent"))
        by_host = {op.entry.host_id: (work, op) for work, op in updates}
        targets = self._targets(cancels)
        if not (creates or by_host or targets):
            return
        pairs = [(w.run.mission_id, a) for w, a in creates]
        triples = [(h, w.run.mission_id, o.action) for h, (w, o) in by_host.items()]
        doomed, done = list(targets), set()
        for kind, index, result in self.writer.write_all(pairs, triples, doomed):
            if kind == "create":
                self._created(*creates[index], result)
            elif kind == "update":
                self._updated(triples[index][0], *by_host[triples[index][0]], result)
            else:
                self._cancelled(*targets[doomed[index]], result, done)
        if creates:
            _maybe_crash()

    @staticmethod
    def _created(work: MissionWork, action: DesiredAction, result: WriteResult) -> None:
        run = work.run
        if result.ok:
            run.counts["created"] += 1
            run._written("created", action, None, result.host_id)
        else:
            run.errors.append(f"{run.mission_id}/{action.key}: {result.error}")
            run._log_failure("create", action.key, action.step_id, result.error or "")

    @staticmethod
    def _updated(host_id: str, work: MissionWork, op: Op, result: WriteResult) -> None:
        run = work.run
        if result.ok:
            run.counts["rescheduled"] += 1
            run._written("rescheduled", op.action, op.entry, host_id)
        elif result.not_found:
            run.ledger.put(op.entry.model_copy(update={"status": "dismissed"}))
            run._log("dismissed", op.action, op.entry)
        else:
            run.errors.append(f"{run.mission_id}/{op.key}: {result.error}")
            run._log_failure("reschedule", op.key, op.action.step_id, result.error or "")

    @staticmethod
    def _targets(items: list[tuple[MissionWork, Op]]) -> dict[str, tuple[MissionWork, Op]]:
        """The Tasks to delete (an entry without a host id is read back by its marker); the rest dropped at once."""
        targets: dict[str, tuple[MissionWork, Op]] = {}
        for work, op in items:
            ids = [op.entry.host_id] if op.entry.host_id else work.run._read_back(op.entry).get(op.key, [])
            if op.entry.status == "dismissed" or not ids:
                work.run.ledger.drop(op.key)
                continue
            targets.update({host_id: (work, op) for host_id in ids})
        return targets

    @staticmethod
    def _cancelled(work: MissionWork, op: Op, result: WriteResult, done: set[tuple[str, str]]) -> None:
        run = work.run
        if result.ok or result.not_found:
            if (run.mission_id, op.key) not in done:
                run.ledger.drop(op.key)
                run.counts["cancelled"] += 1
                run._log("cancelled", None, op.entry)
                done.add((run.mission_id, op.key))
        else:
            run.errors.append(f"{run.mission_id}/{op.key}: {result.error}")
            run._log_failure("cancel", op.key, op.entry.step_id, result.error or "")
