"""The HTTP base every connector uses: timeouts, retries honouring Retry-After, errors by meaning.

A client may be called from several threads at once (a round's creates sent together, handlers/sync/reconcile.py):
they share its session, whose connection pool is thread-safe, and its session keeps no cookies (a cookie one
thread's answer set would be read by another thread's request while being written; every connector authenticates
by header)."""
from __future__ import annotations

import logging
import os
import threading
import time
from http.cookiejar import DefaultCookiePolicy
from dataclasses import dataclass
from time import monotonic
from typing import Callable
from urllib.parse import urlsplit

import requests

from connectors.errors import HostError, HostRateLimited, HostUnavailable

log = logging.getLogger(__name__)
IDEMPOTENT = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}
CallObserver = Callable[[str, str, str], object]
_observers: list[CallObserver] = []


def observe_calls(observer: CallObserver) -> None:
    """Have `observer(host, status, code)` told of every host call (the worker wires its metrics here)."""
    if observer not in _observers:
        _observers.append(observer)


def _report(host: str, status: str, code: str | None) -> None:
    for observer in list(_observers):
        try:
            observer(host, status, (code or "")[:64])
        except Exception:  # noqa: BLE001 - an observer must never break a host call
            log.debug("call observer failed", exc_info=True)


def _session(base_url: str) -> requests.Session:
    """A session whose proxy and CA settings are read from the environment once, not at every request."""
    # requests re-reads them per call when trust_env is on (~0.6 ms a call, docs/PERFORMANCE.md); netrc, the other
    # thing trust_env brings, never applies: every connector sends its own credentials
    session = requests.Session()
    session.trust_env = False
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # none kept: see the module's docstring
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    return session


