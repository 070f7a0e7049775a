"""Every Redis key Intermission writes, built by one typed function each: its owner and lifetime are found by name.

Tenant data lives under `im:t:<tenant>:` (so removing a tenant is one SCAN of `tenant_pattern`); the few global
keys are listed first. Each docstring says which module owns the key and how long it lives.
"""

from __future__ import annotations

# --- global -----------------------------------------------------------------------------------------------

TENANTS = "im:tenants"  # config.tenants: the set of tenant ids (forever)
DUE = "im:due"  # handlers.state.store: missions' next wake-up days, a sorted set (forever)
METRICS = "im:metrics"  # config.infra.metrics: every process's counters, one hash (forever)
ACK_PROBE = "im:ack"  # config.infra.redis_conn: written before WAIT to check replication (overwritten)
FORMAT = "im:format"  # handlers.state.formats: the version of every stored form (forever)
CLOCK = "im:clock:today"  # config.infra.clock: the pinned day of the demo and the tests (never set in production)
CRASH_COUNTER = "im:test:crash-counter"  # tests' crash point: host creates so far (never set in production)


def org_binding(org_id: str) -> str:
    """connectors.salesforce.org_binding: the tenant a Salesforce org is bound to (until disconnect)."""
    return f"im:sf-org:{org_id}"


def oauth_state(digest: str) -> str:
    """webhooks.hosts.salesforce.connect: one OAuth flow's PKCE state, by hash (minutes)."""
    return f"im:oauth:state:{digest}"


def signed_request_seen(host: str, digest: str) -> str:
    """connectors (a host's marketplace): a signed request already used, by hash (its max age; 24 h when undated)."""
    return f"im:{host}:seen:{digest}"


def login_address(digest: str) -> str:
    """webhooks.admin.auth: one address's failed sign-ins, a hash: `*` for all, a field per made-up name (15 min)."""
    return f"im:login:addr:{digest}"


def login_names(window: str) -> str:
    """webhooks.admin.auth: failed sign-ins on made-up names from every address, one hash per 15-minute window."""
    return f"im:login:names:{window}"


def login_all(window: str) -> str:
    """webhooks.admin.auth: every failed sign-in in one 15-minute window (the global ceiling)."""
    return f"im:login:all:{window}"


def orphan_claim(job_id: str, worker: str) -> str:
    """handlers.intake.queues: one worker's claim on a job left by a dead worker (an hour)."""
    return f"im:orphan:{job_id}:{worker}"


def orphan_dequeued(job_id: str, enqueued_at: object) -> str:
    """handlers.intake.queues: a job already put back once after its worker died (an hour)."""
    return f"im:orphan:dequeued:{job_id}:{enqueued_at}"


# --- per tenant -------------------------------------------------------------------------------------------


def tenant_prefix(tenant: str) -> str:
    """The prefix of every key of one tenant."""
    return f"im:t:{tenant}:"


def tenant_pattern(tenant: str) -> str:
    """A SCAN pattern matching every key of one tenant (config.tenants.remove)."""
    return f"im:t:{tenant}:*"


def tenant_config(tenant: str) -> str:
    """config.tenants: the tenant's settings, encrypted (forever)."""
    return f"im:t:{tenant}:config"


def mission_prefix(tenant: str) -> str:
    """handlers.state.store: the prefix of the tenant's mission snapshots (the id follows)."""
    return f"im:t:{tenant}:mission:"


def mission(tenant: str, mission_id: str) -> str:
    """handlers.state.store: one mission's last snapshot (forever)."""
    return mission_prefix(tenant) + mission_id


def missions_pattern(tenant: str) -> str:
    """A SCAN pattern matching the tenant's mission snapshots."""
    return mission_prefix(tenant) + "*"


def consultant_missions(tenant: str, consultant_id: str) -> str:
    """handlers.state.store: the missions seen for one consultant, a set (forever)."""
    return f"im:t:{tenant}:consultant:{consultant_id}"


def ledger(tenant: str, mission_id: str) -> str:
    """handlers.state.ledger: what we wrote in the host for one mission, a hash by step key (forever)."""
    return f"im:t:{tenant}:ledger:{mission_id}"


def activity(tenant: str) -> str:
    """handlers.state.ledger.ActivityLog: the tenant's feed and, after it, its `:history`, `:missions`, `:sizes`, `:total` (capped)."""
    return f"im:t:{tenant}:activity"


