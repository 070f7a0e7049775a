"""Every URL an operator or an admin sets (issue #30): one check, `checked_host_url`, for the Boond API address
(`--base-url`, `INTERMISSION_BOOND_BASE_URL`, a tenant's stored one before each call), the Salesforce login address
(`--login-url`, `--my-domain`, before each token call) and the `instance_url` a token answer names,
`INTERMISSION_SF_PUBSUB_ENDPOINT` (before each Pub/Sub client), `INTERMISSION_PUBLIC_BASE_URL` (web and worker start,
the CLI's links) and a tenant's survey SMTP server (before each connection).

The rules, for the address written in the URL and for every address its name resolves to:
- https only (an SMTP server: its own scheme); http only for a loopback sandbox;
- never link-local (169.254.0.0/16, fe80::/10: the cloud metadata services), a metadata name or address, unspecified,
  multicast or reserved addresses, nor a user name or password in the URL;
- loopback only with `INTERMISSION_ALLOW_SANDBOX_HOSTS=true` (the local sandboxes: demo and tests);
- private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) only with `INTERMISSION_ALLOW_PRIVATE_HOSTS=true`,
  for an operator whose Boond, SMTP relay or proxy is on an internal network.
A name that does not resolve is let through: nothing can be sent to it, and the call fails naming it. The check
runs when the value is set and again before credentials are sent, but the connection resolves the name once more:
a DNS answer that changes in between (rebinding) is not caught (docs/RELIABILITY.md, "Security", limits).
"""
from __future__ import annotations

import ipaddress
import socket
import time
from urllib.parse import urlsplit

from config.settings import get_settings

METADATA_NAMES = {"metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"}
LOOPBACK_NAMES = {"localhost", "ip6-localhost", "localhost.localdomain"}
_METADATA_ADDRESSES = {ipaddress.ip_address("100.100.100.200")}  # Alibaba's (AWS, GCP, Azure: 169.254.169.254)
_METADATA_NETWORKS = (ipaddress.ip_network("fd00:ec2::/32"),)  # AWS's IPv6 metadata
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: internal like the private ranges
_RESOLVED: dict[tuple[str, int], tuple[float, list[str]]] = {}
_RESOLVED_SECONDS = 60.0


class BadHostUrl(ValueError):
    """An operator-set URL that credentials or links must not go to: why, in English (`str`) and in French."""

    def __init__(self, en: str, fr: str):
        super().__init__(en)
        self.en, self.fr = en, fr

    def say(self, lang: str) -> str:
        """The reason in the admin's language."""
        return self.fr if lang == "fr" else self.en


def checked_host_url(url: str, what: tuple[str, str] | str = ("the host URL", "l'adresse de l'outil"), *,
                     scheme: str = "https", ours: bool = False) -> str:
    """`url` (stripped) when it passes the rules above; BadHostUrl naming the reason and the setting otherwise.

    `what` names the value in English and French (a CLI flag or a setting's name is the same in both);
    `scheme`: the one secure scheme for this value (`smtp` for a mail server); `ours`: our own address
    (`INTERMISSION_PUBLIC_BASE_URL`), where loopback and http on it are a local try-out (compose's default), not a
    place credentials leave for."""
    en, fr = (what, what) if isinstance(what, str) else what
    shown = str(url)[:120]
    try:
        parts = urlsplit((url or "").strip())
        host = (parts.hostname or "").lower().rstrip(".")
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise BadHostUrl(f"{en} “{shown}” is not a URL", f"{fr} « {shown} » n'est pas une adresse valide") from None
    sandbox = get_settings().allow_sandbox_hosts or ours
    if parts.scheme not in (scheme, "http") or not host:
        raise BadHostUrl(f"{en} “{shown}” must be a {scheme}:// URL", f"{fr} « {shown} » doit commencer par {scheme}://")
    if parts.username or parts.password:
        raise BadHostUrl(f"{en} must not carry a user name or password",
                         f"{fr} ne doit contenir ni nom d'utilisateur ni mot de passe")
    written = _address(host)
    addresses = [written] if written is not None else [_address(a) for a in _resolve(host, port)]
    kinds = {_kind(a) for a in addresses if a is not None} | ({"metadata"} if host in METADATA_NAMES else set())
    if host in LOOPBACK_NAMES:
        kinds.add("loopback")
    via = "" if written is not None or not addresses else f" ({host} resolves to {', '.join(map(str, addresses))})"
    via_fr = "" if not via else f" ({host} pointe vers {', '.join(map(str, addresses))})"
    if "metadata" in kinds:
        raise BadHostUrl(f"{en} “{host}” is a link-local, metadata or otherwise unreachable address{via}: "
                         "credentials are never sent there",
                         f"{fr} « {host} » est une adresse link-local, de métadonnées ou injoignable{via_fr} : "
                         "aucun identifiant n'y est envoyé")
    if "loopback" in kinds and not sandbox:
        raise BadHostUrl(f"{en} “{host}” is this machine{via}: only the local sandboxes use it "
                         "(INTERMISSION_ALLOW_SANDBOX_HOSTS=true, demo and tests)",
                         f"{fr} « {host} » désigne cette machine{via_fr} : seuls les bacs à sable locaux l'utilisent "
                         "(INTERMISSION_ALLOW_SANDBOX_HOSTS=true, démo et tests)")
    if "private" in kinds and not get_settings().allow_private_hosts:
        raise BadHostUrl(f"{en} “{host}” is on a private network{via}: set INTERMISSION_ALLOW_PRIVATE_HOSTS=true "
                         "if this internal host is meant",
                         f"{fr} « {host} » est sur un réseau privé{via_fr} : réglez INTERMISSION_ALLOW_PRIVATE_HOSTS=true "
                         "si cet hôte interne est voulu")
    if parts.scheme == "http" and scheme == "https" and not ("loopback" in kinds and sandbox):
        raise BadHostUrl(f"{en} “{shown}” must be an https:// URL (http only for a local sandbox)",
                         f"{fr} « {shown} » doit commencer par https:// (http seulement pour un bac à sable local)")
    if parts.scheme == "http" and scheme != "https":
        raise BadHostUrl(f"{en} “{shown}” must be a {scheme}:// URL", f"{fr} « {shown} » doit commencer par {scheme}://")
    return url.strip()


