"""Many-mission stories for the reliability tests: one seeded script of changes, played on either host."""
from __future__ import annotations

import fcntl
import json
import logging
import os
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from config.infra import clock
from tests.e2e import helpers, sf_helpers

T0 = date(2026, 3, 2)
START = date(2025, 11, 3)
KINDS = ("extend", "earlier", "client", "consultant", "cancel")


@dataclass(frozen=True)
class Change:
    """One change to mission number `n` of the story (`create` first, then moves)."""

    n: int
    kind: str
    end: date | None = None


def script(seed: int, missions: int, total: int) -> list[list[Change]]:
    """`total` changes in rounds: round 0 creates every mission, each later round changes missions in turn."""
    rng = random.Random(seed)
    ends = {n: T0 + timedelta(days=rng.randint(-10, 120)) for n in range(missions)}
    rounds = [[Change(n, "create", ends[n]) for n in range(missions)]]
    cancelled: set[int] = set()
    for first in range(missions, total, missions):
        current = []
        for n in range(min(missions, total - first)):
            kind = "extend" if n in cancelled else rng.choices(KINDS, weights=(10, 6, 2, 2, 1))[0]
            step = rng.randint(5, 40)
            ends[n] = max(ends[n] + timedelta(days=step if kind == "extend" else -step), START + timedelta(days=30))
            cancelled |= {n} if kind == "cancel" else set()
            current.append(Change(n, kind, ends[n]))
        rounds.append(current)
    return rounds


class Driver:
    """Plays changes on a host stack; `deliver=False` records the host's notification without sending it."""

    def __init__(self, stack):
        self.stack, self.missions, self.people = stack, {}, {}
        self.boond = not hasattr(stack, "tasks")

    def consultants(self, count: int) -> None:
        """One consultant per mission, so missions do not share a bench."""
        for n in range(count):
            self.people[n] = self.stack.new_consultant(f"C{n:03d}")

    def play(self, change: Change, *, deliver: bool = True) -> int:
        """Apply one change in the host; how many of its notifications our web process acknowledged."""
        s, mission = self.stack, self.missions.get(change.n)
        if change.kind == "create":
            answer = self._create(change, deliver)
            self.missions[change.n] = answer["data"]["id"] if self.boond else answer["record"]["Id"]
        elif change.kind in ("extend", "earlier"):
            answer = s.move_end(mission, change.end, deliver=deliver)
        elif change.kind == "cancel":
            answer = self._cancel(mission, deliver)
        else:
            answer = s.end_early(mission, change.end, change.kind, deliver=deliver)
        return sum(1 for d in answer.get("deliveries") or [] if str(d.get("status")) in ("200", "202", "204"))

    def _create(self, change: Change, deliver: bool) -> dict:
        if self.boond:
            return self.stack.create_delivery(START, change.end, resource=self.people[change.n], deliver=deliver)
        return self.stack.create_mission(START, change.end, deliver=deliver, Consultant__c=self.people[change.n],
                                         Consultant_User__c=None)

    def _cancel(self, mission: str, deliver: bool) -> dict:
        if self.boond:
            return self.stack.control("POST", f"/_control/deliveries/{mission}/cancel", json={"deliver": deliver})
        return self.stack.update_mission(mission, Status__c="Cancelled", deliver=deliver)

    def state(self) -> list[tuple]:
        """What users see in the host, independent of ids."""
        return helpers.host_state(self.stack.actions()) if self.boond else sf_helpers.org_state(self.stack.tasks())

    def marker_counts(self) -> Counter:
        """How many host records carry each marker."""
        if self.boond:
            return helpers.markers(self.stack.actions())
        return Counter(sf_helpers.MARK.search(t.get("Description") or "").group(0) for t in self.stack.tasks())

    def calls(self) -> dict:
        """The sandbox's call counters."""
        return self.stack.control("GET", "/_control/calls")


@pytest.fixture
def quiet_servers():
    """Keep the sandboxes' per-request lines (and injected drops' tracebacks) out of the log capture: at this
    scale they cost half of each call."""
    logger = logging.getLogger("werkzeug")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


def unthrottle(stack) -> None:
    """Lift the Boond sandbox's own rate limit (the scale stories would spend their time waiting)."""
    if not hasattr(stack, "tasks"):
        stack.control("POST", "/_control/config", json={"rate_limit_per_10s": 0})


def play_in_order(stack, rounds: list[list[Change]], settle=helpers.settle) -> Driver:
    """The reference: every change delivered, the worker drained after each round."""
    clock.pin(T0)
    unthrottle(stack)
    settle()  # the install run the connect started ends first, on an empty host (drained_before_the_story)
    driver = Driver(stack)
    driver.consultants(len(rounds[0]))
    for changes in rounds:
        for change in changes:
            driver.play(change)
        settle()
    return driver


STORY = {"seed": 61, "missions": 200, "total": 500}
_REFERENCE: dict[str, list[tuple]] = {}


def story() -> list[list[Change]]:
    """The reliability tests' story: 200 missions, 500 changes (creates, moves, early ends, cancellations)."""
    return script(**STORY)


def reference_state(stack, redis_conn) -> list[tuple]:
    """The host state after the in-order single-worker run of `story()` (once per host per test run); stack reset."""
    host = "boond" if not hasattr(stack, "tasks") else "salesforce"
    if host not in _REFERENCE:
        _REFERENCE[host] = _shared_between_workers(host, lambda: _played_reference(stack, redis_conn))
    return _REFERENCE[host]


def _played_reference(stack, redis_conn) -> list[tuple]:
    state = play_in_order(stack, story()).state()
    reset(stack, redis_conn)
    return state


def _shared_between_workers(name: str, compute) -> list[tuple]:
    """`compute()`, done once per run: under pytest-xdist the first worker to ask writes it to the run's shared
    temp dir (INTERMISSION_TEST_RUN_DIR, set by tests/conftest.py) and the others wait for it and read it."""
    shared = os.environ.get("INTERMISSION_TEST_RUN_DIR")
    if not shared:
        return compute()
    path = Path(shared) / f"reference-{name}.json"
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return [tuple(row) for row in json.loads(path.read_text())]
        found = compute()
        path.write_text(json.dumps(found))
        return found


def reset(stack, redis_conn) -> None:
    """Empty Redis and the sandbox, and wire the tenant again."""
    redis_conn.flushdb()
    stack.control("POST", "/_control/reset")
    stack.tenant = stack._create_tenant()
    if hasattr(stack, "connect"):
        stack.connect()
        stack.point_trigger(stack.mode)
    else:
        from sandboxes.stack import SUBSCRIBED

        stack.control("POST", "/_control/webhooks", json={"url": stack.webhook_url, "events": SUBSCRIBED})
    unthrottle(stack)
    drained_before_the_story()


def drained_before_the_story() -> None:
    """Let the install run a connect starts end before the story's first change. An install run spreads its missions'
    late steps around what the run's other missions already hold (the per-person daily cap, issue #27), so a run that
    lists the host while the story is being played would place them by when it listed, and no two plays would agree."""
    helpers.settle()


def wrong_missions(driver: Driver, expected: list[tuple]) -> int:
    """How many missions' host records differ from the expected state (duplicates aside)."""
    return len({row[0].split("/")[0] for row in set(driver.state()) ^ set(expected)})


def duplicates(driver: Driver) -> int:
    """Host records beyond the first for each marker."""
    return sum(n - 1 for n in driver.marker_counts().values())


class Timer:
    """Wall-clock seconds since creation."""

    def __init__(self):
        self.start = time.monotonic()

    def __call__(self) -> float:
        return round(time.monotonic() - self.start, 2)

