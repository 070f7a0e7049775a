"""The explicit list of hosts Intermission speaks to, with the facts each connector relies on."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HostInfo:
    """Declared facts about one host (see docs/ for the sources and their confidence)."""

    name: str
    api_base: str
    auth: str
    page_size: int
    retry_after_header: bool
    docs: str


HOSTS: dict[str, HostInfo] = {
    "boond": HostInfo(name="BoondManager", api_base="https://ui.boondmanager.com/api",
                      auth="X-Jwt-App-Boondmanager / X-Jwt-Client-Boondmanager (HS256, per request)",
                      page_size=100, retry_after_header=True,
                      docs="https://doc.boondmanager.com/api-externe/raml-build/api-externe.raml"),
}


def host(name: str) -> HostInfo:
    """The facts about one host, or KeyError naming the known ones."""
    try:
        return HOSTS[name]
    except KeyError:
        raise KeyError(f"unknown host {name!r}; known: {', '.join(sorted(HOSTS))}") from None
