"""Salesforce REST client: one method per endpoint, Salesforce's error arrays mapped to HostError.

REST API guide: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/intro_rest.htm
The client does not own tokens: a `TokenProvider` hands out access tokens and refreshes one after a 401.
"""
from __future__ import annotations

import logging
import re
from typing import Callable, Iterator, NamedTuple, Protocol
from urllib.parse import urlsplit

import requests

from connectors.salesforce.settings import SALESFORCE_API_VERSION

from connectors.errors import (HostAuthError, HostBudgetExhausted, HostError, HostForbidden, HostNotFound,
                               HostRateLimited, HostUnavailable, HostValidationError)
from connectors.http import Attempts, HttpClient
from connectors.salesforce.records import (COLLECTION_LIMIT, Collection, SaveResult, SubResult,  # noqa: F401
                                           _record_id, _typed)
from connectors.salesforce.soql import api_name, escape_soql  # noqa: F401  (escape_soql re-exported)

log = logging.getLogger(__name__)

API_VERSION = SALESFORCE_API_VERSION
COMPOSITE_LIMIT = 25  # subrequests in one POST /composite
COMPOSITE_COLLECTIONS = 5  # of which sObject Collections or queries
API_LIMIT_PAUSE = 3600.0  # the daily limit is a rolling 24 h window with no Retry-After: come back much later
CONCURRENCY_ATTEMPTS = 6  # a concurrency refusal clears in seconds: this many tries within the job
CONCURRENCY_BACKOFF = 0.5  # seconds before the first retry; doubles, capped at CONCURRENCY_MAX_WAIT
CONCURRENCY_MAX_WAIT = 8.0
_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
_COLLECTION_PATH = re.compile(r"/(composite/sobjects|query|queryAll)(?=[/?]|\Z)")
# REQUEST_LIMIT_EXCEEDED carries both the daily total ("TotalRequests Limit exceeded.") and concurrency limits
# ("ConcurrentPerOrgLongTxn Limit exceeded.", "ConcurrentRequests ..."): told apart by the message (Addendum [S])
_CONCURRENCY = re.compile(r"Concurrent", re.IGNORECASE)
LimitObserver = Callable[[str], object]
_limit_observers: list[LimitObserver] = []


class ApiLimitExceeded(HostBudgetExhausted):
    """403 REQUEST_LIMIT_EXCEEDED: the org spent its rolling 24 h API allocation; never retried in place."""


class ConcurrencyLimited(HostRateLimited):
    """403 REQUEST_LIMIT_EXCEEDED for too many concurrent requests: refused before running, clears in seconds."""


class Usage(NamedTuple):
    """The org's daily API requests: used so far, and allowed."""

    used: int
    limit: int


def observe_limits(observer: LimitObserver) -> None:
    """Have `observer(kind)` told of each REQUEST_LIMIT_EXCEEDED ("daily" or "concurrency"): the worker's metrics."""
    if observer not in _limit_observers:
        _limit_observers.append(observer)


def _report_limit(kind: str) -> None:
    for observer in list(_limit_observers):
        try:
            observer(kind)
        except Exception:  # noqa: BLE001 - an observer must never break a host call
            log.debug("limit observer failed", exc_info=True)


def limit_kind(message: str) -> str:
    """'concurrency' for a concurrency refusal, else 'daily' (an unknown message is held like the daily limit)."""
    return "concurrency" if _CONCURRENCY.search(message or "") else "daily"


class TokenProvider(Protocol):
    """Where the client gets its bearer token (the tenant's token store owns refresh and rotation)."""

    def access_token(self) -> str: ...

    def refresh(self, stale: str) -> str: ...


