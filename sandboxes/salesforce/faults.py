"""Fault injection on /services calls: 500, 503, slow, drop, 401 and the 403 REQUEST_LIMIT_EXCEEDED variants."""
from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass
from typing import Callable

from .errors import SfError, invalid_session
from .state import API_PREFIX, SandboxState

KINDS = ("500", "503", "slow", "drop", "401", "limit", "concurrent-long-txn", "concurrent-requests")
# REQUEST_LIMIT_EXCEEDED messages: the daily total, and the concurrency limits that clear in seconds (Addendum [S])
LIMIT_MESSAGES = {"limit": "TotalRequests Limit exceeded.",
                  "concurrent-long-txn": "ConcurrentPerOrgLongTxn Limit exceeded.",
                  "concurrent-requests": "ConcurrentRequests Limit exceeded."}


@dataclass
class Fault:
    """One queued fault, consumed by the next `times` matching /services requests."""

    kind: str
    times: int = 1
    method: str | None = None
    path: str | None = None
    delay: float = 2.0
    when: str = "before"  # drop only: "before" the request runs, or "after" (the answer is lost)
    rate: float | None = None  # when set: hits each matching request with this probability, until cleared
    seed: int | None = None  # the random draws of a `rate` fault are repeatable from this seed

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def fires(self) -> bool:
        """Whether this fault applies to one more matching request (and uses one of its `times`)."""
        if self.rate is not None:
            return self._rng.random() < self.rate
        self.times -= 1
        return True

    def matches(self, method: str, path: str) -> bool:
        """True when this fault applies to the request (path absolute, or relative to the API base)."""
        if self.method and self.method.upper() != method.upper():
            return False
        if not self.path:
            return True
        prefix = self.path if self.path.startswith("/services") else API_PREFIX + self.path
        return path.startswith(prefix)

    def as_dict(self) -> dict:
        """Plain dict view."""
        return asdict(self)


def parse_fault(body: dict) -> Fault:
    """Build a Fault from a control body; ValueError on bad input."""
    kind = str(body.get("kind", ""))
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    fault = Fault(kind=kind, times=int(body.get("times", 1)), method=body.get("method"),
                  path=body.get("path"), delay=float(body.get("delay", 2.0)),
                  when=str(body.get("when", "before")),
                  rate=_rate(body.get("rate")),
                  seed=None if body.get("seed") is None else int(body["seed"]))
    if fault.times < 1 or fault.when not in ("before", "after") or fault.delay < 0:
        raise ValueError("times must be >= 1, delay >= 0 and when 'before' or 'after'")
    return fault


def _rate(value) -> float | None:
    """A probability in (0, 1], or None; ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise ValueError("rate must be a number in (0, 1]")
    return float(value)


def take_fault(state: SandboxState, method: str, path: str,
               only: Callable[[Fault], bool] | None = None) -> Fault | None:
    """Consume one use of the first queued fault matching the request (and `only`, when given)."""
    with state.lock:
        for fault in state.faults:
            if fault.matches(method, path) and (only is None or only(fault)) and fault.fires():
                if fault.times <= 0:
                    state.faults.remove(fault)
                return fault
    return None


def fault_error(fault: Fault) -> SfError | None:
    """The error an injected fault answers with, or None (slow, drop)."""
    if fault.kind == "500":
        return SfError(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId "
                       "if you contact support: 1234567890-12345 (-1234567890)")
    if fault.kind == "503":
        return SfError(503, "SERVER_UNAVAILABLE", "Server is temporarily unavailable. Please try again later.")
    if fault.kind == "401":
        return invalid_session()
    if fault.kind in LIMIT_MESSAGES:
        return SfError(403, "REQUEST_LIMIT_EXCEEDED", LIMIT_MESSAGES[fault.kind])
    return None


def apply_slow(fault: Fault) -> None:
    """Sleep for a `slow` fault."""
    if fault.kind == "slow":
        time.sleep(fault.delay)
