"""BoondManager REST client: one method per endpoint, Boond's error envelope mapped to HostError.

API reference: https://doc.boondmanager.com/api-externe/raml-build/api-externe.raml
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Iterator, NamedTuple

import requests

from connectors.boond.auth import BoondCredentials
from connectors.errors import (HostAuthError, HostError, HostForbidden, HostNotFound,
                               HostValidationError)
from connectors.http import HttpClient

ACTIONS_PAGE = 100  # above 100 Boond silently falls back to 30 (field report, see docs)
SEARCH_PAGE = 500  # Boond's cap on maxResults
PUT_RELATIONSHIPS = ("mainManager",)  # what Boond's actionsBody-put allows
MAX_PAGES = 1000  # a guard against a server whose totals never add up
# keyword prefixes of Boond's searches (reference §5): the fallback of a refused per-entity actions tab
KEYWORD_PREFIX = {"resource": "COMP", "contact": "CCON", "project": "PRJ", "opportunity": "AO",
                  "candidate": "CAND", "company": "CSOC"}

PLURAL = {"opportunity": "opportunities", "company": "companies"}  # route names that are not `<entity>s`


def plural(entity: str) -> str:
    """The collection a record's routes sit under (`resource` → `resources`, `opportunity` → `opportunities`)."""
    return PLURAL.get(entity, entity + "s")


class ActionsRead(NamedTuple):
    """A record's actions as one read found them; `complete`: every action of the record was listed (Boond's totals
    reached), so one that is absent is gone. A search's answer is never complete: it may miss what it did not match."""

    rows: list[dict]
    complete: bool
    via: str  # the route read, for the activity log


def checked_base_url(base_url: str) -> str:
    """The tenant's Boond API address, or a HostError saying why its credentials will not be sent there (metadata,
    link-local, plain http, or loopback outside the sandboxes: config/infra/urls.py)."""
    from config.infra.urls import BadHostUrl, checked_host_url

    try:
        return checked_host_url(base_url, ("the Boond API address", "l'adresse de l'API Boond"))
    except BadHostUrl as exc:
        raise HostError(str(exc), host="boond") from exc  # the cause says it in the admin's language


def _read(path: str, doc: str) -> Callable[..., dict]:
    """A client method answering GET `path` as JSON, the record's id in its `{}`."""

    def read(self: BoondClient, record_id: str) -> dict:
        return self.request("GET", path.format(record_id)).json()

    read.__doc__ = f"GET {path.replace('{}', '{id}')}: {doc}"
    return read


def _every(path: str, doc: str) -> Callable[..., list[dict]]:
    """A client method answering every row of every page of GET `path`, the record's id in its `{}`."""

    def every(self: BoondClient, record_id: str) -> list[dict]:
        return list(self._paged(path.format(record_id), {}, SEARCH_PAGE))

    every.__doc__ = f"GET {path.replace('{}', '{id}')}: {doc}"
    return every


