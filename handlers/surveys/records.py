"""End-of-mission surveys: one per respondent and mission, a signed link, answered once; stored per tenant in Redis."""
from __future__ import annotations

import hmac
import json
import secrets
from datetime import date, datetime, timezone
from typing import Callable, Literal

import redis
from pydantic import BaseModel, Field, field_serializer, field_validator

from config import keys
from config.infra import crypto, signing
from config.tenants import Tenant
from handlers.state import packing
from handlers.domain.model import DesiredAction, MissionSnapshot

Role = Literal["consultant", "client_contact"]
ROLES: tuple[Role, ...] = ("consultant", "client_contact")
Outcome = Literal["answered", "already", "unknown"]
PURPOSE = "survey"
TOKEN_CEILING = 3 * 365 * 24 * 3600  # the signature's own bound; the real expiry counts from `sent_on`
COMMENT_MAX = 2000
SEALED = "fernet:"  # a stored link token is encrypted (config.infra.crypto rotates it with the other secrets)


class SurveyState(BaseModel):
    """One respondent's survey for one mission: who, which link, when sent, and the answer once given."""

    tenant: str
    mission: str
    step_id: str  # the survey step that first asked for it
    role: Role
    person_id: str
    person_type: str
    person_name: str = ""
    language: str = "fr"
    token: str  # minted once: an itsdangerous token embeds its timestamp, so a new one would change the texts
    sent_on: date  # the survey action's due day (follows it until that day comes)
    status: Literal["sent", "answered"] = "sent"
    satisfaction: int | None = Field(default=None, ge=1, le=5)
    nps: int | None = Field(default=None, ge=0, le=10)
    comment: str = Field(default="", max_length=COMMENT_MAX)
    answered_at: datetime | None = None
    answered_on: date | None = None  # the tenant's day of the answer
    # sent by e-mail (issue #17, handlers/surveys/mail.py): to whom, when, and what became of it
    email_to: str = ""
    mail_status: Literal["", "sent", "capped", "opted_out", "no_address", "failed"] = ""
    emailed_on: date | None = None
    reminder_status: Literal["", "sent", "capped", "opted_out", "no_address", "failed"] = ""
    reminded_on: date | None = None
    mail_error: str = ""

    @field_serializer("token", when_used="json")
    def _seal(self, token: str) -> str:
        """Stored encrypted: the link is its respondent's credential."""
        return SEALED + crypto.encrypt(token.encode()).decode()

    @field_validator("token", mode="before")
    @classmethod
    def _unseal(cls, value):
        """Decrypt a sealed token (a record made in memory holds its token in clear)."""
        if isinstance(value, str) and value.startswith(SEALED):
            return crypto.decrypt(value[len(SEALED):].encode()).decode()
        return value

    def expired(self, today: date, max_age_days: int) -> bool:
        """True once the link is older than the tenant allows, counted from the day it was sent."""
        return (today - self.sent_on).days > max_age_days

    def is_low(self, low_satisfaction: int, low_nps: int) -> bool:
        """True for an answer that calls for the manager's follow-up."""
        return self.status == "answered" and (self.satisfaction <= low_satisfaction or self.nps <= low_nps)


def key_of(tenant: str, mission: str) -> str:
    """The mission's surveys hash (a caller may read it with its other reads)."""
    return keys.surveys(tenant, mission)


_POSITIONAL = ("step_id", "person_id", "person_type", "person_name", "sent_on")  # then the token, then the rest
_CONTEXT = {"tenant", "mission", "role"}  # said by the key and the field


def encode(state: SurveyState) -> str:
    """One survey as stored: `[step, person id, type, name, sent on, token, {other fields}]` in compact JSON, the
    step and the type as short as the ledger's (`packing.short_key`, `packing.short_type`).

    The link token is stored as its seed `[nonce, timestamp, key id]` when `signing.sign_at` makes it again byte
    for byte (no secret at rest: the token needs the signing key), else sealed like before; fields at their
    defaults and the tenant, mission and role (the key says them) are left out. Small enough for a listpack.
    """
    fields = state.model_dump(mode="json", exclude={"token"})
    fields.update(step_id=packing.short_key(state.step_id), person_type=packing.short_type(state.person_type))
    rest = state.model_dump(mode="json", exclude_defaults=True, exclude=_CONTEXT | set(_POSITIONAL) | {"token"})
    row = [fields[name] for name in _POSITIONAL] + [_token_seed(state)]
    return json.dumps(row + [rest] if rest else row, ensure_ascii=False, separators=(",", ":"))


