"""Reconciliation: compare each mission's plan with its ledger and write only the difference, crash-safely.

One reconciler for every host. A round takes one or more missions, diffs each plan against its ledger, reads back
what the host holds before changing anything a person may have touched (handlers.sync.people_work), and hands every
create, update, delete and close to the host writer at once. The writer answers record by record: Boond call by
call (`CallByCall`, a round's calls sent together from a few threads), Salesforce in composite batches. What
succeeded is recorded even when the rest failed.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Callable, Iterator, Literal, Protocol

from connectors.errors import HostNotFound
from handlers.hosts.protocol import CannotVerify, Close, Create, HostState, Outcome, Update, WriteKind, WriteResult
from handlers.state.ledger import SETTLED, ActivityLog, Ledger, LedgerEntry
from handlers.domain.model import DesiredAction
from handlers.sync.people_work import REASONS, closing_note, judge
from config.infra import hooks

log = logging.getLogger(__name__)
_READ = ("written", "kept")  # entries whose host record is read back before an update or cancel
__all__ = ["diff", "Op", "Reconciler", "Round", "MissionWork", "CallByCall", "PartialFailure", "await_in_flight",
           "sent_together"]


class ActionWriter(Protocol):
    """The per-record write protocol every host adapter serves (see CallByCall for hosts without batches)."""

    def write_all(self, creates: list[Create], updates: list[Update], deletes: list[str], *,
                  closes: list[Close] = (), before_create: Callable[[list[int]], None] | None = None
                  ) -> Iterator[Outcome]: ...
    def find_marked(self, mission_id: str, target_type: str, target_id: str) -> dict[str, list[str]]: ...


class PartialFailure(RuntimeError):
    """Some records were refused; what succeeded is recorded, the job retries the rest."""


@dataclass(frozen=True)
class Op:
    """One difference between plan and ledger."""

    kind: Literal["create", "update", "cancel", "recover"]
    key: str
    action: DesiredAction | None = None
    entry: LedgerEntry | None = None


def diff(desired: list[DesiredAction], entries: dict[str, LedgerEntry], *, close_kept: bool = False) -> list[Op]:
    """The operations that bring the ledger (and so the host) to the plan; pure.

    A settled entry (deleted, closed or edited by someone) is neither rewritten nor created again, whether the plan
    still wants it or wants it back; only an edited one (`kept`) whose plan went away gets a cancel when
    `close_kept`, which the round turns into closing it with a note.
    """
    ops: list[Op] = []
    wanted = {a.key: a for a in desired}
    for key, action in wanted.items():
        entry = entries.get(key)
        if entry is None:
            ops.append(Op("create", key, action))
        elif entry.status in ("intent", "cancelling"):  # a create or a delete a crash cut short: read back
            ops.append(Op("recover", key, action, entry))
        elif entry.status == "written" and _changed(entry, action):
            ops.append(Op("update", key, action, entry))
    for key, entry in entries.items():
        if key not in wanted and (entry.status not in SETTLED or (close_kept and entry.status == "kept")):
            ops.append(Op("cancel", key, None, entry))
    return ops


def _changed(entry: LedgerEntry, action: DesiredAction) -> bool:
    """Only a change of plan or wording moves an action; time passing never does (a past step stays put)."""
    return action.digest() != entry.content or entry.nominal_due != action.nominal_due


class Reconciler:
    """One mission's share of a round: its ledger, activity log, provenance and counts."""

    def __init__(self, ledger: Ledger, writer, activity: ActivityLog, mission_id: str, provenance: dict, *,
                 host: str = "", language: str = "fr", edited_on_cancel: str = "close"):
        self.ledger, self.writer, self.activity = ledger, as_writer(writer), activity
        self.mission_id, self.provenance, self.host = mission_id, provenance, host
        self.language, self.edited_on_cancel = language, edited_on_cancel
        self.counts = {"created": 0, "rescheduled": 0, "cancelled": 0, "recovered": 0, "kept": 0}
        self.errors: list[str] = []
        self._marked: dict[tuple[str, str], dict[str, list[str]]] = {}  # read_back's answers, one read a target
        self._unverified: dict[tuple[str, str], str] = {}  # targets no read-back could cover, and why
        self._records: list[dict] = []  # activity records queued for the round's pipeline (`flush`)

    def run(self, desired: list[DesiredAction]) -> dict[str, int]:
        """Reconcile this mission as a round of its own; the counts of what reached the host."""
        Round([MissionWork(self, desired)], self.writer).run()
        return self.counts

    def written(self, op: str, action: DesiredAction, entry: LedgerEntry | None, *, host_id: str, pipe=None) -> None:
        """The written ledger entry and its activity record: on the round's `pipe`, else in one round trip."""
        print_ = _fingerprint(self.writer, self.mission_id, action)
        with _on(self.ledger.conn, pipe, self) as pipe:
            self.ledger.put(LedgerEntry.of(action, "written", host_id, fingerprint=print_), pipe=pipe)
            self.log(op, action, entry, pipe=pipe)

    def settle(self, entry: LedgerEntry, status: str, verdict: str, *, action: DesiredAction | None = None, pipe=None) -> None:
        """Keep a person's work: the entry is settled for good and the activity log says why (REASONS[verdict])."""
        with _on(self.ledger.conn, pipe, self) as pipe:
            self.ledger.put(entry.model_copy(update={"status": status}), pipe=pipe)
            self.counts["kept"] += status != "dismissed"
            self.log("dismissed" if status == "dismissed" else "kept", action, entry, why=verdict, pipe=pipe)

    def log(self, op: str, action: DesiredAction | None, entry: LedgerEntry | None, *, why: str = "",
            pipe=None) -> None:
        """One activity record (and log line) for a host write or a decision not to write (`why`: a verdict)."""
        record = {"mission": self.mission_id, "op": op, "key": (action or entry).key,
                  "step": (action.step_id if action else entry.step_id),
                  "title": action.title if action else entry.title,
                  "due": str(action.due) if action else None,
                  "previous_due": str(entry.due) if entry else None,
                  "late": bool(action and action.late), **self.provenance}
        if action and action.assignee and action.assignee.name:  # the activity log names who got it
            record["owner"] = action.assignee.name
        if why:
            record["why"], record["why_code"] = REASONS[why], why
        if pipe is None:
            self.activity.add(record)
        else:  # packed with the mission's other records when the pipeline goes (`flush`)
            self._records.append({"at": round(time.time(), 3), **record})
        log.info("host write %s %s/%s due %s", op, self.mission_id, record["key"], record["due"],
                 extra={"op": op, "host": self.host, "mission": self.mission_id, "step": record["step"],
                        "status": "not_found" if op == "dismissed" else "ok"})

    def flush(self, pipe) -> None:
        """The activity records queued since the last flush, onto `pipe` (before it is sent)."""
        if self._records:
            self.activity.add_many(self._records, pipe=pipe)
            self._records = []

    def hold(self, entry: LedgerEntry, action: DesiredAction | None, detail: str, *, pipe=None) -> None:
        """Nothing authoritative could be read about this step's record: left as it is (neither dismissed nor created
        again), said in the activity log, and the job retries it."""
        with _on(self.ledger.conn, pipe, self) as pipe:
            self.log("held", action, entry, why="unverified", pipe=pipe)
        self.errors.append(f"{self.mission_id}/{entry.key}: cannot verify ({detail})")

    def refused(self, op: str, key: str, step: str, *, error: str | None) -> None:
        """A host write the host refused (the job retries it)."""
        self.errors.append(f"{self.mission_id}/{key}: {error}")
        log.warning("host write %s %s/%s refused: %s", op, self.mission_id, key, error,
                    extra={"op": op, "host": self.host, "mission": self.mission_id, "step": step, "status": "error"})

    def read_back(self, entry: LedgerEntry) -> dict[str, list[str]]:
        """Our actions on the entry's target, found by their marker: read once a target (a crashed round leaves
        an intent for each of its creates, and their read-backs share the target's one read)."""
        target = (entry.target_type, entry.target_id)
        if target not in self._marked:
            try:
                self._marked[target] = self.writer.find_marked(self.mission_id, *target)
            except CannotVerify as exc:  # what was found stands; what was not is unknown, not absent
                self._marked[target], self._unverified[target] = exc.found, exc.why
        return self._marked[target]

    def unverified(self, entry: LedgerEntry) -> str | None:
        """Why the read-back of the entry's target was not complete (None: it was, or it was not read)."""
        return self._unverified.get((entry.target_type, entry.target_id))