class BoondClient(HttpClient):
    """Calls one tenant's Boond with its credentials."""

    host = "boond"

    def __init__(self, base_url: str, credentials: BoondCredentials,
                 renew: Callable[[BoondCredentials], BoondCredentials | None] | None = None, **kwargs):
        super().__init__(checked_base_url(base_url), **kwargs)
        self.credentials = credentials
        self.renew = renew  # temporary app tokens: called once, after the first auth error
        self._renewing = threading.Lock()  # threads refused together renew once, the others send again after it

    def auth_headers(self) -> dict[str, str]:
        return self.credentials.headers()

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """One logical request; after an auth error, renew the credentials once per client and send it again."""
        sent_with = self.credentials
        try:
            return super().request(method, path, **kwargs)
        except HostAuthError:
            with self._renewing:
                if self.credentials is sent_with:  # not renewed by another thread meanwhile
                    renew, self.renew = self.renew, None
                    fresh = renew(self.credentials) if renew else None
                    if fresh is None:
                        raise
                    self.credentials = fresh
            return super().request(method, path, **kwargs)

    def error_for(self, response: requests.Response) -> HostError:
        """Boond answers `{"errors":[{"status","code","detail","source":{"parameter"}}]}`."""
        first = _first_error(response)
        detail = first.get("detail") or response.reason or "error"
        kwargs = dict(host=self.host, status=response.status_code, code=str(first.get("code") or "") or None,
                      parameter=(first.get("source") or {}).get("parameter"))
        if response.status_code == 401 or "signature verification failed" in detail.lower():
            return HostAuthError(detail, **kwargs)
        if response.status_code == 403:
            return HostForbidden(detail, **kwargs)
        if response.status_code == 404:
            return HostNotFound(detail, **kwargs)
        if response.status_code in (400, 405, 409, 422):
            return HostValidationError(detail, **kwargs)
        return HostError(detail, **kwargs)

    # --- reads -----------------------------------------------------------------------------
    def current_user(self) -> dict:
        """GET /application/current-user: the cheapest credentials check."""
        return self.request("GET", "/application/current-user").json()

    def dictionary(self) -> dict:
        """GET /application/dictionary: states and action types of this tenant."""
        return self.request("GET", "/application/dictionary").json()

    # the reads of one record by id, or of every page of its list, declared in one line each (`_read`, `_every`)
    delivery = _read("/deliveries/{}", "with its project, company, contact and managers in `included`.")
    resource = _read("/resources/{}", "state, mainManager, hrManager (no email1 nor reference on the detail, §10).")
    inactivity = _read("/inactivities/{}", "its dates, types and `resource` (RAML).")
    project = _read("/projects/{}", "mainManager, contact, opportunity, company.")
    opportunity = _read("/opportunities/{}", "contact and mainManager (the business engineer).")
    company = _read("/companies/{}", "the client's name.")
    resource_timeline = _every(
        "/resources/{}/deliveries-inactivities", "every delivery and inactivity of a consultant, all pages."
    )
    project_deliveries = _every(
        "/projects/{}/deliveries-groupments", "every delivery of a project (whose consultant: `dependsOn`)."
    )

    def opportunities(self, states: list[int]) -> list[dict]:
        """GET /opportunities?opportunityStates=…: the opportunities in those states, all pages (RAML search)."""
        return list(self._paged("/opportunities", {"opportunityStates": states}, SEARCH_PAGE))

    opportunity_information = _read(
        "/opportunities/{}/information", "the criteria (tools, areas, place, start) and the state."
    )
    resource_information = _read("/resources/{}/information", "e-mail, `mobilityAreas` (the places a consultant accepts).")
    technical_data = _read("/resources/{}/technical-data", "skills, tools, expertise and activity areas, languages.")
    positionings_of = _every("/opportunities/{}/positionings", "every positioning on an opportunity, all pages.")

    def create_positioning(self, document: dict) -> dict:
        """POST /positionings with both e-mail flags false: nobody is e-mailed (reference §4)."""
        params = {"sendMailToDependsOnManager": "false", "sendMailToOpportunityManager": "false"}
        return self.request("POST", "/positionings", params=params, json=document).json().get("data") or {}

    def update_positioning(self, positioning_id: str, document: dict) -> dict:
        """PUT /positionings/{id}."""
        return self.request("PUT", f"/positionings/{positioning_id}", json=document).json().get("data") or {}

    def delete_positioning(self, positioning_id: str) -> None:
        """DELETE /positionings/{id}."""
        self.request("DELETE", f"/positionings/{positioning_id}")

    def actions_of(self, entity: str, entity_id: str) -> Iterator[dict]:
        """GET /{entity}s/{id}/actions, every page; when the tab is refused (404/405), the /actions search."""
        try:
            rows = list(self._paged(f"/{plural(entity)}/{entity_id}/actions", {}, ACTIONS_PAGE))
        except (HostNotFound, HostValidationError) as exc:
            if exc.status not in (404, 405) or entity not in KEYWORD_PREFIX:
                raise
            rows = list(self.searched_actions(entity, entity_id))
        yield from rows

    def actions_tab(self, entity: str, entity_id: str) -> ActionsRead:
        """GET /{entity}s/{id}/actions, every page (HostNotFound/HostValidationError when the tab is refused)."""
        path = f"/{plural(entity)}/{entity_id}/actions"
        outcome: dict = {}
        rows = list(self._paged(path, {}, ACTIONS_PAGE, outcome))
        return ActionsRead(rows, outcome["complete"], f"GET {path}")

    def listed_actions(self, entity: str, entity_id: str, *, pages: int = MAX_PAGES) -> ActionsRead:
        """GET /actions, every page (at most `pages`), kept here when their `dependsOn` is the record (Boond takes
        no parent filter on lists, §5): complete when the pages reached Boond's total."""
        outcome: dict = {}
        rows = [row for row in self._paged("/actions", {"sort": "id"}, ACTIONS_PAGE, outcome, pages=pages)
                if _parent(row) == (entity, str(entity_id))]
        return ActionsRead(rows, outcome["complete"], "GET /actions")

    def action(self, action_id: str) -> dict:
        """GET /actions/{id}: one action (HostNotFound when it is gone)."""
        return self.request("GET", f"/actions/{action_id}").json().get("data") or {}

    def searched_actions(self, entity: str, entity_id: str, *, pages: int = MAX_PAGES) -> Iterator[dict]:
        """GET /actions?keywords=COMP<id> (at most `pages` pages), filtered here on dependsOn (Boond may ignore
        the keyword, §5)."""
        params = {"keywords": f"{KEYWORD_PREFIX[entity]}{entity_id}", "sort": "id"}
        for row in self._paged("/actions", params, ACTIONS_PAGE, pages=pages):
            if _parent(row) == (entity, str(entity_id)):
                yield row

    def deliveries_updated(self, start: str, end: str) -> Iterator[dict]:
        """GET /deliveries-groupments?period=updated: deliveries changed between two days."""
        params = {"period": "updated", "startDate": start, "endDate": end, "sort": "updateDate"}
        yield from self._paged("/deliveries-groupments", params, SEARCH_PAGE)

    def _paged(self, path: str, params: dict, page_size: int, outcome: dict | None = None, *,
               pages: int = MAX_PAGES) -> Iterator[dict]:
        """Every row of a list: pages until the rows read reach meta.totals.rows or a page is empty, whatever
        page size the server chose (Boond's /actions answers 30 rows whatever maxResults asks, §10), at most
        `pages` of them. `outcome` gets `complete`: the rows read reached the total Boond gave (not an empty page,
        the page budget or the page guard first)."""
        seen = 0
        if outcome is not None:
            outcome["complete"] = False
        for page in range(1, min(pages, MAX_PAGES) + 1):
            body = self.request("GET", path, params={**params, "page": page, "maxResults": page_size}).json()
            rows = body.get("data") if isinstance(body, dict) else None
            if not isinstance(rows, list):
                raise HostError(f"GET {path} answered no list of rows (expected JSON:API `data: [...]`)",
                                host=self.host)
            yield from rows
            seen += len(rows)
            if not rows or seen >= _total(body, seen):
                if outcome is not None:
                    outcome["complete"] = seen >= _total(body, seen)
                return

    # --- writes ----------------------------------------------------------------------------
    def create_action(self, document: dict) -> dict:
        """POST /actions; returns the created action."""
        return self.request("POST", "/actions", json=document).json().get("data") or {}

    def update_action(self, action_id: str, document: dict) -> dict:
        """PUT /actions/{id} (Boond answers 405 to PATCH). Boond's `actionsBody-put` requires data.id and allows only
        `mainManager` among the relationships: an action's parent cannot move, so `dependsOn` is not sent."""
        data = {"id": str(action_id), **(document.get("data") or {})}
        relationships = {k: v for k, v in (data.get("relationships") or {}).items() if k in PUT_RELATIONSHIPS}
        body = {**document, "data": {**{k: v for k, v in data.items() if k != "relationships"},
                                     **({"relationships": relationships} if relationships else {})}}
        return self.request("PUT", f"/actions/{action_id}", json=body).json().get("data") or {}

    def delete_action(self, action_id: str) -> None:
        """DELETE /actions/{id}."""
        self.request("DELETE", f"/actions/{action_id}")

    # --- webhooks (the tenant's own registration) -------------------------------------------
    def webhooks(self) -> list[dict]:
        """GET /webhooks: every webhook of the tenant (Boond ignores paging here)."""
        return self.request("GET", "/webhooks").json().get("data") or []

    def create_webhook(self, document: dict) -> dict:
        """POST /webhooks; returns the created webhook."""
        return self.request("POST", "/webhooks", json=document).json().get("data") or {}

    def delete_webhook(self, webhook_id: str) -> None:
        """DELETE /webhooks/{id}."""
        self.request("DELETE", f"/webhooks/{webhook_id}")

    # --- backfill and survey e-mail reads (issue #17) -----------------------------------------
    def deliveries_ending(self, start: str, end: str) -> Iterator[dict]:
        """GET /deliveries-groupments?period=stopped: deliveries whose end date falls between two days."""
        params = {"period": "stopped", "startDate": start, "endDate": end, "sort": "endDate"}
        yield from self._paged("/deliveries-groupments", params, SEARCH_PAGE)

    def contact(self, contact_id: str) -> dict:
        """GET /contacts/{id}: a client contact (its `email1`)."""
        return self.request("GET", f"/contacts/{contact_id}").json()

    def resources_matching(self, keywords: str) -> list[dict]:
        """GET /resources?keywords=: the list rows (they carry `email1`, which the detail lacks)."""
        return self.request("GET", "/resources", params={"keywords": keywords, "maxResults": 30}).json().get("data") or []


def _parent(row: dict) -> tuple[str, str]:
    """An action row's `dependsOn` as (type, id)."""
    parent = (((row.get("relationships") or {}).get("dependsOn") or {}).get("data") or {})
    return str(parent.get("type") or ""), str(parent.get("id") or "")


def _total(body: dict, seen: int) -> int:
    """meta.totals.rows; when absent or unreadable, what was read so far (a single page)."""
    try:
        return int(((body.get("meta") or {}).get("totals") or {}).get("rows"))
    except (TypeError, ValueError, AttributeError):
        return seen


def _first_error(response: requests.Response) -> dict:
    try:
        errors = response.json().get("errors") or [{}]
        return errors[0] if isinstance(errors[0], dict) else {}
    except (ValueError, AttributeError):
        return {}