def decode(raw: bytes, tenant: str, mission: str, *, role: str) -> SurveyState:
    """A stored survey (`encode`)."""
    row = json.loads(raw)
    seed, rest = row[len(_POSITIONAL)], (row[len(_POSITIONAL) + 1:] or [{}])[0]
    token = seed if isinstance(seed, str) else signing.sign_at(PURPOSE, _payload(tenant, mission, role, seed[0]),
                                                                 seed[1], key_id=seed[2])
    fields = dict(zip(_POSITIONAL, row))
    fields.update(step_id=packing.long_key(fields["step_id"]), person_type=packing.long_type(fields["person_type"]))
    return SurveyState.model_validate({**fields, **rest, "tenant": tenant, "mission": mission, "role": role,
                                       "token": token})


def _payload(tenant: str, mission: str, role: str, nonce: str) -> dict:
    """What a survey link signs (`_new`)."""
    return {"t": tenant, "m": mission, "r": role, "n": nonce}


def _token_seed(state: SurveyState) -> list | str:
    """[nonce, timestamp, key id] when the token is ours and made again from them, else the sealed token."""
    signed = signing.signed_with(PURPOSE, state.token)
    if signed is not None:
        payload, stamp, key_id = signed
        nonce = payload.get("n") if isinstance(payload, dict) else None
        if isinstance(nonce, str) and payload == _payload(state.tenant, state.mission, state.role, nonce):
            return [nonce, stamp, key_id]
    return SEALED + crypto.encrypt(state.token.encode()).decode()


def states(conn: redis.Redis, tenant: str, mission: str) -> dict[str, SurveyState]:
    """The mission's surveys by respondent role."""
    raw = conn.hgetall(key_of(tenant, mission))
    return {k.decode(): decode(v, tenant, mission, role=k.decode()) for k, v in raw.items()}


def respondents(snapshot: MissionSnapshot) -> dict[Role, object]:
    """The people asked for their view: the consultant and the client contact, when known."""
    found = {"consultant": snapshot.consultant, "client_contact": snapshot.client_contact}
    return {role: person for role, person in found.items() if person is not None}


_SET_IF_SAME = ("if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then "
                "return redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) + 1 else return 0 end")


def ensure(conn: redis.Redis, tenant: Tenant, snapshot: MissionSnapshot, *, survey_actions: list[DesiredAction],
           today: date, read: dict[bytes, bytes] | None = None) -> dict[str, SurveyState]:
    """Create the missing surveys for the plan's survey actions; an unsent survey follows its action's day.

    One read (or `read`, the hash as the job read it with its other reads), then the creations (HSETNX) and the
    moves (set only if the stored value is still the one read) in one round trip; a survey another worker made or
    changed meanwhile is read again."""
    key = key_of(tenant.id, snapshot.mission_id)
    raw = {k.decode(): v for k, v in (conn.hgetall(key) if read is None else read).items()}
    current = {role: decode(v, tenant.id, snapshot.mission_id, role=role) for role, v in raw.items()}
    if not survey_actions:
        return current
    first = min(survey_actions, key=lambda a: (a.due, a.key))

    def follow(s: SurveyState) -> SurveyState | None:
        unsent = s.status == "sent" and today < s.sent_on and s.sent_on != first.due
        return s.model_copy(update={"sent_on": first.due}) if unsent else None

    writes: list[tuple[str, SurveyState, bool]] = []  # (role, new state, created)
    for role, person in respondents(snapshot).items():
        if role not in current:
            writes.append((role, _new(tenant, snapshot, first, role, person), True))
        elif current[role].status == "sent" and current[role].person_id != person.id:  # a replacement: their own link
            writes.append((role, _new(tenant, snapshot, first, role, person), False))
        elif moved := follow(current[role]):
            writes.append((role, moved, False))
    if not writes:
        return current
    pipe = conn.pipeline(transaction=False)
    for role, state, created in writes:
        if created:
            pipe.hsetnx(key, role, encode(state))
        else:
            pipe.eval(_SET_IF_SAME, 1, key, role, raw[role], encode(state))
    for (role, state, created), done in zip(writes, pipe.execute()):
        if done:
            current[role] = state
        elif created:  # another worker made it first
            current[role] = decode(conn.hget(key, role), tenant.id, snapshot.mission_id, role=role)
        else:  # changed meanwhile (answered, moved, replaced): decided again on what is stored now
            current[role] = _update(conn, tenant.id, snapshot.mission_id, role, follow) or current[role]
    return current


