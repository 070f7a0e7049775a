"""BoondManager REST client: one method per endpoint, Boond's error envelope mapped to HostError.

API reference: https://doc.boondmanager.com/api-externe/raml-build/api-externe.raml
"""
from __future__ import annotations

from typing import Callable, Iterator

import requests

from connectors.boond.auth import BoondCredentials
from connectors.errors import (HostAuthError, HostError, HostForbidden, HostNotFound,
                               HostValidationError)
from connectors.http import HttpClient

ACTIONS_PAGE = 100  # above 100 Boond silently falls back to 30 (field report, see docs)
SEARCH_PAGE = 500  # Boond's cap on maxResults


class BoondClient(HttpClient):
    """Calls one tenant's Boond with its credentials."""

    host = "boond"

    def __init__(self, base_url: str, credentials: BoondCredentials,
                 renew: Callable[[BoondCredentials], BoondCredentials | None] | None = None, **kwargs):
        super().__init__(base_url, **kwargs)
        self.credentials = credentials
        self.renew = renew  # temporary app tokens: called once, after the first auth error

    def auth_headers(self) -> dict[str, str]:
        return self.credentials.headers()

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """One logical request; after an auth error, renew the credentials once per client and send it again."""
        try:
            return super().request(method, path, **kwargs)
        except HostAuthError:
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

    def delivery(self, delivery_id: str) -> dict:
        """GET /deliveries/{id} with its project, company, contact and managers in `included`."""
        return self.request("GET", f"/deliveries/{delivery_id}").json()

    def resource(self, resource_id: str) -> dict:
        """GET /resources/{id}."""
        return self.request("GET", f"/resources/{resource_id}").json()

    def resource_timeline(self, resource_id: str) -> list[dict]:
        """GET /resources/{id}/deliveries-inactivities: every delivery and inactivity of a consultant."""
        return self.request("GET", f"/resources/{resource_id}/deliveries-inactivities").json().get("data") or []

    def actions_of(self, entity: str, entity_id: str) -> Iterator[dict]:
        """GET /{entity}s/{id}/actions, paged by 100."""
        yield from self._paged(f"/{entity}s/{entity_id}/actions", {}, ACTIONS_PAGE)

    def deliveries_updated(self, start: str, end: str) -> Iterator[dict]:
        """GET /deliveries-groupments?period=updated: deliveries changed between two days."""
        params = {"period": "updated", "startDate": start, "endDate": end, "sort": "updateDate"}
        yield from self._paged("/deliveries-groupments", params, SEARCH_PAGE)

    def _paged(self, path: str, params: dict, page_size: int) -> Iterator[dict]:
        page = 1
        while True:
            body = self.request("GET", path, params={**params, "page": page, "maxResults": page_size}).json()
            rows = body.get("data") or []
            yield from rows
            total = ((body.get("meta") or {}).get("totals") or {}).get("rows", 0)
            if not rows or page * page_size >= int(total or 0):
                return
            page += 1

    # --- writes ----------------------------------------------------------------------------
    def create_action(self, document: dict) -> dict:
        """POST /actions; returns the created action."""
        return self.request("POST", "/actions", json=document).json().get("data") or {}

    def update_action(self, action_id: str, document: dict) -> dict:
        """PUT /actions/{id} (Boond answers 405 to PATCH)."""
        return self.request("PUT", f"/actions/{action_id}", json=document).json().get("data") or {}

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


def _first_error(response: requests.Response) -> dict:
    try:
        errors = response.json().get("errors") or [{}]
        return errors[0] if isinstance(errors[0], dict) else {}
    except (ValueError, AttributeError):
        return {}
