"""One exception class per failure meaning, shared by every host."""
from __future__ import annotations


NOT_OFFERED = (403, 404, 405, 501)  # a route the host does not serve this tenant (§10): read another way, never retry


def not_offered(exc: Exception) -> bool:
    """The host refuses a route it may not offer (an optional tab, a search): retrying will not help."""
    return isinstance(exc, HostError) and exc.status in NOT_OFFERED


class HostError(Exception):
    """A host answered with an error (or did not answer)."""

    def __init__(self, message: str, *, host: str = "", status: int | None = None, code: str | None = None,
                 parameter: str | None = None):
        super().__init__(message)
        self.host = host
        self.status = status
        self.code = code
        self.parameter = parameter

    def __str__(self) -> str:
        where = f"{self.host} " if self.host else ""
        status = f"HTTP {self.status}" if self.status else "no answer"
        code = f" code {self.code}" if self.code else ""
        param = f" ({self.parameter})" if self.parameter else ""
        return f"{where}{status}{code}: {self.args[0]}{param}"


class HostAuthError(HostError):
    """Credentials refused (bad signature, expired or revoked token)."""


class HostForbidden(HostError):
    """Authenticated but not allowed (missing right or contractual feature)."""


class HostNotFound(HostError):
    """The record does not exist (or no longer does)."""


class HostValidationError(HostError):
    """The host rejected the request's content; retrying the same request will not help."""


class HostRateLimited(HostError):
    """Too many requests; `retry_after` seconds is when to come back."""

    def __init__(self, message: str, *, retry_after: float = 1.0, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class HostUnavailable(HostError):
    """5xx, timeout or dropped connection: the outcome of a write is unknown.

    `retry_after`: the seconds a 5xx's `Retry-After` header asked for (a 503 during maintenance), else None."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class HostConsentRequired(HostAuthError):
    """The host needs an admin to connect (consent) again: held until they do, never retried."""


class HostBudgetExhausted(HostRateLimited):
    """The tenant's API budget with the host is spent: held until `retry_after`, no retry spent."""
