"""What a host's adapter serves generic code: the reader, the writer, and the typed results they answer with.

The job, the batch, the sweep, the backfill, the preview and the survey mail call these methods only; each host's
adapter (`handlers/hosts/<host>/adapter.py`) may have more, for its own modules. The timeline a reader returns is in the
host's terms (Boond documents, Salesforce rows): generic code only hands it back to `placed`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, NamedTuple, Protocol

from handlers.state.ledger import LedgerEntry
from handlers.domain.model import DesiredAction, MissionSnapshot

Timeline = Any  # the consultant's other missions, in the host's terms (handed back to `placed`)


class MissionRead(NamedTuple):
    """One mission as the host has it now (None: gone) and its consultant's timeline."""

    snapshot: MissionSnapshot | None
    timeline: Timeline


class MissionsRead(NamedTuple):
    """Missions read together (a batching host): the snapshots found, and each consultant's timeline by id."""

    snapshots: dict[str, MissionSnapshot]
    timelines: dict[str, Timeline]


class Contact(NamedTuple):
    """How to reach a person as the host holds them: an e-mail address ('' when none) and a language ('' unknown)."""

    email: str
    language: str = ""


@dataclass(frozen=True)
class HostState:
    """One of our actions as the host holds it now (read back before an update or a cancel)."""

    host_id: str
    fingerprint: str
    closed: bool = False  # ticked done / completed by someone (Salesforce IsClosed, a Boond "done" type)
    raw: dict = field(default_factory=dict, compare=False)  # the host's fields, for a closing note
    known: bool = True  # False: the host's answers could not tell whether it is there (refused, incomplete)

    @classmethod
    def unverified(cls, host_id: str) -> HostState:
        """A record no authoritative answer covered: neither gone nor present, held until a read can tell."""
        return cls(host_id, "", known=False)


class CannotVerify(Exception):
    """A read-back that found no authoritative answer (a refused tab, a search that may miss, an incomplete listing):
    `found` holds what it did find (marker key -> host ids); a key absent from it is not known to be absent."""

    def __init__(self, why: str, found: dict[str, list[str]] | None = None):
        super().__init__(why)
        self.why, self.found = why, found or {}


# --- the write protocol's records: what the reconciler asks of a host, and what the host answers ---------------


@dataclass(frozen=True, slots=True)
class Create:
    """A new record for one of a mission's actions (it carries the action's marker)."""

    mission_id: str
    action: DesiredAction


@dataclass(frozen=True, slots=True)
class Update:
    """One of our records rewritten to what the mission's action is now."""

    host_id: str
    mission_id: str
    action: DesiredAction


@dataclass(frozen=True, slots=True)
class Close:
    """One of our records a person edited, closed with a note instead of deleted."""

    host_id: str
    note: str
    state: HostState


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The host's answer for one record of a round."""

    host_id: str | None = None
    ok: bool = True
    not_found: bool = False
    error: str | None = None


WriteKind = Literal["create", "update", "close", "delete"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one record of a round: its kind, its index in that kind's list, and the host's answer."""

    kind: WriteKind
    index: int
    result: WriteResult


class HostReader(Protocol):
    """The reads every host serves."""

    def read_mission(self, mission_id: str) -> MissionRead:
        """The mission as the host has it now and the consultant's timeline."""
        ...

    def placed(self, snap: MissionSnapshot, timeline: Timeline) -> MissionSnapshot:
        """The snapshot with the consultant's other missions after its end (`others`, `next_start`)."""
        ...

    def changed_since(self, since: datetime) -> list[str]:
        """Ids of the missions the host changed since `since` (the sweep's safety net)."""
        ...

    def missions_ending(self, start_day: date, end_day: date) -> list[str]:
        """Ids of the host's missions whose end date falls between two days (the install backfill)."""
        ...

    def find_marked(self, mission_id: str, target_type: str, target_id: str) -> dict[str, list[str]]:
        """Our records on a mission, by marker key (the reconciler's read-back after a crash)."""
        ...

    def contact(self, person_type: str, person_id: str, name: str = "") -> Contact:
        """A person's e-mail address and language (the survey e-mails)."""
        ...


class BatchReader(HostReader, Protocol):
    """The reads of a host whose writes batch (`Host.batches_writes`): many missions in one go."""

    def read_missions(self, mission_ids: list[str]) -> MissionsRead:
        """The missions found among `mission_ids` and their consultants' timelines."""
        ...


class RecordWriter(Protocol):
    """Writes one host call per record (the reconciler wraps them in `CallByCall`)."""

    def create(self, mission_id: str, action: DesiredAction) -> str:
        """A new record carrying the action's marker; its host id."""
        ...

    def update(self, host_id: str, mission_id: str, action: DesiredAction) -> str | None:
        """Rewrite one record (HostNotFound when it is gone); a host that cannot move a record to the action's new
        target makes a new one there and answers its id (None: the same record)."""
        ...

    def delete(self, host_id: str) -> None:
        """Remove one record (HostNotFound when it is gone)."""
        ...

    def close(self, host_id: str, note: str, state: HostState) -> None:
        """Close a record a person edited, with a note."""
        ...


class BatchWriter(Protocol):
    """Writes a whole round at once (`handlers.sync.reconcile.ActionWriter`): an `Outcome` a record."""

    def write_all(
        self,
        creates: list[Create],
        updates: list[Update],
        deletes: list[str],
        *,
        closes: list[Close] = ...,
        before_create: Callable[[list[int]], None] | None = None,
    ) -> Iterator[Outcome]:
        """One round's writes, answered record by record; `before_create(indices)` before each host call that
        carries creates, with their indices (their intents reach Redis first, in one round trip)."""
        ...


class PeopleReader(Protocol):
    """Optional: what a person did to our records (`handlers.sync.people_work`): read back before any change."""

    def host_states(self, entries: dict[str, list[LedgerEntry]]) -> dict[str, dict[str, HostState]]:
        """Our records as the host holds them now, by mission and host id."""
        ...

    def fingerprint(self, mission_id: str, action: DesiredAction) -> str:
        """What the host will show of this action once written."""
        ...


READER = ("read_mission", "placed", "changed_since", "missions_ending", "find_marked", "contact")
RECORD = ("create", "update", "delete", "close")


def missing(adapter: type, batches_writes: bool) -> list[str]:
    """The protocol methods an adapter class lacks: a batching host reads and writes in batches, the others write
    record by record or in batches (a host is refused at registration when any is missing)."""
    has = lambda name: callable(getattr(adapter, name, None))  # noqa: E731
    wanted = READER + (("read_missions", "write_all") if batches_writes else () if has("write_all") else RECORD)
    return [name for name in wanted if not has(name)]
