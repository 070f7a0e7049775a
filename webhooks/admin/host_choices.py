"""What the host offers the mapping page (each host's admin mapping reads it, then caches it): the shared parts.

The mapping form shows these as choices and refuses a value the host does not have, so an impossible mapping is
never saved. When the host cannot be read, the page says so and saves nothing (it would not know what it saves).
"""
from __future__ import annotations

DESCRIBE_TTL = 3600


class HostUnreadable(RuntimeError):
    """The host could not be asked what it offers."""


def unknown_fields(names: set[str], mapped: dict[str, str | None]) -> dict[str, str]:
    """form field → the mapped name the object does not have (a dotted path is checked on its first hop)."""
    lower = {n.lower() for n in names}
    return {form: value for form, value in mapped.items()
            if value and value.split(".")[0].lower() not in lower}
