"""The admin pages' host part: what the overview, the connection test, the mapping page and the timeline ask a host.

A host names its part in its registry line (`Host.web.pages`, "module:attribute"); `pages_for(tenant)` loads it.
`HostPages` holds the defaults, right for a host with nothing to set up (the test host): a host subclasses it and
overrides what it has (webhooks/hosts/boond/admin_pages.py, webhooks/hosts/salesforce/admin_pages.py).
"""

from __future__ import annotations

from typing import NamedTuple

from config.tenants import Tenant
from handlers.hosts.registry import host_of, load
from webhooks.admin.i18n import say


class MappingUpdate(NamedTuple):
    """The tenant with the form's mapping, and the errors by field name (saved only when there are none)."""

    tenant: Tenant
    errors: dict[str, str]


class MappingCheck(NamedTuple):
    """What is wrong with the tenant's mapping against the host (none: fine), and what was checked."""

    problems: list[str]
    checked: str


class StateRows(NamedTuple):
    """The host's own states with their case, and whether a proposal awaits confirmation."""

    rows: list[dict]
    proposed: bool


class HostPages:
    """Defaults: connected, nothing to configure or disconnect, a test call that checks nothing, no mapping, no link."""

    def status(self, tenant) -> dict:
        """The overview's connection line: {'connected', 'label' (a word key), 'detail'}."""
        return {"connected": True, "label": "connected", "detail": ""}

    def ready(self, tenant) -> bool:
        """Whether the tenant's set-up lets it run (the kill switch refuses to resume it otherwise)."""
        return True

    def frame_origins(self, tenant) -> tuple[str, ...]:
        """The origins whose pages may frame this tenant's admin pages (CSP frame-ancestors): the host's list."""
        return host_of(tenant).web.iframe_origins

    def configure_card(self, tenant) -> dict | None:
        """The overview's set-up card while the tenant still needs one (None: no card)."""
        return None

    def delivery_card(self, tenant) -> dict | None:
        """Where the host sends its changes, as the admin sets it up there: {'message' (a word key), 'lines'}."""
        return None

    def configure(self, admin):
        """Handle the set-up card's form (a Flask response); None: this host has no set-up form."""
        return None

    def disconnect_form(self, tenant) -> dict | None:
        """The overview's disconnect button: {'action', 'token', 'csrf'} (None: no button)."""
        return None

    def connect_form(self, tenant) -> dict | None:
        """The overview's connect (or reconnect) button: {'action', 'id', 'label' (a word key)} (None: no button)."""
        return None

    def test_call(self, tenant, adapter, lang: str) -> str:
        """Call the host once with the tenant's credentials; the success message (a HostError otherwise)."""
        return say("test_ok", lang, host=host_of(tenant).label)

    def check_mapping(self, tenant, adapter, lang: str) -> MappingCheck | None:
        """(problems, what was checked) of the tenant's mapping against the host; None: no mapping to check."""
        return None

    def record_url(self, tenant, host_id: str) -> str | None:
        """Where a person opens one of our records in the host (None: no link)."""
        return None

    def mapping_fields(self, tenant) -> list[dict]:
        """The mapping page's fields: {'name', 'label', 'value', 'help'} each."""
        return []

    def mapping_choices(self, tenant, fields: list[dict]) -> dict[str, list[tuple]]:
        """What the host offers for each field, by field name (host_choices.HostUnreadable when it cannot say)."""
        return {}

    def mapping_update(self, tenant, form) -> MappingUpdate:
        """(the tenant with the form's mapping, errors by field name): saved only when there are no errors."""
        return MappingUpdate(tenant, {})

    def mapping_states(self, tenant) -> StateRows:
        """(the host's own states with their case, whether a proposal awaits confirmation)."""
        return StateRows([], False)

    def restated(self, tenant, snapshot):
        """The snapshot's host facts as `tenant`'s mapping reads them (a mapping's dry run); as it is by default."""
        return snapshot

    def setup_states(self, tenant) -> list[dict] | None:
        """The set-up flow's state screen: {'kind', 'id', 'label', 'cases', 'selected'} rows (None: no such screen)."""
        return None

    def setup_states_save(self, tenant, form):
        """The tenant with the states chosen on the set-up flow's screen."""
        return tenant


PAGES = HostPages()


def pages_for(tenant) -> HostPages:
    """The admin pages' part of the tenant's host."""
    return load(host_of(tenant).web.pages)
