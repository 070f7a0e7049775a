"""What a mission keeps in Redis, in its compact forms, each in the one stored format (handlers/state/formats.py):
each reads back exactly (snapshots, ledger entries, survey states, activity histories, the consultant index)."""
from __future__ import annotations

import json
import os
from datetime import date

from cryptography.fernet import Fernet

from config.infra import crypto, signing
from config.settings import get_settings
from handlers.state import packing
from handlers.surveys import records as surveys
from handlers.state.ledger import ActivityLog, Ledger, LedgerEntry
from handlers.domain.model import Inactivity, OtherMission
from handlers.state import store
from handlers.state.store import SnapshotStore
from tests.unit.test_plan import mission

D = date.fromisoformat


# --- snapshots ---------------------------------------------------------------------------------------------------

def test_a_snapshot_reads_back_whole_and_is_stored_deflated_without_its_ids(redis_conn):
    snap = mission(status="client", notice_date=D("2026-05-07"), degraded=["next mission unknown"], occupation=60,
                   others=[OtherMission(id="207", start=D("2026-06-02"), end=None)], consultant_left=True)
    SnapshotStore(redis_conn, "acme").save(snap)
    raw = redis_conn.get("im:t:acme:mission:100")
    assert raw[:1] == packing.SNAPSHOT and b"Alice Martin" not in raw and len(raw) < len(snap.model_dump_json()) / 2
    assert SnapshotStore(redis_conn, "acme").get("100") == snap
    assert json.loads(packing.unpack(raw)).keys() >= {"host", "title"} and "tenant" not in json.loads(packing.unpack(raw))




def test_a_snapshot_keeps_the_consultants_inactivities_in_a_few_bytes_each(redis_conn):
    plain = mission()
    snap = mission(inactivities=[Inactivity(type="3", start=D("2026-11-09"), end=D("2026-11-13")),
                                 Inactivity(type="internal", start=D("2026-11-16"), end=None)])
    SnapshotStore(redis_conn, "acme").save(snap)
    assert SnapshotStore(redis_conn, "acme").get("100") == snap
    assert len(redis_conn.get("im:t:acme:mission:100")) - len(store.encode(plain, "acme")) < 2 * 32


def test_the_consultant_index_is_a_small_hash(redis_conn):
    snaps = SnapshotStore(redis_conn, "acme")
    snaps.save(mission())
    snaps.save(mission(mission_id="a0X000000000009AAA"))
    assert redis_conn.type("im:t:acme:consultant:7") == b"hash"
    assert snaps.missions_of("7") == {"100", "a0X000000000009AAA"}
    assert redis_conn.hgetall("im:t:acme:consultant:7") == {b"100": b"", b"a0X000000000009AAA": b""}


# --- ledger ------------------------------------------------------------------------------------------------------

def entry(**changes) -> LedgerEntry:
    fields = dict(key="bench.checkin#3", step_id="bench.checkin", status="written", host_id="00T000010000085AAA",
                  nominal_due=D("2026-11-27"), due=D("2026-12-03"), late=True, content="ed7228be654688d6",
                  target_type="Contact", target_id="003000000000009AAA")
    return LedgerEntry(**{**fields, **changes})


def test_ledger_entries_round_trip_in_their_packed_form():
    cases = [entry(), entry(due=D("2026-11-20"), late=False), entry(status="intent", host_id=None, at=1796176842.0),
             entry(fingerprint="f1", pending="f2"), entry(content="not-a-hex-digest"), entry(target_type="x"),
             entry(target_type="=odd", key="custom.step", step_id="other.step"), entry(nominal_due=D("1969-07-20"))]
    for case in cases:
        assert LedgerEntry.unpack(case.key, case.pack().encode()) == case, case.pack()
    assert len(entry().pack()) < 64 < len(entry().pack(target=False)) + 30




def test_a_ledger_keeps_its_own_target_once_and_short_step_keys(redis_conn):
    ledger = Ledger(redis_conn, "acme", "100")
    mine, other = entry(), entry(key="natural.review", step_id="natural.review", target_type="contact",
                                 target_id="11")
    for e in (mine, other, entry(key="custom.step", step_id="custom.step")):
        ledger.put(e)
    raw = redis_conn.hgetall(ledger.key)
    assert sorted(raw) == [b"@", b"Ba#3", b"Ng", b"custom.step"] and raw[b"@"] == b"C|003000000000009AAA"
    assert b"003000000000009AAA" not in raw[b"Ba#3"] and raw[b"Ng"].endswith(b"|c|11")
    assert ledger.entries() == {"bench.checkin#3": mine, "natural.review": other,
                                "custom.step": entry(key="custom.step", step_id="custom.step")}
    for key in ("bench.checkin#3", "natural.review", "custom.step"):
        ledger.drop(key)
    assert not redis_conn.exists(ledger.key)  # its own target goes with the last entry




# --- surveys -----------------------------------------------------------------------------------------------------

