"""Hook points the tests and the demo may fill; production leaves them empty and never loads test code.

`load()` runs once per process, at the first hook call: only when a test setting asks for it
(`INTERMISSION_ALLOW_CLOCK_OVERRIDE`, `INTERMISSION_CRASH_AFTER_HOST_WRITE`) does it look for the
`intermission.test_seams` entry point, which only the development distribution `intermission-sandboxes`
(`sandboxes/pyproject.toml`) declares. Production code never imports the sandboxes (an import contract), and the
production wheel and image hold neither the module nor the entry point: there a test setting is ignored, with a
warning.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from collections.abc import Callable
from datetime import date

_after_create: list[Callable[[], None]] = []
_today: list[Callable[[], date | None]] = []
_loaded = False
log = logging.getLogger(__name__)


def after_host_create() -> None:
    """Called by the reconciler after each host create (a crash test's kill point when one is registered)."""
    load()
    for hook in _after_create:
        hook()


def pinned_today() -> date | None:
    """The day a test or the demo pinned, when a clock source is registered; None in production."""
    load()
    for source in _today:
        day = source()
        if day is not None:
            return day
    return None


def on_after_host_create(hook: Callable[[], None]) -> None:
    """Register a hook run after each host create."""
    if hook not in _after_create:
        _after_create.append(hook)


def set_clock(source: Callable[[], date | None]) -> None:
    """Register where a pinned day is read from."""
    if source not in _today:
        _today.append(source)


def load() -> None:
    """Install the test seams when (and only when) a test setting is on; once per process."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    from config.settings import get_settings

    settings = get_settings()
    if settings.allow_clock_override or settings.crash_after_host_write:
        found_points = entry_points(group="intermission.test_seams")
        if not found_points:
            log.warning("a test setting is on, but this installation has no test seams: ignored")
            return
        found = next(iter(found_points)).load()(settings)
        if found["clock"]:
            set_clock(found["clock"])
        if found["after_host_create"]:
            on_after_host_create(found["after_host_create"])