@dataclass
class MissionWork:
    """One mission in a round: its reconciler and what it should hold."""

    run: Reconciler
    desired: list[DesiredAction]
    ops: list[Op] = field(default_factory=list)
    ledger: dict[str, LedgerEntry] | None = None  # as read under the consultant's lock; None: the round reads it


class Round:
    """Diffs every mission, keeps what people did, then sends all writes together; results one by one."""

    def __init__(self, works: list[MissionWork], writer, *, then: Callable[[Any], object] | None = None):
        self.works, self.writer = works, as_writer(writer)
        self.then = then  # adds what a round that wrote all it should ends with to its last round trip

    def run(self) -> None:
        """Reconcile them all; raise PartialFailure (after recording every success) if the host refused some."""
        creates: list[tuple[MissionWork, DesiredAction]] = []
        unread = iter(Ledger.entries_of_all([w.run.ledger for w in self.works if w.ledger is None]))
        for work, entries in zip(self.works, [w.ledger if w.ledger is not None else next(unread) for w in self.works]):
            work.run.errors = []
            work.ops = diff(work.desired, entries, close_kept=work.run.edited_on_cancel == "close")
            lost = [op.action for op in work.ops if op.kind == "recover" and not _adopted(work.run, op)]
            creates += [(work, a) for a in [o.action for o in work.ops if o.kind == "create"] + lost]
        updates, cancels, closes = self._guarded()
        # what the host answered is recorded on one transaction, sent with the next create's intent (an intent
        # reaches Redis before its create, as ever) and at the end of the round, even one the host cut short, with
        # `then`'s writes when the round wrote everything: a record whose answer a crash lost is read back by its
        # intent or in-flight mark, never guessed
        pipe = self.works[0].run.ledger.conn.pipeline()
        errors: list[str] = []
        try:
            self._write(pipe, creates, updates, cancels, closes)
            errors = [e for w in self.works for e in w.run.errors]
            if not errors and self.then is not None:
                self.then(pipe)
        finally:
            for work in self.works:
                work.run.flush(pipe)
            if len(pipe):
                pipe.execute()
        if errors:
            raise PartialFailure("; ".join(errors[:5]) + (f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""))

    def _guarded(self) -> tuple[list, list, list]:
        """The updates and cancels that touch nothing a person did; the rest settled (or closed with a note)."""
        changing = [(w, op) for w in self.works for op in w.ops
                    if op.kind in ("update", "cancel") and op.entry.host_id and op.entry.status in _READ]
        states = self._states(changing)
        updates, cancels, closes = [], [], []
        for work, op in [(w, o) for w in self.works for o in w.ops if o.kind in ("update", "cancel")]:
            if not (op.entry.host_id and op.entry.status in _READ and work.run.mission_id in states):
                (updates if op.kind == "update" else cancels).append((work, op))
                continue
            state = states[work.run.mission_id].get(op.entry.host_id)
            verdict = judge(op.entry, state)
            if verdict == "untouched":  # what the host shows now is ours: the base an in-flight mark builds on
                op = replace(op, entry=op.entry.model_copy(update={"fingerprint": state.fingerprint,
                                                                   "pending": ""}))
                (updates if op.kind == "update" else cancels).append((work, op))
            elif verdict == "unverified":
                work.run.hold(op.entry, op.action, "no read of the host covered it")
            elif op.kind == "cancel" and verdict == "edited" and work.run.edited_on_cancel == "close":
                closes.append((work, op, state))
            else:
                status = {"gone": "dismissed", "done": "done", "edited": "kept"}[verdict]
                work.run.settle(op.entry, status, verdict, action=op.action)
        return updates, cancels, closes

    def _states(self, changing: list[tuple[MissionWork, Op]]) -> dict[str, dict[str, HostState]]:
        """mission → host id → state, for the missions whose written actions are about to change."""
        reader = getattr(self.writer, "host_states", None)
        if reader is None or not changing:
            return {}
        entries: dict[str, list[LedgerEntry]] = {}
        for work, op in changing:
            entries.setdefault(work.run.mission_id, []).append(op.entry)
        return reader(entries)

    def _write(self, pipe, creates: list[tuple[MissionWork, DesiredAction]], updates: list[tuple[MissionWork, Op]],
               cancels: list[tuple[MissionWork, Op]], closes: list[tuple[MissionWork, Op, HostState]]) -> None:
        """Intent before each create; then one round of host writes, each record's result on its own (on `pipe`,
        which the caller sends)."""
        by_host = {op.entry.host_id: (work, op) for work, op in updates}
        targets = self._targets(cancels)
        if not (creates or by_host or targets or closes):
            return
        new = [Create(w.run.mission_id, a) for w, a in creates]
        changed = [Update(h, w.run.mission_id, o.action) for h, (w, o) in by_host.items()]
        notes = [Close(o.entry.host_id, closing_note(w.run.language, w.run.provenance.get("reason") or ""), s)
                 for w, o, s in closes]
        doomed, done = list(targets), set()
        self._mark_in_flight(targets, changed, by_host)

        def intent(indices: list[int]) -> None:  # the intents of the creates the next host call carries
            for index in indices:
                work, action = creates[index]
                work.run.ledger.put(LedgerEntry.of(action, "intent"), pipe=pipe)
            for work in self.works:
                work.run.flush(pipe)
            pipe.execute()

        for outcome in self.writer.write_all(new, changed, doomed, closes=notes, before_create=intent):
            index, result = outcome.index, outcome.result
            if outcome.kind == "create":
                hooks.after_host_create()  # tests: a worker killed between the host's answer and the ledger write
                _created(*creates[index], result, pipe)
            elif outcome.kind == "update":
                _updated(changed[index].host_id, *by_host[changed[index].host_id], result, pipe)
            elif outcome.kind == "close":
                _closed(*closes[index], result, pipe)
            else:
                _cancelled(*targets[doomed[index]], result, done, pipe)

    def _mark_in_flight(self, targets: dict[str, tuple[MissionWork, Op]], changed: list[Update],
                        by_host: dict[str, tuple[MissionWork, Op]]) -> None:
        """Before the writes go out, in one round trip: each delete marked 'cancelling', each update 'pending'.

        A crash after the host applied them then leaves marks, not a 'written' entry whose record looks deleted
        or edited by a person (the next run would keep it for good instead of carrying on).
        """
        marks = [(w, o.entry.model_copy(update={"status": "cancelling", "at": time.time()}))
                 for w, o in {(w.run.mission_id, o.key): (w, o) for w, o in targets.values()}.values()
                 if o.entry.status != "cancelling"]
        for update in changed:
            work, op = by_host[update.host_id]
            pending = _fingerprint(self.writer, update.mission_id, update.action)
            if pending and op.entry.status == "written":
                marks.append((work, op.entry.model_copy(update={"pending": pending})))
        if not marks:
            return
        pipe = marks[0][0].run.ledger.conn.pipeline(transaction=False)
        for work, entry in marks:
            work.run.ledger.put(entry, pipe=pipe)
        pipe.execute()

    @staticmethod
    def _targets(items: list[tuple[MissionWork, Op]]) -> dict[str, tuple[MissionWork, Op]]:
        """The actions to delete (an entry without a host id is read back by its marker); the rest dropped at once."""
        targets: dict[str, tuple[MissionWork, Op]] = {}
        for work, op in items:
            ids = [op.entry.host_id] if op.entry.host_id else work.run.read_back(op.entry).get(op.key, [])
            if not ids and work.run.unverified(op.entry):
                work.run.hold(op.entry, None, work.run.unverified(op.entry) or "")
                continue
            if not ids:
                work.run.ledger.drop(op.key)
                continue
            targets.update({host_id: (work, op) for host_id in ids})
        return targets


