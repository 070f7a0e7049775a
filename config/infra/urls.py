"""Operator-set host URLs (a Boond `--base-url`, `INTERMISSION_BOOND_BASE_URL`): the tenant's credentials are sent
there, so only https to a public name or address (issue #30). http and loopback only for the local sandboxes
(`INTERMISSION_ALLOW_SANDBOX_HOSTS`); never link-local, cloud metadata, unspecified or multicast addresses, never
credentials in the URL. Names are not resolved here: a public name that resolves to a private address is the DNS
operator's doing (docs/RELIABILITY.md, "Security", limits)."""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from config.settings import get_settings

METADATA_NAMES = {"metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"}
LOOPBACK_NAMES = {"localhost", "ip6-localhost", "localhost.localdomain"}


class BadHostUrl(ValueError):
    """An operator-set URL the credentials must not be sent to; the message says why and what is accepted."""


def checked_host_url(url: str, what: str = "the host URL") -> str:
    """`url` when credentials may be sent there; BadHostUrl naming the reason otherwise."""
    try:
        parts = urlsplit((url or "").strip())
        host = (parts.hostname or "").lower().rstrip(".")
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise BadHostUrl(f"{what} {str(url)[:120]!r} is not a URL") from None
    sandbox = get_settings().allow_sandbox_hosts
    loopback = _is_loopback(host)
    if parts.scheme not in ("https", "http") or not host:
        raise BadHostUrl(f"{what} {str(url)[:120]!r} must be an https:// URL")
    if parts.username or parts.password:
        raise BadHostUrl(f"{what} must not carry a user name or password")
    if host in METADATA_NAMES or _is_forbidden_address(host):
        raise BadHostUrl(f"{what} {host!r} is a link-local, metadata or otherwise unreachable address")
    if loopback and not sandbox:
        raise BadHostUrl(f"{what} {host!r} is this machine: only the local sandboxes use it "
                         "(INTERMISSION_ALLOW_SANDBOX_HOSTS=true, demo and tests)")
    if parts.scheme == "http" and not (loopback and sandbox):
        raise BadHostUrl(f"{what} {str(url)[:120]!r} must be an https:// URL (http only for a local sandbox)")
    return url.strip()


def _address(host: str):
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _is_loopback(host: str) -> bool:
    address = _address(host)
    return host in LOOPBACK_NAMES or (address is not None and address.is_loopback)


def _is_forbidden_address(host: str) -> bool:
    address = _address(host)
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (address.is_link_local or address.is_unspecified or address.is_multicast or address.is_reserved
            or address == ipaddress.ip_address("100.100.100.200")  # Alibaba's metadata
            or address in ipaddress.ip_network("fd00:ec2::/32"))  # AWS's IPv6 metadata
