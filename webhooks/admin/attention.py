"""What needs the admin's attention, in one place on the overview (issue #27, point 7).

`items(tenant, lang)` gathers every source: the set-up not finished, a state mapping proposed but not confirmed,
the kill switch, missions held (with why), failed jobs (with a plain reason and a Retry button). Each item is a
dict {"kind", "text", "retry" (a failed job's id, or None), "link" (an admin endpoint, or None)}; another source
(a failed install backfill, issue #26: `_flagged`) adds itself to SOURCES with the same shape.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from config.infra.redis_conn import get_redis
from webhooks.admin.i18n import say, word

REASONS = {  # a failed job's last exception → what it means, in words
    "HostUnavailable": "why_unavailable", "HostAuthError": "why_auth", "HostConsentRequired": "why_consent",
    "HostForbidden": "why_forbidden", "HostNotFound": "why_not_found", "HostValidationError": "why_refused",
    "HostRateLimited": "why_rate", "HostBudgetExhausted": "why_budget", "JobTimeoutException": "why_timeout",
}
HELD = {"set-up incomplete": "held_setup", "API budget spent": "held_budget", "REQUEST_LIMIT_EXCEEDED": "held_budget"}


def failure_reason(error_line: str, lang: str) -> str:
    """A dead letter's last line ('connectors.errors.HostUnavailable: …') as a plain reason."""
    name = error_line.split(":", 1)[0].rsplit(".", 1)[-1].strip()
    return word(REASONS.get(name, "why_unexpected"), lang)


def _setup(tenant, lang: str) -> list[dict]:
    if tenant.setup_complete:
        return []
    return [{"kind": "setup", "text": word("attention_setup", lang), "retry": None, "link": "admin.setup_page"}]


def _mapping(tenant, lang: str) -> list[dict]:
    from webhooks.admin.host_pages import pages_for

    _rows, proposed = pages_for(tenant).mapping_states(tenant)
    if not proposed or not tenant.setup_complete:
        return []
    return [{"kind": "mapping", "text": word("attention_mapping", lang), "retry": None, "link": "admin.mapping"}]


def _paused(tenant, lang: str) -> list[dict]:
    if tenant.enabled or not tenant.setup_complete:
        return []
    return [{"kind": "paused", "text": word("attention_paused", lang), "retry": None, "link": None}]


def _held(tenant, lang: str) -> list[dict]:
    from handlers.sync.holds import held

    found = held(get_redis(), tenant.id)
    if not found:
        return []
    why = Counter(HELD.get(h["reason"], "held_consent" if "consent" in h["reason"] else "held_wait")
                  for h in found.values())
    text = "; ".join(say("attention_held", lang, n=n, why=word(key, lang)) for key, n in sorted(why.items()))
    return [{"kind": "held", "text": text, "retry": None, "link": None}]


def failures_of(tenant_id: str) -> list[dict]:
    """The tenant's dead letters: {id, mission, error (the exception's last line)}."""
    from rq.job import Job
    from rq.registry import FailedJobRegistry
    from rq.serializers import JSONSerializer

    from handlers.intake.queues import get_queue

    queue = get_queue()
    registry = FailedJobRegistry(queue=queue)
    jobs = Job.fetch_many(registry.get_job_ids(), connection=queue.connection, serializer=JSONSerializer)
    out = []
    for job in (j for j in jobs if j is not None):
        if job.args and job.args[0] == tenant_id:
            last = (job.exc_info or "").strip().splitlines()[-1:] or [""]
            out.append({"id": job.id, "mission": job.args[1] if len(job.args) > 1 else "", "error": last[0][:300]})
    return out


def _failures(tenant, lang: str) -> list[dict]:
    return [{"kind": "failure", "text": say("attention_failure", lang, why=failure_reason(f["error"], lang)),
             "retry": f["id"], "link": None} for f in failures_of(tenant.id)]


def _flagged(tenant, lang: str) -> list[dict]:
    """The reasons the worker flagged for this tenant (handlers/state/attention.py: a failed install backfill…)."""
    from handlers.state import attention

    return [{"kind": "reason", "text": text, "retry": None, "link": "admin.progress"}
            for text in attention.texts(get_redis(), tenant.id, lang)]


SOURCES: list[Callable] = [_setup, _mapping, _paused, _flagged, _held, _failures]


def items(tenant, lang: str) -> list[dict]:
    """Everything that needs the admin's attention, most blocking first."""
    return [item for source in SOURCES for item in source(tenant, lang)]
