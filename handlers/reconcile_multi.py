"""Reconciling many missions of one tenant together: their writes share the host's batches (≤ 200 records a call)."""
from __future__ import annotations

from dataclasses import dataclass, field

from handlers.ledger import LedgerEntry
from handlers.model import DesiredAction
from handlers.reconcile import Op, _maybe_crash, diff
from handlers.reconcile_batch import BatchReconciler, PartialFailure


@dataclass
class MissionWork:
    """One mission's share of a batch: its reconciler (ledger, log, counts) and what it should hold."""

    run: BatchReconciler
    desired: list[DesiredAction]
    ops: list[Op] = field(default_factory=list)


class MultiReconciler:
    """Diffs every mission, then sends all creates, all updates and all deletes as shared batches."""

    def __init__(self, works: list[MissionWork], writer):
        self.works, self.writer = works, writer

    def run(self) -> None:
        """Reconcile them all; raise PartialFailure (after recording every success) if the host refused some."""
        creates: list[tuple[MissionWork, DesiredAction]] = []
        for work in self.works:
            work.run.errors = []
            work.ops = diff(work.desired, work.run.ledger.entries())
            lost = [op.action for op in work.ops if op.kind == "recover" and not work.run._adopted(op)]
            creates += [(work, a) for a in [o.action for o in work.ops if o.kind == "create"] + lost]
        self._create(creates)
        self._update([(w, o) for w in self.works for o in w.ops if o.kind == "update"])
        self._cancel([(w, o) for w in self.works for o in w.ops if o.kind == "cancel"])
        errors = [e for w in self.works for e in w.run.errors]
        if errors:
            raise PartialFailure("; ".join(errors[:5]) + (f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""))

    def _create(self, items: list[tuple[MissionWork, DesiredAction]]) -> None:
        if not items:
            return
        for work, action in items:
            work.run.ledger.put(LedgerEntry.of(action, "intent"))
        pairs = [(w.run.mission_id, a) for w, a in items]
        for (work, action), (_, result) in zip(items, self.writer.create_pairs(pairs)):
            run = work.run
            if result.ok:
                run.ledger.put(LedgerEntry.of(action, "written", result.host_id))
                run.counts["created"] += 1
                run._log("created", action, None)
            else:
                run.errors.append(f"{run.mission_id}/{action.key}: {result.error}")
                run._log_failure("create", action.key, action.step_id, result.error or "")
        _maybe_crash()

    def _update(self, items: list[tuple[MissionWork, Op]]) -> None:
        by_host = {op.entry.host_id: (work, op) for work, op in items}
        if not by_host:
            return
        triples = [(h, w.run.mission_id, o.action) for h, (w, o) in by_host.items()]
        for host_id, result in self.writer.update_triples(triples):
            work, op = by_host[host_id]
            run = work.run
            if result.ok:
                run.ledger.put(LedgerEntry.of(op.action, "written", host_id))
                run.counts["rescheduled"] += 1
                run._log("rescheduled", op.action, op.entry)
            elif result.not_found:
                run.ledger.put(op.entry.model_copy(update={"status": "dismissed"}))
                run._log("dismissed", op.action, op.entry)
            else:
                run.errors.append(f"{run.mission_id}/{op.key}: {result.error}")
                run._log_failure("reschedule", op.key, op.action.step_id, result.error or "")

    def _cancel(self, items: list[tuple[MissionWork, Op]]) -> None:
        targets: dict[str, tuple[MissionWork, Op]] = {}
        for work, op in items:
            ids = [op.entry.host_id] if op.entry.host_id else work.run._read_back(op.entry).get(op.key, [])
            if op.entry.status == "dismissed" or not ids:
                work.run.ledger.drop(op.key)
                continue
            targets.update({host_id: (work, op) for host_id in ids})
        done: set[tuple[str, str]] = set()
        for host_id, result in self.writer.delete_many(list(targets)) if targets else ():
            work, op = targets[host_id]
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
