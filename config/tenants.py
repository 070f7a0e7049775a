"""Tenants: their host credentials, mappings and playbook overrides, stored encrypted in Redis."""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from typing import Annotated, Any, Literal, TypeVar

from cryptography.fernet import InvalidToken
from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, SerializeAsAny, ValidationError, ValidationInfo, field_validator,
                      model_validator)

from config import keys
from config.infra import crypto
from config.infra.redis_conn import get_redis
from config.settings import get_settings

log = logging.getLogger(__name__)

TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
INDEX_KEY = keys.TENANTS


class TenantError(ValueError):
    """A tenant definition an admin must fix."""


class KeyMismatch(TenantError):
    """A tenant stored under an encryption key this process does not have (issue #30): named, with the fix."""

    def __init__(self, tenant_id: str):
        self.tenant_id = tenant_id
        super().__init__(f"tenant {tenant_id!r} was stored with an encryption key this process does not have: give "
                         "every process the same INTERMISSION_SECRET_KEYS (newest first, the old ones kept until "
                         "`intermission keys rotate` has run), then restart this one")


_MISMATCHED: set[str] = set()  # tenants this process could not decrypt (for /readyz), until one decrypt works


def key_mismatches() -> list[str]:
    """The tenants this process found stored under a key it lacks, since it started (or last read them well)."""
    return sorted(_MISMATCHED)


def secret(default: Any = None, **kwargs) -> Any:
    """A settings field that is a secret: masked by `Tenant.redacted()` (`tenant show`), never shown to admins."""
    return Field(default=default, json_schema_extra={"secret": True}, **kwargs)


# A URL a host's settings hold, kept without its trailing slash (paths are appended to it).
BaseUrl = Annotated[str, AfterValidator(lambda value: value.rstrip("/"))]


def secret_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of a settings model marked `secret()`."""
    return tuple(name for name, info in model.model_fields.items()
                 if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("secret"))


class SurveyEmail(BaseModel):
    """The tenant's own SMTP server for survey e-mails (stored with the tenant, encrypted at rest)."""

    model_config = ConfigDict(extra="forbid")
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"  # STARTTLS on 587, implicit TLS on 465
    username: str | None = None
    password: str | None = secret()
    sender: str = Field(pattern=r"^[^@\s<>]+@[^@\s<>]+$")  # the From address
    sender_name: str = ""
    reply_to: str | None = None
    timeout_seconds: float = Field(default=20.0, gt=0, le=120)


class SurveySettings(BaseModel):
    """End-of-mission surveys: link lifetime, reminder delay and what counts as a low answer."""

    model_config = ConfigDict(extra="forbid")
    link_max_age_days: int = Field(default=30, ge=0, le=365)  # counted from the day the survey is sent
    reminder_days: int = Field(default=5, ge=1, le=60)  # business days without an answer before the reminder
    low_satisfaction: int = Field(default=2, ge=0, le=5)  # a satisfaction at or below this is low
    low_nps: int = Field(default=6, ge=-1, le=10)  # a recommendation score at or below this is low
    # issue #17: sent by e-mail when the host has no survey tool for the tenant and an SMTP server is set
    email: SurveyEmail | None = None
    cap_days: int = Field(default=90, ge=0, le=730)  # at most one survey e-mail per person in this many days


class BenchSettings(BaseModel):
    """The bench dashboard's money: a default daily cost, the margin on mission, the gross salary for mécénat."""

    model_config = ConfigDict(extra="forbid")
    default_daily_cost: float | None = Field(default=None, gt=0, le=100000)  # € per working day, when the host has none
    daily_margin: float | None = Field(default=None, gt=0, le=100000)  # € a consultant on mission earns per day
    gross_daily_salary: float | None = Field(default=None, gt=0, le=100000)  # € per day; else daily cost / 1.5