def surveys(tenant: str, mission_id: str) -> str:
    """handlers.surveys.records: one mission's survey records, a hash holding the link tokens' seeds (forever)."""
    return f"im:t:{tenant}:surveys:{mission_id}"


def pending_sync(tenant: str, mission_id: str) -> str:
    """handlers.intake.ingest: set while a sync of this mission is queued and not yet started (the pending TTL)."""
    return f"im:t:{tenant}:pending:{mission_id}"


def seen_event(tenant: str, event_id: str) -> str:
    """handlers.intake.ingest: a host event already admitted, by its id (the dedupe TTL, 7 days by default)."""
    return f"im:t:{tenant}:seen:{event_id}"


def seen_webhook_id(tenant: str, webhook_id: str) -> str:
    """webhooks.hosts.salesforce.webhook: a Flow callout's `webhook-id` already admitted (the dedupe TTL)."""
    return seen_event(tenant, f"webhook-id:{webhook_id}")


def dirty(tenant: str) -> str:
    """handlers.intake.ingest marks, handlers.sync.batch clears: missions waiting for the tenant's batch (until the batch did each)."""
    return f"im:t:{tenant}:dirty"


def batch_pending(tenant: str) -> str:
    """handlers.intake.ingest: set while a batch job of this tenant is queued and not yet started (the pending TTL)."""
    return f"im:t:{tenant}:batch-pending"


def batch_lock(tenant: str) -> str:
    """handlers.sync.batch: one batch job of a tenant at a time (the job timeout)."""
    return f"im:t:{tenant}:lock:batch"


def consultant_lock(tenant: str, person: str) -> str:
    """handlers.sync.jobs: one consultant's missions are reconciled by one job at a time (the job timeout)."""
    return f"im:t:{tenant}:lock:consultant:{person}"


def setup_flow(tenant: str) -> str:
    """webhooks.admin.views_setup: the set-up flow's screens confirmed so far, a hash (until the tenant is removed)."""
    return f"im:t:{tenant}:setup-flow"


def held(tenant: str) -> str:
    """handlers.sync.holds: missions held (re-consent, budget, long waits), a hash (until resumed)."""
    return f"im:t:{tenant}:held"


def sweep_last(tenant: str) -> str:
    """handlers.sync.sweep: when the scheduler last swept this tenant, epoch seconds (forever)."""
    return f"im:t:{tenant}:sweep:last"


def attention(tenant: str) -> str:
    """handlers.state.attention: why the tenant needs its admin (code -> {detail, at}), a hash (until the cause clears)."""
    return f"im:t:{tenant}:attention"


def sweep_cursor(tenant: str) -> str:
    """handlers.sync.sweep: where the re-read of known missions stopped when the change listing is refused (forever)."""
    return f"im:t:{tenant}:sweep:cursor"


def sweep_refused(tenant: str) -> str:
    """handlers.sync.sweep: the host refused its change listing today (a day; one activity line a day)."""
    return f"im:t:{tenant}:sweep:refused"


def backfill(tenant: str, part: str = "") -> str:
    """handlers.sync.backfill: the install backfill's run hash, or its `todo`, `done`, `errors` parts (until rerun)."""
    return f"im:t:{tenant}:backfill" + (f":{part}" if part else "")


def survey_optout(tenant: str) -> str:
    """handlers.surveys.mail: addresses that asked for no survey e-mail, hashed (forever)."""
    return f"im:t:{tenant}:survey-optout"


def survey_cap(tenant: str, digest: str) -> str:
    """handlers.surveys.mail: e-mails sent to one address this period (the cap's window)."""
    return f"im:t:{tenant}:survey-cap:{digest}"


def survey_mail_failures(tenant: str) -> str:
    """handlers.surveys.mail: the latest refused survey e-mails, a capped list (forever)."""
    return f"im:t:{tenant}:survey-mail:failures"


def survey_mail_sending(tenant: str, mission_id: str, role: str, kind: str) -> str:
    """handlers.surveys.mail: one e-mail being sent now (minutes; a second worker does not send it twice)."""
    return f"im:t:{tenant}:survey-mail:sending:{mission_id}:{role}:{kind}"


def intake_failures(tenant: str) -> str:
    """webhooks.intake_failures: refused webhook deliveries, a capped list (forever)."""
    return f"im:t:{tenant}:intake-failures"


def pending_user(tenant: str, nonce: str) -> str:
    """webhooks.admin: a Boond user token waiting for the admin's confirmation, encrypted (an hour)."""
    return f"im:t:{tenant}:pending-user:{nonce}"