def checked_smtp_host(host: str, port: int) -> str:
    """A survey SMTP server's host, by the same rules (its password is sent there)."""
    checked_host_url(f"smtp://{_bracketed(host)}:{port}", ("the SMTP server", "le serveur SMTP"), scheme="smtp")
    return host


def operator_settings_refusal() -> str | None:
    """Why the URLs set in the environment are refused (None: fine): checked when a web or worker process starts.
    Only what the operator set is checked (the defaults are this machine's and Boond's own addresses)."""
    from config import host_models
    from config.settings import HostSettings, host_settings

    list(host_models.MODELS.values())  # each host's settings module imported (a registry line names it, imports nothing)
    try:
        public_base_url()
        for model in HostSettings.__subclasses__():  # each host's own operator settings, beside its tenant settings
            for url, name in host_settings(model).operator_urls():
                checked_host_url(url, name)
    except BadHostUrl as exc:
        return str(exc)
    return None


def public_base_url() -> str:
    """`INTERMISSION_PUBLIC_BASE_URL` without its final slash, checked when the operator set it (links, e-mails and
    the OAuth redirect_uri carry tokens there)."""
    settings = get_settings()
    if "public_base_url" in settings.model_fields_set:
        checked_host_url(settings.public_base_url, "INTERMISSION_PUBLIC_BASE_URL", ours=True)
    return settings.public_base_url.rstrip("/")


def exit_unless_operator_settings_pass() -> None:
    """At a process's start: exit 2 with the reason (a start-up error an operator reads, never a traceback)."""
    import sys

    reason = operator_settings_refusal()
    if reason:
        print(f"error: {reason}", file=sys.stderr)
        raise SystemExit(2)


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (cached a minute); [] when it does not resolve."""
    now = time.monotonic()
    found = _RESOLVED.get((host, port))
    if found is not None and now - found[0] < _RESOLVED_SECONDS:
        return found[1]
    try:
        addresses = sorted({info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})
    except (OSError, UnicodeError):
        addresses = []
    if len(_RESOLVED) > 1024:
        _RESOLVED.clear()
    _RESOLVED[(host, port)] = (now, addresses)
    return addresses


def _address(host: str):
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def _kind(address) -> str:
    """metadata (link-local, metadata, unspecified, multicast, reserved), loopback, private or public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if (address.is_link_local or address.is_unspecified or address.is_multicast or address.is_reserved
            or address in _METADATA_ADDRESSES or any(address in n for n in _METADATA_NETWORKS)):
        return "metadata"
    if address.is_loopback:
        return "loopback"
    if address.is_private or address in _SHARED:
        return "private"
    return "public"
