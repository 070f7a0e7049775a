"""Every Redis key Intermission writes, built by one typed function each: its owner and lifetime are found by name.
A key made of one part after a fixed prefix is declared in one line (`_Key`); the others are written out.

Tenant data lives under `im:t:<tenant>:` (so removing a tenant is one SCAN of `tenant_pattern`); the few global
keys are listed first. Each docstring says which module owns the key and how long it lives.
"""

from __future__ import annotations

from collections.abc import Callable


class _Key:
    """The builders of the keys made of one part, declared in one line each: their function, typed and documented by
    `doc` (its owner and lifetime), named after the declaration at the end of the module."""

    @staticmethod
    def under(prefix: str, doc: str) -> Callable[[str], str]:
        """`key(part)`: `prefix` then the part (a global key)."""

        def key(part: str) -> str:
            return prefix + part

        key.__doc__ = doc
        return key

    @staticmethod
    def tenant(suffix: str, doc: str) -> Callable[[str], str]:
        """`key(tenant)`: the tenant's prefix then `suffix` (a key the tenant has once)."""

        def key(tenant: str) -> str:
            return tenant_prefix(tenant) + suffix

        key.__doc__ = doc
        return key

    @staticmethod
    def tenant_part(infix: str, doc: str) -> Callable[[str, str], str]:
        """`key(tenant, part)`: the tenant's prefix, `infix`, then the part (a mission's, an event's, a person's…)."""

        def key(tenant: str, part: str) -> str:
            return tenant_prefix(tenant) + infix + part

        key.__doc__ = doc
        return key


# --- global -----------------------------------------------------------------------------------------------

TENANTS = "im:tenants"  # config.tenants: the set of tenant ids (forever)
DUE = "im:due"  # handlers.state.store: missions' next wake-up days, a sorted set (forever)
METRICS = "im:metrics"  # config.infra.metrics: every process's counters, one hash (forever)
ACK_PROBE = "im:ack"  # config.infra.redis_conn: written before WAIT to check replication (overwritten)
FORMAT = "im:format"  # handlers.state.formats: the version of every stored form (forever)
CLOCK = "im:clock:today"  # config.infra.clock: the pinned day of the demo and the tests (never set in production)
CRASH_COUNTER = "im:test:crash-counter"  # tests' crash point: host creates so far (never set in production)


def orphan_claim(job_id: str, worker: str) -> str:
    """handlers.intake.queues: one worker's claim on a job left by a dead worker (an hour)."""
    return f"im:orphan:{job_id}:{worker}"


def orphan_dequeued(job_id: str, enqueued_at: object) -> str:
    """handlers.intake.queues: a job already put back once after its worker died (an hour)."""
    return f"im:orphan:dequeued:{job_id}:{enqueued_at}"


org_binding = _Key.under(
    "im:sf-org:",
    "connectors.salesforce.org_binding: the tenant a Salesforce org is bound to (until disconnect).",
)
oauth_state = _Key.under(
    "im:oauth:state:",
    "webhooks.hosts.salesforce.connect: one OAuth flow's PKCE state, by hash (minutes).",
)
login_address = _Key.under(
    "im:login:addr:",
    "webhooks.admin.auth: one address's failed sign-ins, a hash: `*` for all, a field per made-up name (15 min).",
)
login_names = _Key.under(
    "im:login:names:",
    "webhooks.admin.auth: failed sign-ins on made-up names from every address, one hash per 15-minute window.",
)
login_all = _Key.under(
    "im:login:all:",
    "webhooks.admin.auth: every failed sign-in in one 15-minute window (the global ceiling).",
)


# --- per tenant -------------------------------------------------------------------------------------------


def tenant_prefix(tenant: str) -> str:
    """The prefix of every key of one tenant."""
    return f"im:t:{tenant}:"


def tenant_pattern(tenant: str) -> str:
    """A SCAN pattern matching every key of one tenant (config.tenants.remove)."""
    return f"im:t:{tenant}:*"


# the keys a tenant has once