def pending_users_pattern(tenant: str) -> str:
    """A SCAN pattern matching the tenant's pending user tokens (handlers.hosts.boond.marketplace)."""
    return f"im:t:{tenant}:pending-user:*"


def login_attempts(tenant: str, address: str) -> str:
    """webhooks.admin.auth: failed sign-ins on this workspace from one address, or from all (`*`) (15 minutes)."""
    return f"im:t:{tenant}:login:{address}"


# --- per tenant, one host ---------------------------------------------------------------------------------


def sf_usage(tenant: str) -> str:
    """connectors.salesforce (via handlers.hosts.salesforce.adapter): the org's API usage "used/limit" (a day)."""
    return f"im:t:{tenant}:sf:usage"


def sf_tokens(tenant: str) -> str:
    """connectors.salesforce.tokens: the org's OAuth tokens, encrypted (until disconnect)."""
    return host_tokens(tenant, "sf")


def needs_reconsent(tenant: str) -> str:
    """connectors.salesforce.tokens (any host's token store may set it): why an admin must connect again (until then)."""
    return f"im:t:{tenant}:sf:needs-reconsent"  # the name it had when only Salesforce set it


def sf_refresh_lock(tenant: str) -> str:
    """connectors.salesforce.tokens: one token refresh at a time (seconds)."""
    return f"im:t:{tenant}:sf:refresh-lock"


def sf_key_prefix(tenant: str, sobject: str) -> str:
    """connectors.salesforce.prefixes: an object's id prefix in this org (forever)."""
    return f"im:t:{tenant}:sf:key-prefix:{sobject.lower()}"


def sf_describe(tenant: str, sobject: str) -> str:
    """webhooks.admin.host_choices: an object's describe (field and relationship names) for the mapping page (an hour)."""
    return f"im:t:{tenant}:sf:describe:{sobject.lower()}"


def sf_invitation(tenant: str, mission_id: str, action_key: str) -> str:
    """handlers.hosts.salesforce.adapter: a survey invitation link made for one action (the survey's life)."""
    return f"im:t:{tenant}:sf:invitation:{mission_id}/{action_key}"


def sf_cdc_replay(tenant: str) -> str:
    """handlers.hosts.salesforce.cdc: per change-event topic, the last admitted event's replay id and when (kept)."""
    return f"im:t:{tenant}:sf:cdc:replay"


def sf_cdc_lock(tenant: str) -> str:
    """handlers.hosts.salesforce.cdc: the subscriber streaming this tenant (seconds, renewed while it streams)."""
    return f"im:t:{tenant}:sf:cdc:lock"


def cdc_streams() -> str:
    """handlers.hosts.salesforce.cdc: each change-event stream's state, "<tenant> <topic>" → JSON (rewritten)."""
    return "im:cdc:streams"


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


def host_record(tenant: str, host: str, kind: str, record_id: str) -> str:
    """handlers.hosts (a host's reads): a people record (project, resource…) shared by the tenant's jobs (5 minutes)."""
    return f"im:t:{tenant}:{host}:rec:{kind}:{record_id}"


def host_dictionary(tenant: str, host: str) -> str:
    """handlers.hosts (a host's adapter): the tenant's dictionary in that host (states, action types), a day."""
    return f"im:t:{tenant}:{host}:dictionary"


def match_pending(tenant: str) -> str:
    """handlers.sync.matching: set while a matching run of this tenant is queued and not yet started (the pending TTL)."""
    return f"im:t:{tenant}:match-pending"


def match_opportunities(tenant: str) -> str:
    """handlers.sync.matching: the opportunities holding a suggestions task, a set (until it is withdrawn or settled)."""
    return f"im:t:{tenant}:match:opportunities"


def match_replacements(tenant: str, mission_id: str) -> str:
    """handlers.state.replacements: the replacement candidates of a mission the consultant ends early (90 days)."""
    return f"im:t:{tenant}:match:replacements:{mission_id}"


def match_lock(tenant: str) -> str:
    """handlers.sync.matching: one matching run of a tenant at a time (the job timeout)."""
    return f"im:t:{tenant}:lock:match"


# --- encrypted values -------------------------------------------------------------------------------------

# Keys whose whole value is encrypted (config.infra.crypto.rotate_all re-encrypts them under the newest key): a host's
# token store goes here. Survey link tokens are sealed inside `surveys` hashes and rotated apart.
ENCRYPTED = (tenant_config, any_host_tokens)