class SalesforceClient(HttpClient):
    """Calls one org's REST API at its instance URL with a tenant's bearer token."""

    host = "salesforce"

    def __init__(self, instance_url: str, token_provider: TokenProvider, *, token: str | None = None,
                 api_version: str = API_VERSION, on_usage: Callable[[int, int], object] | None = None,
                 limit_pause: float = API_LIMIT_PAUSE,
                 concurrency_attempts: int = CONCURRENCY_ATTEMPTS, concurrency_backoff: float = CONCURRENCY_BACKOFF,
                 **kwargs):
        if not re.fullmatch(r"v\d+\.\d", api_version):
            raise ValueError(f"API version looks like v67.0, not {api_version!r}")
        super().__init__(f"{instance_url.rstrip('/')}/services/data/{api_version}", **kwargs)
        self.token_provider = token_provider
        self.on_usage = on_usage
        self.limit_pause = limit_pause
        self.concurrency_attempts, self.concurrency_backoff = max(1, concurrency_attempts), concurrency_backoff
        self.api_usage: tuple[int, int] | None = None
        self._sent_token: str | None = None
        self._next_token: str | None = token
        self.hooks.append(self._read_usage)

    # --- plumbing --------------------------------------------------------------------------
    def auth_headers(self) -> dict[str, str]:
        """The bearer token: the one given or read first, kept until the org refuses it (then refreshed once)."""
        token = self._next_token or self._sent_token or self.token_provider.access_token()
        self._next_token = None
        self._sent_token = token
        return {"Authorization": f"Bearer {token}"}

    def error_for(self, response: requests.Response) -> HostError:
        """Salesforce answers `[{"message","errorCode","fields"}]`."""
        try:
            body = response.json()
        except ValueError:
            body = None
        return self._error(response.status_code, body, response.reason)

    def _error(self, status: int, body: object, reason: str | None = None) -> HostError:
        """The exception an error status and body mean (a response, or a composite subrequest's answer)."""
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
        first = _first_error(body)
        message = first.get("message") or first.get("error_description") or reason or "error"
        code = first.get("errorCode") or first.get("error") or None
        kwargs = dict(host=self.host, status=status, code=code, parameter=",".join(first.get("fields") or []) or None)
        if status >= 500:
            return HostUnavailable(message, **kwargs)
        if status == 401:
            return HostAuthError(message, **kwargs)
        if status == 403 and code == "REQUEST_LIMIT_EXCEEDED":
            if limit_kind(message) == "concurrency":
                return ConcurrencyLimited(message, retry_after=CONCURRENCY_BACKOFF, **kwargs)
            return ApiLimitExceeded(message, retry_after=self.limit_pause, **kwargs)
        if status == 403:
            return HostForbidden(message, **kwargs)
        if status == 404:
            return HostNotFound(message, **kwargs)
        if status in (300, 400, 405, 409):
            return HostValidationError(message, **kwargs)
        return HostError(message, **kwargs)

    def retry_wait(self, exc: HostError, tries: Attempts, *, safe: bool) -> float | None:
        """The shared policy, plus: the daily API limit is never waited for; a concurrency refusal (the request never
        ran, whatever its method) is sent again after a short backoff, not counted against the other attempts."""
        if isinstance(exc, ApiLimitExceeded):
            _report_limit("daily")
            return None
        if isinstance(exc, ConcurrencyLimited):
            _report_limit("concurrency")
            tries.busy += 1
            tries.sent -= 1
            if tries.busy >= self.concurrency_attempts:
                return None
            return min(self.concurrency_backoff * 2 ** (tries.busy - 1), CONCURRENCY_MAX_WAIT)
        return super().retry_wait(exc, tries, safe=safe)

    def _send_once(self, method: str, path: str, **kwargs) -> requests.Response:
        try:
            response = super()._send_once(method, path, **kwargs)
        except HostAuthError as exc:
            if exc.status != 401:
                raise
            log.info("%s answered 401 %s, refreshing the access token once", self.host, exc.code)
            self._next_token = self.token_provider.refresh(self._sent_token or "")
            response = super()._send_once(method, path, **kwargs)
        if response.status_code == 300:  # upsert matched several records; the base lets 3xx through
            raise self.error_for(response)
        return response

    def _read_usage(self, response: requests.Response, *args, **kwargs) -> None:
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm
        found = _USAGE.search(response.headers.get("Sforce-Limit-Info", ""))
        if found:
            self.api_usage = (int(found.group(1)), int(found.group(2)))
            if self.on_usage:
                self.on_usage(*self.api_usage)

    # --- reads -----------------------------------------------------------------------------
    def query(self, soql: str, *, include_deleted: bool = False) -> Iterator[dict]:
        """GET /query?q=… (/queryAll: deleted records too), then each nextRecordsUrl until done, lazily."""
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm
        body = self.request("GET", "/queryAll" if include_deleted else "/query", params={"q": soql}).json()
        while True:
            yield from body.get("records") or []
            next_url = body.get("nextRecordsUrl")
            if body.get("done", True) or not next_url:
                return
            # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query_more_results.htm
            body = self.request("GET", self._relative(next_url)).json()

    def query_all(self, soql: str, *, include_deleted: bool = False) -> list[dict]:
        """Every record of `query` in one list (all pages)."""
        return list(self.query(soql, include_deleted=include_deleted))

    def get_record(self, sobject: str, record_id: str, fields: list[str] | None = None) -> dict:
        """GET /sobjects/{object}/{id}[?fields=…]: one record."""
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_retrieve.htm
        params = {"fields": ",".join(api_name(f, dotted=True) for f in fields)} if fields else None
        return self.request("GET", f"/sobjects/{api_name(sobject)}/{_record_id(record_id)}", params=params).json()

    def limits(self) -> Usage:
        """GET /limits: the org's daily API requests (used, allowed), also kept through `on_usage`."""
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_limits.htm
        daily = self.request("GET", "/limits").json().get("DailyApiRequests") or {}
        limit, remaining = int(daily.get("Max", 0)), int(daily.get("Remaining", 0))
        if limit and self.on_usage:
            self.on_usage(limit - remaining, limit)
        return Usage(limit - remaining, limit)

    def describe(self, sobject: str) -> dict:
        """GET /sobjects/{object}/describe: the object's fields, `keyPrefix` (first 3 characters of its ids), …"""
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_describe.htm
        return self.request("GET", f"/sobjects/{api_name(sobject)}/describe").json()

    # --- writes (sObject Collections, ≤ 200 records a call, per-record results in order) -----
    def create_records(self, records: list[dict], *, sobject: str | None = None) -> list[SaveResult]:
        """POST /composite/sobjects by 200, allOrNone false; never retried (a 5xx leaves the outcome unknown)."""
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_create.htm
        typed = [_typed(r, sobject) for r in records]
        return self._collections("POST", "/composite/sobjects", typed, idempotent=False)

    def update_records(self, records: list[dict], *, sobject: str | None = None) -> list[SaveResult]:
        """PATCH /composite/sobjects by 200, each record with its Id; retried on 5xx (same fields, same result)."""
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_update.htm
        typed = [_typed(r, sobject) for r in records]
        for record in typed:
            _record_id(record.get("Id") or "")
        return self._collections("PATCH", "/composite/sobjects", typed, idempotent=True)

    def upsert_records(self, sobject: str, ext_field: str, records: list[dict]) -> list[SaveResult]:
        """PATCH /composite/sobjects/{object}/{ext_field} by 200: create or update by external id (idempotent)."""
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_upsert.htm
        typed = [_typed(r, sobject) for r in records]
        if any(not record.get(ext_field) for record in typed):
            raise ValueError(f"every upserted record needs its {ext_field} value")
        path = f"/composite/sobjects/{api_name(sobject)}/{api_name(ext_field)}"
        return self._collections("PATCH", path, typed, idempotent=True)

    def delete_records(self, ids: list[str]) -> list[SaveResult]:
        """DELETE /composite/sobjects?ids=…&allOrNone=false by 200 ids."""
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_delete.htm
        checked = [_record_id(i) for i in ids]
        results: list[SaveResult] = []
        for start in range(0, len(checked), COLLECTION_LIMIT):
            chunk = checked[start:start + COLLECTION_LIMIT]
            params = {"ids": ",".join(chunk), "allOrNone": "false"}
            answer = self.request("DELETE", "/composite/sobjects", params=params)
            results += _save_results(answer, len(chunk))
        return results

    def _collections(self, method: str, path: str, records: list[dict], *, idempotent: bool) -> list[SaveResult]:
        """Send `records` by 200; an error raised mid-way carries `saved_results` of the earlier chunks."""
        results: list[SaveResult] = []
        for start in range(0, len(records), COLLECTION_LIMIT):
            chunk = records[start:start + COLLECTION_LIMIT]
            try:
                answer = self.request(method, path, json={"allOrNone": False, "records": chunk}, idempotent=idempotent)
            except HostError as exc:
                exc.saved_results = results  # the chunks already written, in order: the caller must not redo them
                raise
            results += _save_results(answer, len(chunk))
        return results

    # --- composite (≤ 25 subrequests, ≤ 5 of them collections or queries, ONE API call) -----
    def composite(self, subrequests: list[dict], *, all_or_none: bool = False) -> list[SubResult]:
        """POST /composite of `{"method","url","referenceId","body"?}` (urls under the API base): answers in order."""
        # ONE API call, top-level 200 even when subrequests fail; not retried on a 5xx when a subrequest is a POST
        # (a create's outcome would be unknown).
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_composite_post.htm
        if not 0 < len(subrequests) <= COMPOSITE_LIMIT:
            raise ValueError(f"a composite call takes 1 to {COMPOSITE_LIMIT} subrequests, not {len(subrequests)}")
        if sum(1 for sub in subrequests if _COLLECTION_PATH.match(sub["url"])) > COMPOSITE_COLLECTIONS:
            raise ValueError(f"a composite call takes at most {COMPOSITE_COLLECTIONS} collections or queries")
        refs = [sub["referenceId"] for sub in subrequests]
        if len(set(refs)) != len(refs):
            raise ValueError("referenceId values must be unique")
        prefix = urlsplit(self.base_url).path
        body = {"allOrNone": all_or_none, "collateSubrequests": False,
                "compositeRequest": [{**sub, "url": prefix + sub["url"]} for sub in subrequests]}
        idempotent = not any(sub["method"].upper() == "POST" for sub in subrequests)
        answer = self.request("POST", "/composite", json=body, idempotent=idempotent).json()
        items = answer.get("compositeResponse") if isinstance(answer, dict) else None
        by_ref = {item.get("referenceId"): item for item in items or [] if isinstance(item, dict)}
        if any(ref not in by_ref for ref in refs):
            raise HostError(f"composite answer lacks subrequests: {answer!r:.200}", host=self.host, status=200)
        return [SubResult(ref, int(by_ref[ref].get("httpStatusCode") or 0), by_ref[ref].get("body")) for ref in refs]

    def collections(self, calls: list[Collection]) -> list[list[SaveResult] | HostError]:
        """Up to 5 collections calls in ONE POST /composite: per call its records' results or its subrequest's error."""
        answers = self.composite([call.subrequest(f"c{n}") for n, call in enumerate(calls)])
        out: list[list[SaveResult] | HostError] = []
        for call, answer in zip(calls, answers):
            if not 200 <= answer.status < 300:
                out.append(self._error(answer.status, answer.body))
            elif not isinstance(answer.body, list) or len(answer.body) != call.size:
                out.append(HostError(f"expected {call.size} results, got {answer.body!r:.200}", host=self.host,
                                     status=answer.status))
            else:
                out.append([SaveResult.from_json(item) for item in answer.body])
        return out

    # --- surveys ---------------------------------------------------------------------------
    def create_survey_invitation(self, fields: dict) -> str:
        """POST /sobjects/SurveyInvitation: the new invitation's id."""
        # https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_surveyinvitation.htm
        result = SaveResult.from_json(self.request("POST", "/sobjects/SurveyInvitation", json=fields).json())
        if not result.success or not result.id:
            raise HostValidationError(result.error_text() or "SurveyInvitation not created", host=self.host,
                                      status=201, code="NOT_CREATED")
        return result.id

    def survey_invitation_link(self, invitation_id: str) -> str:
        """GET /sobjects/SurveyInvitation/{id}?fields=InvitationLink: the URL to send the respondent."""
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_retrieve.htm
        link = self.get_record("SurveyInvitation", invitation_id, ["InvitationLink"]).get("InvitationLink")
        if not link:
            raise HostForbidden("InvitationLink is empty (the integration user cannot see the Survey)",
                                host=self.host, status=200, code="NO_INVITATION_LINK")
        return link

    def _relative(self, url: str) -> str:
        """A nextRecordsUrl (`/services/data/v67.0/query/…`) as a path under base_url."""
        prefix = urlsplit(self.base_url).path
        path = urlsplit(url).path if url.startswith("http") else url
        if not path.startswith(prefix + "/"):
            raise HostError(f"unexpected nextRecordsUrl {url!r}", host=self.host)
        return path[len(prefix):]


def _save_results(response: requests.Response, expected: int) -> list[SaveResult]:
    items = response.json()
    if not isinstance(items, list) or len(items) != expected:
        raise HostError(f"expected {expected} results, got {items!r:.200}", host="salesforce",
                        status=response.status_code)
    return [SaveResult.from_json(item) for item in items]


def _first_error(body: object) -> dict:
    first = body[0] if isinstance(body, list) and body else body
    return first if isinstance(first, dict) else {}