def survey(token: str | None = None, **changes) -> surveys.SurveyState:
    token = token or signing.sign(surveys.PURPOSE, {"t": "acme", "m": "100", "r": "client_contact", "n": "a1b2c3d4"})
    fields = dict(tenant="acme", mission="100", step_id="natural.satisfaction", role="client_contact",
                  person_id="11", person_type="contact", person_name="Bob Leroy", token=token, sent_on=D("2026-05-21"))
    return surveys.SurveyState(**{**fields, **changes})


def test_a_survey_is_stored_with_the_seed_of_its_link_not_the_link(redis_conn):
    answered = survey(status="answered", satisfaction=4, nps=9, comment="Très bien.", answered_on=D("2026-05-22"),
                      language="en", mail_status="sent", email_to="bob@example.com")
    for state in (survey(), answered):
        stored = surveys.encode(state)
        assert state.token not in stored and "fernet:" not in stored and '"acme"' not in stored
        assert surveys.decode(stored.encode(), "acme", "100", role="client_contact") == state
    assert len(surveys.encode(survey())) < 100 < len(survey().model_dump_json(exclude_defaults=True))


def test_a_token_that_cannot_be_made_again_is_stored_sealed():
    odd = survey("eyJold.clear.token")
    stored = surveys.encode(odd)
    assert "eyJold" not in stored and '"fernet:' in stored
    assert surveys.decode(stored.encode(), "acme", "100", role="client_contact") == odd


def test_a_survey_link_is_made_again_with_the_key_that_signed_it_after_a_key_rotation(redis_conn):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    saved = os.environ["INTERMISSION_SECRET_KEYS"]
    try:
        _use_keys(old)
        state = survey()
        stored = surveys.encode(state)
        _use_keys(f"{new},{old}")  # the new key signs from now on; the old one still verifies
        assert surveys.decode(stored.encode(), "acme", "100", role="client_contact").token == state.token
        assert surveys.encode(state) == stored
    finally:
        _use_keys(saved)


def _use_keys(keys: str) -> None:
    os.environ["INTERMISSION_SECRET_KEYS"] = keys
    get_settings.cache_clear()
    crypto.reset_keys()


# --- activity ----------------------------------------------------------------------------------------------------

PROVENANCE = {"trigger": {"kind": "webhook", "host": "boond", "event": "e1"}, "case": "natural",
              "reason": "planned end", "unsure": False, "change": "2026-05-29 → 2026-06-30"}


def action(key: str, op: str = "created", **extra) -> dict:
    return {"mission": "100", "op": op, "key": key, "step": key.split("#")[0], "title": f"Étape {key}",
            "due": "2026-06-01", "previous_due": None, "late": False, **PROVENANCE, **extra}


def test_a_round_of_records_is_stored_once_deflated_and_reads_back_as_written(redis_conn):
    log = ActivityLog(redis_conn, "acme")
    written = [action("natural.review"), action("bench.checkin#2", "rescheduled", previous_due="2026-05-20", late=True),
               action("natural.handover", "kept", why="edited in the host by someone", why_code="edited")]
    for record in written:
        log.add(record)
    read = log.recent(mission="100")
    assert [{k: v for k, v in r.items() if k != "at"} for r in read] == written[::-1]
    assert all(isinstance(r["at"], float) for r in read) and log.recent() == read
    assert redis_conn.lrange(log.key, 0, -1) == []  # the tenant feed is put together from the histories
    blob = redis_conn.hget(log.history, "100")
    assert b"Etape" not in blob and len(blob) < 300 and redis_conn.hget(f"{log.key}:sizes", "100") == b"3"


def test_each_reconciliation_is_a_round_of_its_own_and_old_rounds_leave_whole_for_the_feed(redis_conn):
    for n in range(3):  # a new log for each round, as the pipeline makes them
        log = ActivityLog(redis_conn, "acme", per_mission=5)
        for i in range(2):
            log.add(action(f"step-{n}-{i}", reason=f"round {n}"))
    assert [r["key"] for r in log.recent(mission="100")] == ["step-2-1", "step-2-0", "step-1-1", "step-1-0"]
    assert [r["key"] for r in log.recent()] == [f"step-{n}-{i}" for n in (2, 1, 0) for i in (1, 0)]
    assert [r["reason"] for r in log.recent()][-1] == "round 0"




def test_short_step_keys_read_back():
    for key in ("bench.checkin#3", "natural.satisfaction.reminder.consultant", "custom.step", "natural", "bench.x.y"):
        assert packing.long_key(packing.short_key(key)) == key
    assert packing.short_key("natural.availability") == "Na"


# --- the one format ----------------------------------------------------------------------------------------------

def test_a_worker_records_the_format_in_a_new_database_and_refuses_one_written_in_another(redis_conn, child_env):
    import subprocess
    import sys

    from handlers.state import formats

    assert formats.ensure(redis_conn) == formats.FORMAT and redis_conn.get("im:format") == str(formats.FORMAT).encode()
    redis_conn.set("im:format", formats.FORMAT + 1)
    done = subprocess.run([sys.executable, "-m", "intermission_cli.main", "worker", "--burst"], env=child_env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert f"holds data stored in format {formats.FORMAT + 1}" in done.stderr and "FLUSHDB" in done.stderr
    assert "Traceback" not in done.stderr