class MatchSettings(BaseModel):
    """Opportunity matching (issue #29): off until the tenant turns it on; what it may write."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = False  # suggest consultants coming back to the business engineers of open opportunities
    per_consultant: int = Field(default=3, ge=1, le=20)  # a consultant is suggested for at most this many opportunities
    positionings: bool = False  # Boond: also position them ("Positionné", no e-mail) on those opportunities
    digest_every_days: int = Field(default=0, ge=0, le=90)  # business engineers' digest of who comes back; 0: off

    @property
    def runs(self) -> bool:
        """Whether matching runs at all (suggestions, or the digest alone)."""
        return self.enabled or self.digest_every_days > 0


OwnerRole = Literal["manager", "business_engineer", "hr"]


class PlanningSettings(BaseModel):
    """The planner's tenant knobs: late discovery, the bench's occupation threshold, default owners per role."""

    model_config = ConfigDict(extra="forbid")
    stale_after_days: int = Field(default=30, ge=0, le=3650)  # first seen later than this after its end: no end steps
    bench_threshold: int = Field(default=50, ge=1, le=100)  # below this summed occupation elsewhere: on the bench
    default_owners: dict[OwnerRole, str] = Field(default_factory=dict)  # role → host user id when the chain is empty
    chain_by: Literal["project", "client"] = "project"  # a next mission right after on the same … continues this one
    daily_cap: int = Field(default=5, ge=1, le=50)  # late steps spread so one person gets at most this many a day
    default_owner_names: dict[OwnerRole, str] = Field(default_factory=dict)  # their names, as the host gave them

    @field_validator("default_owners")
    @classmethod
    def _ids(cls, value: dict[str, str]) -> dict[str, str]:
        cleaned = {role: str(ident).strip() for role, ident in value.items() if str(ident or "").strip()}
        for role, ident in cleaned.items():
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", ident):
                raise ValueError(f"default owner for {role}: {ident!r} is not a host user id")
        return cleaned


def check_region(country: str, subdivision: str | None = None) -> None:
    """Raise TenantError (naming the known codes) unless the `holidays` package knows this country and region."""
    import holidays  # ~1 s the first time in a process: only paid when a tenant leaves the FR default

    supported = holidays.list_supported_countries()
    if country not in supported:
        raise TenantError(f"unknown country code {country!r}: use an ISO code the holidays package knows "
                          "(FR, BE, CH, LU, DE, ES…)")
    if subdivision and subdivision not in supported[country]:
        known = ", ".join(supported[country]) or "none"
        raise TenantError(f"unknown subdivision {subdivision!r} for {country} (known: {known}; "
                          "Moselle is 57, Alsace 6AE)")


def check_timezone(zone: str) -> None:
    """Raise TenantError unless `zone` is an IANA time zone (Europe/Paris, America/Montreal…)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        if not zone or zone != zone.strip() or ".." in zone:
            raise ValueError(zone)
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise TenantError(f"unknown time zone {zone!r}: use an IANA name such as Europe/Paris or "
                          "America/Montreal") from None


def in_words(exc: Exception) -> str:
    """A tenant's validation error as one sentence per field (no pydantic wording, no link to its docs)."""

    if not isinstance(exc, ValidationError):
        return str(exc)
    parts = []
    for error in exc.errors():
        where = ".".join(str(x) for x in error.get("loc") or ())
        cause = (error.get("ctx") or {}).get("error")
        text = str(cause) if cause is not None else error.get("msg", "")
        parts.append(f"{where}: {text.removeprefix('Value error, ')}" if where else text)
    return "; ".join(parts)


# The hosts a tenant may name, each with the model of its settings (None: the host needs none). Config names no host:
# handlers.hosts.registry.register() fills this from each host's registry line (a built-in host, or a test host).
HOST_SETTINGS: dict[str, type[BaseModel] | None] = {}

SettingsModel = TypeVar("SettingsModel", bound=BaseModel)


def register_host(name: str, settings: type[BaseModel] | None) -> None:
    """Let tenants name this host, its settings validated by `settings` (handlers.hosts.registry.register calls it)."""
    HOST_SETTINGS[name] = settings


def unregister_host(name: str) -> None:
    """Forget a host registered by a test."""
    HOST_SETTINGS.pop(name, None)


