"""In-memory state of the Salesforce sandbox (one org): configuration, records, tokens, outbox, counters."""
from __future__ import annotations

import copy
import itertools
import random
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone

from .seed import seed_db

API_VERSION = "v67.0"
API_PREFIX = f"/services/data/{API_VERSION}"
OLDEST_VERSION, NEWEST_VERSION = 31, 67  # every vNN.0 in this range is served (the same resources), as Salesforce does
VERSION_KEY = "salesforce_sandbox.version"  # the WSGI environ key holding the version a request asked for


def api_prefix() -> str:
    """`/services/data/vNN.0` of the version the current request asked for: every url an answer carries uses it."""
    from flask import has_request_context, request

    if has_request_context():
        return f"/services/data/{request.environ.get(VERSION_KEY, API_VERSION)}"
    return API_PREFIX
RETIRED_BELOW = 31  # REST versions 21.0-30.0 are retired: 410 GONE
ORG_ID = "00D000000000001EAA"  # a valid checksum: "00D00" has one capital (D, 3rd) -> E
ORG_ID_15 = ORG_ID[:15]
CLIENT_ID, CLIENT_SECRET = "sbx-client-id", "sbx-client-secret"
INTEGRATION_USER = "005000000000001AAA"

# First counter value of each id prefix (ids are prefix + 12 digits + "AAA").
FIRST_IDS = {"a0X": 100, "a1A": 100, "a1S": 100, "00T": 1000, "0Ki": 1, "04k": 1, "01g": 1}


@dataclass
class SandboxConfig:
    """Run-time knobs of the sandbox (all changeable through POST /_control/config)."""

    access_token_ttl_seconds: int = 7200
    rotate_refresh_tokens: bool = True
    daily_api_limit: int = 15000
    max_query_batch: int = 2000
    has_external_id_field: bool = True
    has_surveys: bool = True
    outbound_retry_delays: list[float] = field(default_factory=lambda: [0.0, 0.2, 0.5, 1.0])
    duplicate_rate: float = 0.0
    shuffle: bool = False
    seed: int = 0
    outbound_timeout: float = 10.0
    cdc_objects: list[str] = field(default_factory=lambda: ["Mission__c", "pse__Assignment__c"])  # CDC selected in Setup
    pubsub_keepalive_seconds: float = 1.0  # an idle Subscribe stream gets an empty FetchResponse this often (SF: 270)

    def update(self, changes: dict) -> None:
        """Apply known fields from a dict; unknown keys raise KeyError."""
        names = {f.name for f in fields(self)}
        for key, value in changes.items():
            if key not in names:
                raise KeyError(key)
            setattr(self, key, copy.deepcopy(value))

    def as_dict(self) -> dict:
        """Plain dict view."""
        return asdict(self)


def now_stamp() -> str:
    """Current UTC time as stored: 2026-07-01T09:15:00.000Z (Salesforce keeps whole seconds)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def make_id(prefix: str, number: int) -> str:
    """An 18-char id: 3-char key prefix, 12 digits, suffix AAA."""
    return f"{prefix}{number:012d}AAA"


@dataclass
class SandboxState:
    """Everything the sandbox remembers; mutate it only while holding `lock`."""

    config: SandboxConfig = field(default_factory=SandboxConfig)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        """Remember the initial config, start the id serial, load the seed."""
        self._initial_config = copy.deepcopy(self.config)
        # Notification and event ids stay unique across resets and restarts (receivers dedupe on them).
        self._serial = itertools.count(int(time.time() * 1000) % 10**11 * 10)
        self.reset()

    def reset(self) -> None:
        """Back to the seed: records, tokens, outbox, faults, counters and config."""
        with self.lock:
            self.config.update(copy.deepcopy(self._initial_config).as_dict())
            self.db: dict[str, dict[str, dict]] = seed_db()
            self.codes: dict[str, dict] = {}
            self.refresh_tokens: dict[str, dict] = {}
            self.access_tokens: dict[str, dict] = {}
            self.api_used = 0
            self.calls: list[tuple[str, str, str]] = []
            self.token_grants: dict[str, int] = {}
            self.faults: list = []
            self.targets: list[dict] = []
            self.notifications: list[dict] = []
            self.outbound_log: list[dict] = []
            self.cursors: dict[str, list[dict]] = {}
            self.rng = random.Random(self.config.seed)
            self._next = dict(FIRST_IDS)

    def new_id(self, prefix: str) -> str:
        """A fresh record id with that key prefix."""
        with self.lock:
            number = self._next.get(prefix, 1)
            self._next[prefix] = number + 1
            return make_id(prefix, number)

    def serial_id(self, prefix: str) -> str:
        """A globally unique 18-char id (notifications: 04l…)."""
        with self.lock:
            return make_id(prefix, next(self._serial))

    def event_id(self) -> str:
        """A globally unique event id for Flow callouts."""
        with self.lock:
            return f"evt_{next(self._serial):016d}"

    def table(self, sobject: str) -> dict[str, dict]:
        """The records of one object (created empty when missing)."""
        return self.db.setdefault(sobject, {})

    def find(self, record_id: str) -> tuple[str, dict] | None:
        """(object, record) for an 15- or 18-char id in any object, deleted ones included."""
        if not isinstance(record_id, str) or len(record_id) not in (15, 18):
            return None
        for sobject, table in self.db.items():
            if len(record_id) == 18 and record_id in table:
                return sobject, table[record_id]
            for rid, rec in table.items():
                if len(record_id) == 15 and rid[:15] == record_id:
                    return sobject, rec
        return None

    def reseed(self) -> None:
        """Restart the RNG from config.seed."""
        with self.lock:
            self.rng = random.Random(self.config.seed)