def _adopted(run: Reconciler, op: Op) -> bool:
    """An unrecorded create: adopt what the host holds for this key, or hold it when the read-back could not tell
    (False: known to be absent, create it with the others)."""
    await_in_flight(op.entry)
    found = run.read_back(op.entry).get(op.key, [])
    if not found and run.unverified(op.entry):
        run.hold(op.entry, op.action, run.unverified(op.entry) or "")
        return True
    if not found:
        return False
    for _outcome in run.writer.write_all([], [Update(found[0], run.mission_id, op.action)], found[1:]):
        pass
    run.counts["recovered"] += 1
    run.written("recovered", op.action, op.entry, host_id=found[0])
    return True


@contextlib.contextmanager
def _on(conn, pipe, run: Reconciler):
    """The round's pipeline as given (its owner flushes and sends it), else a new one, sent on leaving the block."""
    if pipe is not None:
        yield pipe
        return
    own = conn.pipeline(transaction=False)
    yield own
    run.flush(own)
    own.execute()


def _created(work: MissionWork, action: DesiredAction, result: WriteResult, pipe=None) -> None:
    run = work.run
    if result.ok:
        run.counts["created"] += 1
        run.written("created", action, None, host_id=result.host_id, pipe=pipe)
    else:
        run.refused("create", action.key, action.step_id, error=result.error)


