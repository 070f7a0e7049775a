"""Fault injection (429, 500, slow, drop) and the per-clientToken rate limit."""
from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass

from .envelope import BoondError
from .state import SandboxState

KINDS = ("429", "500", "slow", "drop")
WINDOW_SECONDS = 10.0


@dataclass
class Fault:
    """One queued fault, consumed by the next `times` matching /api requests."""

    kind: str
    times: int = 1
    method: str | None = None
    path: str | None = None
    retry_after: int = 1
    delay: float = 2.0
    when: str = "before"  # drop only: "before" the request runs, or "after" (response lost)
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
        """True when this fault applies to the request."""
        if self.method and self.method.upper() != method.upper():
            return False
        return not self.path or path.startswith(self.path)

    def as_dict(self) -> dict:
        """Plain dict view."""
        return asdict(self)


def parse_fault(body: dict) -> Fault:
    """Build a Fault from a control body; ValueError on bad input."""
    kind = str(body.get("kind", ""))
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    fault = Fault(kind=kind, times=int(body.get("times", 1)), method=body.get("method"),
                  path=body.get("path"), retry_after=int(body.get("retry_after", 1)),
                  delay=float(body.get("delay", 2.0)), when=str(body.get("when", "before")),
                  rate=_rate(body.get("rate")),
                  seed=None if body.get("seed") is None else int(body["seed"]))
    if fault.times < 1 or fault.when not in ("before", "after"):
        raise ValueError("times must be >= 1 and when 'before' or 'after'")
    return fault


def _rate(value) -> float | None:
    """A probability in (0, 1], or None; ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise ValueError("rate must be a number in (0, 1]")
    return float(value)


def take_fault(state: SandboxState, method: str, path: str) -> Fault | None:
    """Consume one use of the first queued fault matching the request."""
    with state.lock:
        for fault in state.faults:
            if fault.matches(method, path) and fault.fires():
                if fault.times <= 0:
                    state.faults.remove(fault)
                return fault
    return None


def fault_error(fault: Fault) -> BoondError | None:
    """The error an injected 429/500 answers, or None for other kinds."""
    if fault.kind == "429":
        return BoondError(429, "Too many requests",
                          headers={"Retry-After": str(fault.retry_after)})
    if fault.kind == "500":
        return BoondError(500, "Internal server error")
    return None


def apply_slow(fault: Fault) -> None:
    """Sleep for a `slow` fault."""
    if fault.kind == "slow":
        time.sleep(fault.delay)


def check_rate_limit(state: SandboxState, key: str) -> BoondError | None:
    """Count one call for key in a sliding 10 s window; the 429 to answer when over the limit."""
    limit = state.config.rate_limit_per_10s
    if not limit:
        return None
    now = time.monotonic()
    with state.lock:
        window = [t for t in state.rate_windows.get(key, []) if now - t < WINDOW_SECONDS]
        if len(window) >= limit:
            state.rate_windows[key] = window
            wait = max(1, math.ceil(WINDOW_SECONDS - (now - window[0])))
            return BoondError(429, "Too many requests", headers={"Retry-After": str(wait)})
        window.append(now)
        state.rate_windows[key] = window
    return None