tenant_config = _Key.tenant(
    "config",
    "config.tenants: the tenant's settings, encrypted (forever).",
)
mission_prefix = _Key.tenant(
    "mission:",
    "handlers.state.store: the prefix of the tenant's mission snapshots (the id follows).",
)
activity = _Key.tenant(
    "activity",
    "handlers.state.ledger.ActivityLog: the tenant's feed and, after it, its `:history`, `:missions`, `:sizes`, `:total` (capped).",
)
dirty = _Key.tenant(
    "dirty",
    "handlers.intake.ingest marks, handlers.sync.batch clears: missions waiting for the tenant's batch (until the batch did each).",
)
batch_pending = _Key.tenant(
    "batch-pending",
    "handlers.intake.ingest: set while a batch job of this tenant is queued and not yet started (the pending TTL).",
)
batch_lock = _Key.tenant(
    "lock:batch",
    "handlers.sync.batch: one batch job of a tenant at a time (the job timeout).",
)
setup_flow = _Key.tenant(
    "setup-flow",
    "webhooks.admin.views_setup: the set-up flow's screens confirmed so far, a hash (until the tenant is removed).",
)
held = _Key.tenant(
    "held",
    "handlers.sync.holds: missions held (re-consent, budget, long waits), a hash (until resumed).",
)
sweep_last = _Key.tenant(
    "sweep:last",
    "handlers.sync.sweep: when the scheduler last swept this tenant, epoch seconds (forever).",
)
attention = _Key.tenant(
    "attention",
    "handlers.state.attention: why the tenant needs its admin (code -> {detail, at}), a hash (until the cause clears).",
)
sweep_cursor = _Key.tenant(
    "sweep:cursor",
    "handlers.sync.sweep: where the re-read of known missions stopped when the change listing is refused (forever).",
)
sweep_refused = _Key.tenant(
    "sweep:refused",
    "handlers.sync.sweep: the host refused its change listing today (a day; one activity line a day).",
)
survey_optout = _Key.tenant(
    "survey-optout",
    "handlers.surveys.mail: addresses that asked for no survey e-mail, hashed (forever).",
)
survey_mail_failures = _Key.tenant(
    "survey-mail:failures",
    "handlers.surveys.mail: the latest refused survey e-mails, a capped list (forever).",
)
intake_failures = _Key.tenant(
    "intake-failures",
    "webhooks.intake_failures: refused webhook deliveries, a capped list (forever).",
)
pending_users_pattern = _Key.tenant(
    "pending-user:*",
    "A SCAN pattern matching the tenant's pending user tokens (handlers.hosts.boond.marketplace).",
)
sf_usage = _Key.tenant(
    "sf:usage",
    'connectors.salesforce (via handlers.hosts.salesforce.adapter): the org\'s API usage "used/limit" (a day).',
)
sf_tokens = _Key.tenant(
    "sf:tokens",
    "connectors.salesforce.tokens: the org's OAuth tokens, encrypted (until disconnect).",
)
needs_reconsent = _Key.tenant(
    "sf:needs-reconsent",
    "connectors.salesforce.tokens (any host's token store may set it): why an admin must connect again (until then).",
)
sf_refresh_lock = _Key.tenant(
    "sf:refresh-lock",
    "connectors.salesforce.tokens: one token refresh at a time (seconds).",
)
sf_cdc_replay = _Key.tenant(
    "sf:cdc:replay",
    "webhooks.hosts.salesforce.cdc: per change-event topic, the last admitted event's replay id and when (kept).",
)
sf_cdc_lock = _Key.tenant(
    "sf:cdc:lock",
    "webhooks.hosts.salesforce.cdc: the subscriber streaming this tenant (seconds, renewed while it streams).",
)
match_pending = _Key.tenant(
    "match-pending",
    "handlers.sync.matching: set while a matching run of this tenant is queued and not yet started (the pending TTL).",
)
match_opportunities = _Key.tenant(
    "match:opportunities",
    "handlers.sync.matching: the opportunities holding a suggestions task, a set (until it is withdrawn or settled).",
)
match_lock = _Key.tenant(
    "lock:match",
    "handlers.sync.matching: one matching run of a tenant at a time (the job timeout).",
)
# and one of per mission, event, person, address…
consultant_missions = _Key.tenant_part(
    "consultant:",
    "handlers.state.store: the missions seen for one consultant, a set (forever).",
)
ledger = _Key.tenant_part(
    "ledger:",
    "handlers.state.ledger: what we wrote in the host for one mission, a hash by step key (forever).",
)
surveys = _Key.tenant_part(
    "surveys:",
    "handlers.surveys.records: one mission's survey records, a hash holding the link tokens' seeds (forever).",
)
pending_sync = _Key.tenant_part(
    "pending:",
    "handlers.intake.ingest: set while a sync of this mission is queued and not yet started (the pending TTL).",
)
seen_event = _Key.tenant_part(
    "seen:",
    "handlers.intake.ingest: a host event already admitted, by its id (the dedupe TTL, 7 days by default).",
)
consultant_lock = _Key.tenant_part(
    "lock:consultant:",
    "handlers.sync.jobs: one consultant's missions are reconciled by one job at a time (the job timeout).",
)
survey_cap = _Key.tenant_part(
    "survey-cap:",
    "handlers.surveys.mail: e-mails sent to one address this period (the cap's window).",
)
pending_user = _Key.tenant_part(
    "pending-user:",
    "webhooks.admin: a Boond user token waiting for the admin's confirmation, encrypted (an hour).",
)
login_attempts = _Key.tenant_part(
    "login:",
    "webhooks.admin.auth: failed sign-ins on this workspace from one address, or from all (`*`) (15 minutes).",
)
match_replacements = _Key.tenant_part(
    "match:replacements:",
    "handlers.state.replacements: the replacement candidates of a mission the consultant ends early (90 days).",
)