def _new(tenant: Tenant, snapshot: MissionSnapshot, action: DesiredAction, role: Role, person) -> SurveyState:
    """A new survey for one respondent, its link signed now."""
    token = signing.sign(PURPOSE, _payload(tenant.id, snapshot.mission_id, role, secrets.token_hex(4)))
    return SurveyState(tenant=tenant.id, mission=snapshot.mission_id, step_id=action.step_id, role=role,
                       person_id=person.id, person_type=person.type, person_name=person.name,
                       language=tenant.language, token=token, sent_on=action.due)


def _update(conn: redis.Redis, tenant: str, mission: str, role: str,
            change: Callable[[SurveyState], SurveyState | None]) -> SurveyState | None:
    """Apply `change` to one survey atomically (WATCH/MULTI); None when it declined or the survey is gone."""
    key = key_of(tenant, mission)
    with conn.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                raw = pipe.hget(key, role)
                new = change(decode(raw, tenant, mission, role=role)) if raw else None
                if new is None:
                    pipe.unwatch()
                    return None
                pipe.multi()
                pipe.hset(key, role, encode(new))
                pipe.execute()
                return new
            except redis.WatchError:
                continue


def find(conn: redis.Redis, token: str) -> SurveyState | None:
    """The survey a link's token opens: a genuine signature and the very token stored, else None."""
    try:
        payload = signing.unsign(PURPOSE, token, max_age=TOKEN_CEILING)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("r") not in ROLES:
        return None
    tenant, mission = str(payload.get("t")), str(payload.get("m"))
    try:
        raw = conn.hget(key_of(tenant, mission), payload["r"])
    except redis.ResponseError:
        return None
    state = decode(raw, tenant, mission, role=payload["r"]) if raw else None
    return state if state and hmac.compare_digest(state.token.encode(), token.encode()) else None


def validate(satisfaction, nps, comment) -> dict[str, str]:
    """Field → problem code ("required", "range", "too_long"); empty when the answer is acceptable."""
    problems = {}
    for field, value, low, high in (("satisfaction", satisfaction, 1, 5), ("nps", nps, 0, 10)):
        if value is None or value == "":
            problems[field] = "required"
        elif not (isinstance(value, int) and not isinstance(value, bool)) or not low <= value <= high:
            problems[field] = "range"
    if not isinstance(comment, str) or len(comment) > COMMENT_MAX:
        problems["comment"] = "too_long"
    return problems


def answer(conn: redis.Redis, tenant: Tenant, token: str, *, satisfaction: int, nps: int, comment: str,
           today: date) -> Outcome:
    """Store the answer once (atomically): a second answer is refused and changes nothing."""
    if validate(satisfaction, nps, comment):
        raise ValueError("satisfaction 1-5, nps 0-10 and a comment of at most 2000 characters")
    state = find(conn, token)
    if state is None or state.tenant != tenant.id:
        return "unknown"
    answered = {"status": "answered", "satisfaction": satisfaction, "nps": nps, "comment": comment.strip(),
                "answered_at": datetime.now(timezone.utc), "answered_on": today}
    done = _update(conn, tenant.id, state.mission, state.role,
                   lambda s: s.model_copy(update=answered) if s.status == "sent" and s.token == token else None)
    return "answered" if done else "already"


def answers(conn: redis.Redis, tenant: str) -> list[SurveyState]:
    """Every answered survey of a tenant, newest first (for the admin page)."""
    out, prefix = [], len(key_of(tenant, ""))
    for key in conn.scan_iter(match=keys.surveys(tenant, "*"), count=500):
        mission = key.decode()[prefix:]
        out.extend(decode(v, tenant, mission, role=k.decode()) for k, v in conn.hgetall(key).items())
    done = [s for s in out if s.status == "answered"]
    return sorted(done, key=lambda s: (s.answered_at, s.mission, s.role), reverse=True)


def averages(conn: redis.Redis, tenant: str) -> dict:
    """count, mean satisfaction (1–5), mean recommendation (0–10) and the NPS (% promoters − % detractors)."""
    done = answers(conn, tenant)
    if not done:
        return {"count": 0, "satisfaction": None, "nps": None, "nps_score": None}
    n = len(done)
    promoters = sum(1 for s in done if s.nps >= 9)
    detractors = sum(1 for s in done if s.nps <= 6)
    return {"count": n, "satisfaction": round(sum(s.satisfaction for s in done) / n, 2),
            "nps": round(sum(s.nps for s in done) / n, 2),
            "nps_score": round(100 * (promoters - detractors) / n)}