class Tenant(BaseModel):
    """One customer installation on one host."""

    model_config = ConfigDict(extra="forbid")
    id: str
    host: str  # a registered host (HOST_SETTINGS)
    name: str = ""
    language: Literal["fr", "en"] = "fr"
    timezone: str = "Europe/Paris"
    country: str = "FR"
    subdivision: str | None = None  # a region of `country` with its own public holidays (FR: 57 Moselle, 6AE Alsace)
    enabled: bool = True
    # marketplace lifecycle: installed without a technical user yet, or uninstalled (secrets gone, data kept)
    status: Literal["active", "needs_configuration", "uninstalled"] = "active"
    webhook_secret: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    # the host's settings, of the model its registry line names (credentials, its mapping); None until set (a
    # marketplace install not configured yet) or when the host needs none. Read them with `settings_as(Model)`.
    host_settings: SerializeAsAny[BaseModel] | None = None
    playbook_overrides: dict = Field(default_factory=dict)
    surveys: SurveySettings = Field(default_factory=SurveySettings)
    planning: PlanningSettings = Field(default_factory=PlanningSettings)
    admin_password_hash: str | None = None  # standalone admin login (werkzeug.security hash)
    # an action someone edited whose plan went away (end cleared, restaffed…): closed with a note, or left open
    edited_on_cancel: Literal["close", "leave"] = "close"
    bench: BenchSettings = Field(default_factory=BenchSettings)  # the bench dashboard's cost figures
    matching: MatchSettings = Field(default_factory=MatchSettings)  # opportunity matching (issue #29)
    # install backfill (issue #17): missions ending in the next `backfill_days` are planned right after set-up, and
    # those ended in the last `bench_lookback_days` (their consultants may be on the bench)
    backfill_days: int = Field(default=90, ge=1, le=730)
    bench_lookback_days: int = Field(default=30, ge=0, le=365)
    auth_epoch: int = 0  # carried by admin tokens and connect links; uninstall bumps it, which revokes them all
    # issue #27: False while the set-up is incomplete (added without everything, or installed from a marketplace):
    # the tenant's changes are queued and held (handlers/sync/holds.py) until the set-up flow or `tenant setup` ends
    setup_complete: bool = True

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not TENANT_ID.match(value):
            raise ValueError("tenant id must be 2-63 lower-case letters, digits or dashes")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        check_timezone(value)
        return value

    @field_validator("host")
    @classmethod
    def _known_host(cls, value: str) -> str:
        if value not in HOST_SETTINGS:
            known = ", ".join(sorted(HOST_SETTINGS)) or "none: this process has not loaded handlers.hosts.registry"
            raise ValueError(f"unknown host {value!r} (known: {known})")
        return value

    @field_validator("host_settings", mode="before")
    @classmethod
    def _host_model(cls, value: Any, info: ValidationInfo) -> Any:
        """The stored settings (a dict) read by the model the tenant's host registered; that model's object as is."""
        model = HOST_SETTINGS.get(info.data.get("host", ""))
        if value is None or model is None:
            if value is not None:
                raise ValueError("this host has no settings")
            return None
        if isinstance(value, model):
            return value
        if isinstance(value, BaseModel) or not isinstance(value, dict):
            raise ValueError(f"expected the host's settings ({model.__name__})")
        try:
            return model.model_validate(value)
        except ValidationError as exc:
            raise ValueError(in_words(exc)) from None

    def settings_as(self, model: type[SettingsModel]) -> SettingsModel | None:
        """The host's settings when they are a `model` (a host's package asks for its own), else None."""
        return self.host_settings if isinstance(self.host_settings, model) else None

    @model_validator(mode="after")
    def _known_region(self) -> "Tenant":
        self.subdivision = (self.subdivision or "").strip() or None
        if (self.country, self.subdivision) != ("FR", None):
            check_region(self.country, self.subdivision)
        return self

    def webhook_url(self, base_url: str | None = None) -> str:
        """The URL an admin pastes into the host's webhook settings."""
        base = (base_url or get_settings().public_base_url).rstrip("/")
        return f"{base}/webhooks/{self.host}/{self.id}/{self.webhook_secret}"

    def webhook_endpoint(self, base_url: str | None = None) -> str:
        """The path-free form (issue #30), for a sender that can add `Authorization: Bearer <webhook_secret>`."""
        return self.webhook_url(base_url).rpartition("/")[0]

    def redacted(self) -> dict:
        """The tenant as JSON with every secret masked (for `tenant show`): the fields marked `secret()`, at any depth."""
        data = _masked(self, self.model_dump(mode="json"))
        data["webhook_secret"] = _mask(self.webhook_secret)
        data["admin_password_hash"] = "set" if self.admin_password_hash else None
        return data