def _updated(host_id: str, work: MissionWork, op: Op, result: WriteResult, pipe=None) -> None:
    run = work.run
    if result.ok:
        run.counts["rescheduled"] += 1
        run.written("rescheduled", op.action, op.entry, host_id=result.host_id or host_id, pipe=pipe)
    elif result.not_found:
        run.settle(op.entry, "dismissed", "gone", action=op.action, pipe=pipe)
    else:
        run.refused("reschedule", op.key, op.action.step_id, error=result.error)


def _closed(work: MissionWork, op: Op, state: HostState, result: WriteResult, pipe=None) -> None:
    run = work.run
    if result.ok or result.not_found:
        run.settle(op.entry, "closed" if result.ok else "dismissed", "closed" if result.ok else "gone", pipe=pipe)
    else:
        run.refused("close", op.key, op.entry.step_id, error=result.error)


def _cancelled(work: MissionWork, op: Op, result: WriteResult, done: set[tuple[str, str]], pipe=None) -> None:
    run = work.run
    if result.ok or result.not_found:
        if (run.mission_id, op.key) not in done:
            run.ledger.drop(op.key, pipe=pipe)
            run.counts["cancelled"] += 1
            run.log("cancelled", None, op.entry, pipe=pipe)
            done.add((run.mission_id, op.key))
    else:  # refused: the record is still there, as it was
        run.ledger.put(op.entry, pipe=pipe)
        run.refused("cancel", op.key, op.entry.step_id, error=result.error)


