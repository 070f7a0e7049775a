"""In-memory state of the Boond sandbox: configuration, credentials, seed data, outbox, counters."""
from __future__ import annotations

import copy
import threading
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo("Europe/Paris")
APP_TOKEN, APP_KEY = "sbx-app-token", "sbx-app-key-0123456789"
CLIENT_TOKEN, CLIENT_KEY = "sbx-client", "sbx-client-key-0123456789"
ADMIN_USER_TOKEN = "sbx-user-admin"
SEED_TIME = "2026-01-02T09:00:00+0100"

# appToken -> (appKey, the tenant's clientToken); clientToken -> clientKey; userToken -> resource id.
APPS = {APP_TOKEN: (APP_KEY, CLIENT_TOKEN)}
CLIENTS = {CLIENT_TOKEN: CLIENT_KEY}
USERS = {ADMIN_USER_TOKEN: "1", "sbx-user-claire": "2"}


@dataclass
class SandboxConfig:
    """Run-time knobs of the sandbox (all changeable through POST /_control/config)."""

    rate_limit_per_10s: int = 200
    jwt_max_age_seconds: int | None = None
    actions_max_page: int = 100
    deliver_webhooks: bool = True
    webhook_timeout: float = 5.0
    marketplace_app_key: str = APP_KEY  # signs the marketplace calls and the app tokens issued at install
    app_token_ttl_seconds: int | None = None  # None: install tokens are permanent; else temporary, with refresh
    webhooks_api_allowed: bool = True  # False: POST /api/webhooks answers 403 (the admin must paste the URL)
    dialect: str = "documented"  # or "observed": the variants of reference §10 (see dialect.py)
    schema_path: str | None = None  # Boond's RAML build (spec.json.gz): request bodies it refuses get a 422

    def update(self, changes: dict) -> None:
        """Apply known fields from a dict; unknown keys raise KeyError."""
        names = {f.name for f in fields(self)}
        for key, value in changes.items():
            if key not in names:
                raise KeyError(key)
            setattr(self, key, value)

    def as_dict(self) -> dict:
        """Plain dict view."""
        return asdict(self)


def now_text() -> str:
    """Current time in Boond's datetime format (no colon in the offset)."""
    return datetime.now(TIMEZONE).strftime("%Y-%m-%dT%H:%M:%S%z")


def today_text() -> str:
    """Current date in the tenant's time zone, YYYY-MM-DD."""
    return datetime.now(TIMEZONE).date().isoformat()


def record(attributes: dict, **rels) -> dict:
    """A stored entity: attributes plus relationships as (type, id) or None."""
    return {"attributes": attributes, "rels": rels}


def _person(first: str, last: str, email: str, title: str, **rels) -> dict:
    """A seeded resource."""
    attrs = {"firstName": first, "lastName": last, "email1": email, "title": title,
             "state": 1, "typeOf": 0, "creationDate": SEED_TIME, "updateDate": SEED_TIME}
    return record(attrs, **{"mainManager": None, "hrManager": None, **rels})


def seed_db() -> dict[str, dict[str, dict]]:
    """The seeded tenant: five resources, one client company with its contact, an opportunity, a project."""
    res = lambda rid: ("resource", rid)  # noqa: E731
    return {
        "resource": {
            "1": _person("Alex", "Admin", "alex.admin@esn-sandbox.example", "Technical user"),
            "2": _person("Claire", "Martin", "claire.martin@esn-sandbox.example", "Manager"),
            "3": _person("Hugo", "Bernard", "hugo.bernard@esn-sandbox.example", "Business engineer"),
            "4": _person("Inès", "Moreau", "ines.moreau@esn-sandbox.example", "HR"),
            "7": _person("Jean", "Dupont", "jean.dupont@esn-sandbox.example", "Consultant",
                         mainManager=res("2"), hrManager=res("4")),
        },
        "company": {"10": record({"name": "Acme Industrie", "creationDate": SEED_TIME,
                                  "updateDate": SEED_TIME}, mainManager=res("3"))},
        "contact": {"11": record({"firstName": "Sophie", "lastName": "Leroy",
                                  "email1": "sophie.leroy@acme-industrie.example",
                                  "creationDate": SEED_TIME, "updateDate": SEED_TIME},
                                 company=("company", "10"), mainManager=res("3"))},
        "opportunity": {"50": record({"title": "Acme Industrie - data platform", "reference": "AO50",
                                      "creationDate": SEED_TIME, "updateDate": SEED_TIME},
                                     mainManager=res("3"), company=("company", "10"),
                                     contact=("contact", "11"))},
        "project": {"45": record({"reference": "PRJ45", "typeOf": 1, "mode": 1, "state": 1,
                                  "creationDate": SEED_TIME, "updateDate": SEED_TIME},
                                 company=("company", "10"), contact=("contact", "11"),
                                 mainManager=res("2"), opportunity=("opportunity", "50"))},
        "delivery": {},
        "action": {},
        "inactivity": {},
    }


FIRST_IDS = {"delivery": 100, "inactivity": 700, "action": 1000, "event": 5000, "log": 9000, "webhook": 1}


@dataclass
class SandboxState:
    """Everything the sandbox remembers; mutate it only while holding `lock`."""

    config: SandboxConfig = field(default_factory=SandboxConfig)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self._initial_config = copy.deepcopy(self.config)
        self.reset()

    def reset(self) -> None:
        """Back to the seed: data, actions, events, webhooks, faults, counters and config."""
        with self.lock:
            self.config.update(copy.deepcopy(self._initial_config).as_dict())
            self.db = seed_db()
            self.webhooks: list[dict] = []
            self.events: list[dict] = []
            self.faults: list = []
            self.calls: list[tuple[str, str, str]] = []
            self.rate_windows: dict[str, list[float]] = {}
            self.app_tokens: dict[str, dict] = {}  # marketplace appToken -> {client_token, expires_at, ...}
            self.refresh_tokens: dict[str, str] = {}  # refreshToken -> the appToken it renews
            self._next = dict(FIRST_IDS)

    def next_id(self, kind: str) -> str:
        """A fresh numeric id, serialised as a string."""
        with self.lock:
            value = self._next[kind]
            self._next[kind] = value + 1
            return str(value)

    def get(self, kind: str, entity_id: str) -> dict | None:
        """The stored entity, or None."""
        return self.db.get(kind, {}).get(str(entity_id))

    def deliveries_of(self, resource_id: str) -> list[tuple[str, dict]]:
        """(id, record) of every delivery whose dependsOn is that resource, by id."""
        return [(did, rec) for did, rec in sorted_items(self.db["delivery"])
                if rec["rels"]["dependsOn"] == ("resource", resource_id)]

    def inactivities_of(self, resource_id: str) -> list[tuple[str, dict]]:
        """(id, record) of every inactivity of that resource, by id."""
        return [(iid, rec) for iid, rec in sorted_items(self.db["inactivity"])
                if rec["rels"]["resource"] == ("resource", resource_id)]

    def actions_of(self, kind: str, entity_id: str) -> list[tuple[str, dict]]:
        """(id, record) of every action attached to that entity, by id."""
        return [(aid, rec) for aid, rec in sorted_items(self.db["action"])
                if rec["rels"]["dependsOn"] == (kind, entity_id)]


def sorted_items(table: dict[str, dict]) -> list[tuple[str, dict]]:
    """Items of a table sorted by numeric id."""
    return sorted(table.items(), key=lambda item: int(item[0]))