def auth_marks(tenant: Tenant | None) -> dict:
    """What an admin token or a connect link rests on (issue #30): the auth epoch (an uninstall bumps it), this
    tenant's creation (a digest of its webhook secret, new when an id is removed and added again) and its admin
    password (changing it ends every link made before)."""
    if tenant is None:
        return {"e": 0}
    return {"e": tenant.auth_epoch, "i": _mark("instance", tenant.webhook_secret),
            "p": _mark("password", tenant.admin_password_hash or "")}


def marks_match(payload: dict, tenant: Tenant) -> bool:
    """Whether a token's marks are the tenant's current ones."""
    return all(hmac.compare_digest(str(payload.get(k, "")), str(v)) for k, v in auth_marks(tenant).items())


def _mark(kind: str, value: str) -> str:
    return hashlib.sha256(f"intermission-{kind}:{value}".encode()).hexdigest()[:12]


def may_run_jobs(tenant: Tenant | None) -> bool:
    """Whether a job may work for this tenant: it exists, is enabled and is not uninstalled (whatever `enabled` says).

    The worker's pipeline calls it before any host call; an uninstalled tenant never runs a job."""
    return tenant is not None and tenant.enabled and tenant.status != "uninstalled"


def _masked(model: BaseModel, data: dict) -> dict:
    """`data` (the model dumped) with the model's secret fields masked, and those of the models it holds."""
    for name in secret_fields(type(model)):
        data[name] = _mask(data[name])
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            _masked(value, data[name])
    return data


def _mask(value: str | None) -> str | None:
    return None if value is None else (value[:3] + "…" if len(value) > 6 else "…")


def _key(tenant_id: str) -> str:
    return keys.tenant_config(tenant_id)


def save(tenant: Tenant) -> None:
    """Store (encrypted) and index a tenant."""
    blob = crypto.encrypt(tenant.model_dump_json().encode())
    pipe = get_redis().pipeline()
    pipe.set(_key(tenant.id), blob)
    pipe.sadd(INDEX_KEY, tenant.id)
    pipe.execute()


def get(tenant_id: str, *, clearing: str | None = None) -> Tenant | None:
    """The tenant, or None when unknown (or the id is not even well-formed). `clearing`: a key deleted first, in
    the same round trip (a job's pending flag: each write round trip waits for the disk, docs/PERFORMANCE.md)."""
    conn = get_redis()
    if not TENANT_ID.match(tenant_id or ""):
        if clearing:
            conn.delete(clearing)
        return None
    if clearing:
        pipe = conn.pipeline(transaction=False)
        pipe.delete(clearing)
        pipe.get(_key(tenant_id))
        blob = pipe.execute()[1]
    else:
        blob = conn.get(_key(tenant_id))
    if blob is None:
        return None
    return parse(blob, tenant_id)


def parse(blob: bytes, tenant_id: str = "?") -> Tenant:
    """A tenant from its stored (encrypted) record; KeyMismatch naming it when no key of this process opens it."""
    try:
        clear = crypto.decrypt(blob)
    except InvalidToken:
        if tenant_id not in _MISMATCHED:
            _MISMATCHED.add(tenant_id)
            log.error("%s", KeyMismatch(tenant_id))
        raise KeyMismatch(tenant_id) from None
    _MISMATCHED.discard(tenant_id)
    return Tenant.model_validate_json(clear)


def require(tenant_id: str) -> Tenant:
    """The tenant, or a TenantError naming it."""
    tenant = get(tenant_id)
    if tenant is None:
        raise TenantError(f"unknown tenant '{tenant_id}'")
    return tenant


def list_ids() -> list[str]:
    """Every tenant id, sorted."""
    return sorted(x.decode() for x in get_redis().smembers(INDEX_KEY))


def remove(tenant_id: str) -> bool:
    """Delete a tenant's configuration and every key under its namespace."""
    if not TENANT_ID.match(tenant_id or ""):
        return False  # never let an id act as a SCAN pattern
    r = get_redis()
    existed = bool(r.srem(INDEX_KEY, tenant_id))
    for key in r.scan_iter(match=keys.tenant_pattern(tenant_id), count=500):
        r.delete(key)
    return existed
