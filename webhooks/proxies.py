"""X-Forwarded-For/-Proto believed only from the proxies an operator names (INTERMISSION_TRUSTED_PROXIES).

Anyone else's forwarding headers are dropped: the client address (sign-in limits, logs) stays the peer's own.
X-Forwarded-Host is never used: links and the OAuth redirect_uri come from INTERMISSION_PUBLIC_BASE_URL."""
from __future__ import annotations

import ipaddress

from werkzeug.middleware.proxy_fix import ProxyFix

FORWARDED = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PORT",
             "HTTP_X_FORWARDED_PREFIX", "HTTP_FORWARDED")


def parse_networks(value: str) -> list:
    """`127.0.0.1, 10.0.0.0/8` → networks; a bad entry is a start-up error naming it."""
    networks = []
    for item in (x.strip() for x in (value or "").split(",")):
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"INTERMISSION_TRUSTED_PROXIES: {item!r} is not an address or network") from None
    return networks


class TrustedProxies:
    """WSGI middleware: one proxy hop's X-Forwarded-For/-Proto applied when the peer is trusted, dropped otherwise."""

    def __init__(self, app, trusted: str):
        self.app, self.networks = app, parse_networks(trusted)
        self.fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=0, x_port=0, x_prefix=0)
        self._known: dict[str | None, bool] = {}

    def _trusted(self, peer: str | None) -> bool:
        """Whether the peer is a named proxy (remembered per address: parsing one costs ~10 µs a request)."""
        found = self._known.get(peer)
        if found is None:
            if len(self._known) > 4096:
                self._known.clear()
            found = self._known[peer] = self._is_trusted(peer)
        return found

    def _is_trusted(self, peer: str | None) -> bool:
        try:
            address = ipaddress.ip_address(peer or "")
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def __call__(self, environ, start_response):
        if self._trusted(environ.get("REMOTE_ADDR")):
            environ.pop("HTTP_X_FORWARDED_HOST", None)
            return self.fixed(environ, start_response)
        for name in FORWARDED:
            environ.pop(name, None)
        return self.app(environ, start_response)
