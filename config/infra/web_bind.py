"""Where the web process may listen: loopback by default; a public address only behind a proxy that reads whole
requests (issue #30). gunicorn alone falls over to 8 slow-header connections or 1,000 idle ones (docs/RELIABILITY.md,
"Security"), so a bind anyone can reach needs `INTERMISSION_BEHIND_PROXY=true` or the proxy's address in
`INTERMISSION_TRUSTED_PROXIES` (the nginx sidecar's set-up), else the process refuses to start and says why."""
from __future__ import annotations

import ipaddress

from config.settings import get_settings

LOOPBACK_NAMES = {"localhost", "ip6-localhost"}


def default_bind(port: str | None) -> str:
    """The bind when none is set: this machine only."""
    return f"127.0.0.1:{port or '8000'}"


def is_loopback(bind: str) -> bool:
    """`127.0.0.1:8000`, `[::1]:8000`, `localhost:8000` and unix sockets reach no one else."""
    if bind.startswith(("unix:", "fd://")):
        return True
    host = bind.rsplit(":", 1)[0] if ":" in bind else bind
    host = host.strip("[]")
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name or an empty host: it may reach any interface


def refusal(bind: str) -> str | None:
    """Why this bind is refused (None: allowed)."""
    settings = get_settings()
    if is_loopback(bind) or settings.behind_proxy or settings.trusted_proxies.strip():
        return None
    return (f"refusing to listen on {bind}: gunicorn alone is stopped by a few slow clients. Put nginx in front "
            "(deploy/nginx.conf, as compose and Kubernetes do) and set INTERMISSION_TRUSTED_PROXIES to its address, "
            "or set INTERMISSION_BEHIND_PROXY=true when the platform's proxy reads whole requests; or listen on "
            "127.0.0.1 (INTERMISSION_BIND)")


def checked_bind(bind: str) -> str:
    """`bind`, or exit with the reason (a start-up error an operator reads, never a traceback)."""
    import sys

    reason = refusal(bind)
    if reason:
        print(f"error: {reason}", file=sys.stderr)
        raise SystemExit(2)
    return bind