KEEP_ALIVE = 1.0  # seconds a host's connections are reused after its last call (gunicorn closes idle ones after 2)
_ENVIRONMENT = ("https_proxy", "http_proxy", "all_proxy", "no_proxy", "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY",
                "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@dataclass
class _Kept:
    session: requests.Session
    used: float  # monotonic: when its last call ended (or it was made)


_kept: dict[tuple, _Kept] = {}
_keeping = threading.Lock()


def _shared(base_url: str) -> _Kept:
    """This process's session for a host and the environment's proxy and CA settings, shared by the clients made one
    after the other (a job's): its kept-alive connections spare each job new TCP and TLS handshakes, and the
    environment's reading. A session idle for KEEP_ALIVE seconds is dropped, never reused (a server closes idle
    connections, and a create sent on one it just closed could not be told apart from a lost one); a forked child
    never uses its parent's."""
    parts = urlsplit(base_url)
    key = (os.getpid(), parts.scheme, parts.netloc, *(os.environ.get(name) for name in _ENVIRONMENT))
    now = monotonic()
    with _keeping:
        for stale in [k for k, kept in _kept.items() if now - kept.used > KEEP_ALIVE]:
            del _kept[stale]  # its connections close when its last client lets go of it
        kept = _kept.get(key)
        if kept is None:
            kept = _kept[key] = _Kept(_session(base_url), now)
        return kept


def _sent(session: requests.Session, method: str, url: str, *, headers: dict, timeout: float, hooks: list,
          params=None, json=None) -> requests.Response:
    """`session.request` for what our clients send, without its per-call merging: no cookies are kept, no auth
    object is used and the environment was read when the session was made (`_session`), so the request is prepared
    once and handed to the session's adapter; the client's response `hooks` run and redirects are followed as
    `Session.send` does. About a third of a host call's CPU in a job was that merging (docs/PERFORMANCE.md,
    "job_cpu")."""
    prepared = requests.PreparedRequest()
    prepared.prepare_method(method)
    prepared.prepare_url(url, params)
    prepared.prepare_headers({**session.headers, **headers})
    prepared.prepare_body(None, None, json)
    prepared.hooks = {"response": list(hooks)}  # a redirect's answers run them too
    send = {"stream": False, "timeout": timeout, "verify": session.verify, "proxies": session.proxies,
            "cert": session.cert}
    response = session.get_adapter(url).send(prepared, **send)
    response = requests.hooks.dispatch_hook("response", prepared.hooks, response, **send)
    response.content  # noqa: B018 - read whole, as Session.send does, so the connection goes back to the pool now
    if response.is_redirect:  # none of our hosts' API calls is known to redirect: kept as requests does it
        prepared.prepare_cookies(session.cookies)
        history = [response, *session.resolve_redirects(response, prepared, **send)]
        response = history.pop()
        response.history = history
    return response


def retry_after_seconds(response: requests.Response, default: float = 1.0) -> float:
    """Read a Retry-After header given in seconds (dates are treated as the default)."""
    try:
        return max(0.0, float(response.headers.get("Retry-After", default)))
    except ValueError:
        return default


@dataclass
class Attempts:
    """One logical request's tries so far, as the retry policy counts them."""

    sent: int = 0  # counted against `max_attempts`
    busy: int = 0  # refusals a host counts apart (Salesforce's concurrency limit: the request never ran)


def server_retry_after(response: requests.Response) -> float | None:
    """A 5xx's Retry-After in seconds (a date, or garbage, is treated as absent)."""
    if "Retry-After" not in response.headers:
        return None
    value = retry_after_seconds(response, default=-1.0)
    return None if value < 0 else value


class HttpClient:
    """A requests session with bounded retries; subclasses turn error bodies into HostError."""

    host = "http"

    def __init__(self, base_url: str, *, timeout: float = 10.0, max_attempts: int = 4,
                 max_retry_after: float = 60.0, before_call: Callable[[], object] | None = None,
                 on_rate_limited: Callable[[float], object] | None = None, backoff: float = 0.2):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.max_retry_after = max_retry_after
        self.before_call = before_call
        self.on_rate_limited = on_rate_limited  # told each 429's Retry-After (a shared limiter pauses every worker)
        self.backoff = backoff  # seconds before the first in-place retry of a 5xx or timeout; doubles each time
        self._kept = _shared(self.base_url)
        self.session = self._kept.session  # shared with the process's other clients of this host: keep no state on it
        self.hooks: list[Callable] = []  # this client's response hooks (requests' signature: hook(response, **kwargs))
        self.calls = 0
        self._counting = threading.Lock()

    def auth_headers(self) -> dict[str, str]:
        """Headers added to every call (built per request)."""
        return {}

    def error_for(self, response: requests.Response) -> HostError:
        """Map an error answer to the hierarchy (override per host)."""
        return HostError(response.text[:200], host=self.host, status=response.status_code)

    def request(self, method: str, path: str, *, idempotent: bool | None = None, **kwargs) -> requests.Response:
        """Send one logical request, retrying what is safe to retry (`idempotent`: by default, by HTTP method)."""
        safe = method.upper() in IDEMPOTENT if idempotent is None else idempotent
        tries = Attempts()
        while True:
            tries.sent += 1
            try:
                return self._send_once(method, path, **kwargs)
            except HostError as exc:
                wait = self.retry_wait(exc, tries, safe=safe)
                if wait is None:
                    raise
                log.info("%s answered %s, sending again in %.1fs", self.host, type(exc).__name__, wait)
                time.sleep(wait)

    def retry_wait(self, exc: HostError, tries: Attempts, *, safe: bool) -> float | None:
        """The one retry policy: seconds to wait before sending again, or None to give up.

        A 429 waits its Retry-After (told to `on_rate_limited` first, so a shared limiter pauses every worker) unless
        longer than `max_retry_after`; a 5xx or a lost connection is sent again only when the request is safe to
        repeat, after a doubling backoff; anything else is final. A host adds its own cases in an override.
        """
        if isinstance(exc, HostRateLimited):
            if self.on_rate_limited:
                self.on_rate_limited(exc.retry_after)
            if tries.sent >= self.max_attempts or exc.retry_after > self.max_retry_after:
                return None
            return exc.retry_after
        if isinstance(exc, HostUnavailable) and safe and tries.sent < self.max_attempts:
            if exc.retry_after is not None:  # a 5xx that says when to come back (a 503 during maintenance)
                return exc.retry_after if exc.retry_after <= self.max_retry_after else None
            return min(self.backoff * 2 ** tries.sent, 5.0)
        return None

    def _send_once(self, method: str, path: str, **kwargs) -> requests.Response:
        if self.before_call:
            self.before_call()
        headers = {"Accept": "application/json", **self.auth_headers(), **kwargs.pop("headers", {})}
        with self._counting:
            self.calls += 1
        try:
            response = _sent(self.session, method, self.base_url + path, headers=headers, timeout=self.timeout,
                             hooks=self.hooks, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            _report(self.host, "none", type(exc).__name__)
            raise HostUnavailable(f"{type(exc).__name__} on {method} {path}", host=self.host) from None
        finally:
            self._kept.used = monotonic()
        error = self._error_of(method, path, response)
        _report(self.host, str(response.status_code), error.code if error else None)
        if error is not None:
            raise error
        return response

    def _error_of(self, method: str, path: str, response: requests.Response) -> HostError | None:
        """None for a success, else the exception this answer means."""
        if response.status_code < 400:
            return None
        if response.status_code == 429:
            return HostRateLimited("rate limited", host=self.host, status=429,
                                   retry_after=retry_after_seconds(response))
        if response.status_code >= 500:
            return HostUnavailable(f"server error on {method} {path}", host=self.host, status=response.status_code,
                                   retry_after=server_retry_after(response))
        return self.error_for(response)