class CallByCall:
    """The write protocol served one host call per record, for hosts without batch writes (Boond)."""

    def __init__(self, host):
        self.host = host

    def __getattr__(self, name: str):
        return getattr(self.host, name)

    def write_all(self, creates: list[Create], updates: list[Update], deletes: list[str], *,
                  closes: list[Close] = (), before_create: Callable[[list[int]], None] | None = None
                  ) -> Iterator[Outcome]:
        """Every record's call sent together (`sent_together`), the creates first; a host error other than "not
        found" stops the round (the job retries).

        Every create's intent goes in one round trip before the first create, and every update and delete carries
        its in-flight mark already (`Round._mark_in_flight`), so the calls may go out in any order: a crash mid-round
        leaves each record made or not, changed or not, and each is read back by its intent or mark."""
        if before_create and creates:
            before_create(list(range(len(creates))))
        yield from sent_together(
            [partial(_made, n, self.host.create, c) for n, c in enumerate(creates)]
            + [partial(_call, "update", n, self.host.update, u.host_id, u.mission_id, u.action)
               for n, u in enumerate(updates)]
            + [partial(_call, "close", n, self.host.close, c.host_id, c.note, c.state) for n, c in enumerate(closes)]
            + [partial(_call, "delete", n, self.host.delete, host_id) for n, host_id in enumerate(deletes)])