def mission(tenant: str, mission_id: str) -> str:
    """handlers.state.store: one mission's last snapshot (forever)."""
    return mission_prefix(tenant) + mission_id


def missions_pattern(tenant: str) -> str:
    """A SCAN pattern matching the tenant's mission snapshots."""
    return mission_prefix(tenant) + "*"


def seen_webhook_id(tenant: str, webhook_id: str) -> str:
    """webhooks.hosts.salesforce.webhook: a Flow callout's `webhook-id` already admitted (the dedupe TTL)."""
    return seen_event(tenant, f"webhook-id:{webhook_id}")


def backfill(tenant: str, part: str = "") -> str:
    """handlers.sync.backfill: the install backfill's run hash, or its `todo`, `done`, `errors` parts (until rerun)."""
    return f"im:t:{tenant}:backfill" + (f":{part}" if part else "")


def survey_mail_sending(tenant: str, mission_id: str, role: str, *, kind: str) -> str:
    """handlers.surveys.mail: one e-mail being sent now (minutes; a second worker does not send it twice)."""
    return f"im:t:{tenant}:survey-mail:sending:{mission_id}:{role}:{kind}"


# --- per tenant, one host ---------------------------------------------------------------------------------


def sf_key_prefix(tenant: str, sobject: str) -> str:
    """connectors.salesforce.prefixes: an object's id prefix in this org (forever)."""
    return f"im:t:{tenant}:sf:key-prefix:{sobject.lower()}"


def sf_describe(tenant: str, sobject: str) -> str:
    """webhooks.admin.host_choices: an object's describe (field and relationship names) for the mapping page (an hour)."""
    return f"im:t:{tenant}:sf:describe:{sobject.lower()}"


def sf_invitation(tenant: str, mission_id: str, action_key: str) -> str:
    """handlers.hosts.salesforce.adapter: a survey invitation link made for one action (the survey's life)."""
    return f"im:t:{tenant}:sf:invitation:{mission_id}/{action_key}"


def cdc_streams() -> str:
    """webhooks.hosts.salesforce.cdc: each change-event stream's state, "<tenant> <topic>" → JSON (rewritten)."""
    return "im:cdc:streams"


def signed_request_seen(host: str, digest: str) -> str:
    """connectors (a host's marketplace): a signed request already used, by hash (its max age; 24 h when undated)."""
    return f"im:{host}:seen:{digest}"


# --- per tenant, any host (the host's name is a part: config names no host) ---------------------------------


def host_tokens(tenant: str, host: str) -> str:
    """connectors.tokens (a host's token store): the tenant's tokens for that host, encrypted (until uninstall)."""
    return f"im:t:{tenant}:{host}:tokens"


def any_host_tokens(tenant: str) -> str:
    """config.infra.crypto (key rotation): every host token store of a tenant, a SCAN pattern."""
    return host_tokens(tenant, "*")


def host_refresh_lock(tenant: str, host: str) -> str:
    """connectors.tokens (a host's token store): one token refresh at a time (seconds)."""
    return f"im:t:{tenant}:{host}:refresh-lock"


def host_ratelimit(tenant: str, host: str) -> str:
    """connectors.ratelimit (via a host's adapter): the tenant's shared token bucket for that host (seconds)."""
    return f"im:t:{tenant}:ratelimit:{host}"


def host_record(tenant: str, host: str, *, kind: str, record_id: str) -> str:
    """handlers.hosts (a host's reads): a people record (project, resource…) shared by the tenant's jobs (5 minutes)."""
    return f"im:t:{tenant}:{host}:rec:{kind}:{record_id}"


def host_dictionary(tenant: str, host: str) -> str:
    """handlers.hosts (a host's adapter): the tenant's dictionary in that host (states, action types), a day."""
    return f"im:t:{tenant}:{host}:dictionary"


# --- encrypted values -------------------------------------------------------------------------------------

# Keys whose whole value is encrypted (config.infra.crypto.rotate_all re-encrypts them under the newest key): a host's
# token store goes here. Survey link tokens are sealed inside `surveys` hashes and rotated apart.
ENCRYPTED = (tenant_config, any_host_tokens)


for _name, _built in list(globals().items()):  # each declared key named like its function (reprs, logs)
    if getattr(_built, "__qualname__", "").startswith("_Key."):
        _built.__name__ = _built.__qualname__ = _name
del _name, _built