PARALLEL_WRITES = 4  # threads a round's host calls are sent from (each waits for the tenant's bucket as ever)
_NOT_SENT = object()


def sent_together(calls: list[Callable[[], Outcome]]) -> Iterator[Outcome]:
    """Each call's outcome, in order, the calls sent from up to PARALLEL_WRITES threads; when one fails, no other
    is started, the outcomes of those sent are all yielded, then its error is raised (so the round records every
    record the host wrote before the job retries).

    The threads share the host's client (its limiter and session are thread-safe: a 429 holds them all) and each
    runs in a copy of the caller's context (the job's log fields and call counts)."""
    if len(calls) < 2:
        for call in calls:
            yield call()
        return
    failed = threading.Event()

    def one(call: Callable[[], Outcome]):
        if failed.is_set():
            return _NOT_SENT
        try:
            return call()
        except BaseException:
            failed.set()
            raise

    error: BaseException | None = None
    sent = [_writers().submit(contextvars.copy_context().run, one, call) for call in calls]
    try:
        for future in sent:
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001 - raised below, once every answer is out
                error = error or exc
                continue
            if outcome is not _NOT_SENT:
                yield outcome
    finally:
        failed.set()  # the caller stopped early (or a call failed): nothing more is sent
        for future in sent:
            future.cancel()
        wait(sent)  # every call started has answered before the round goes on
    if error is not None:
        raise error


_pool: dict[int, ThreadPoolExecutor] = {}
_pool_lock = threading.Lock()


def _writers() -> ThreadPoolExecutor:
    """The process's threads for host writes, made once (a forked process makes its own)."""
    with _pool_lock:
        pool = _pool.get(os.getpid())
        if pool is None:
            pool = _pool[os.getpid()] = ThreadPoolExecutor(max_workers=PARALLEL_WRITES, thread_name_prefix="write")
        return pool


def _made(index: int, create: Callable[[str, DesiredAction], str], c: Create) -> Outcome:
    return Outcome("create", index, WriteResult(host_id=create(c.mission_id, c.action)))


def _call(kind: WriteKind, index: int, method, *args) -> Outcome:
    try:
        moved = method(*args)  # an update may answer a new id (a record moved to another parent)
    except HostNotFound as exc:
        return Outcome(kind, index, WriteResult(ok=False, not_found=True, error=str(exc)))
    return Outcome(kind, index, WriteResult(host_id=str(moved or args[0])))


def as_writer(writer):
    """The writer itself when it speaks the write protocol, else its calls wrapped one by one."""
    if writer is None or hasattr(writer, "write_all"):
        return writer
    return CallByCall(writer)


def _fingerprint(writer, mission_id: str, action: DesiredAction) -> str:
    make = getattr(writer, "fingerprint", None)
    return make(mission_id, action) if make else ""


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
