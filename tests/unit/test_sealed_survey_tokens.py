"""Survey link tokens are stored encrypted, still read when stored in clear, and follow a key rotation."""
from __future__ import annotations

import os
from datetime import date

from cryptography.fernet import Fernet

from config.infra import crypto
from config.settings import get_settings
from handlers.surveys import records as surveys


def _use_keys(keys: str) -> None:
    os.environ["INTERMISSION_SECRET_KEYS"] = keys
    get_settings.cache_clear()
    crypto.reset_keys()


def _state(token: str) -> surveys.SurveyState:
    return surveys.SurveyState(tenant="acme", mission="100", step_id="natural.satisfaction", role="consultant",
                               person_id="7", person_type="resource", token=token, sent_on=date(2026, 4, 9))


def test_the_token_is_encrypted_at_rest_and_a_record_made_in_memory_keeps_its_clear_token(redis_conn):
    stored = _state("eyJsecret.link.token").model_dump_json()
    assert "eyJsecret" not in stored and '"token":"fernet:' in stored
    assert surveys.SurveyState.model_validate_json(stored).token == "eyJsecret.link.token"
    clear = stored.replace(stored.split('"token":"')[1].split('"')[0], "eyJold.clear.token")
    assert surveys.SurveyState.model_validate_json(clear).token == "eyJold.clear.token"


def test_key_rotation_reencrypts_survey_tokens_so_the_old_key_can_go(redis_conn):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    saved = os.environ["INTERMISSION_SECRET_KEYS"]
    try:
        _use_keys(old)
        redis_conn.hset("im:t:acme:surveys:100", "consultant", surveys.encode(_state("eyJsecret.link.token")))
        _use_keys(f"{new},{old}")
        assert crypto.rotate_all() == 1
        _use_keys(new)
        assert surveys.states(redis_conn, "acme", "100")["consultant"].token == "eyJsecret.link.token"
    finally:
        _use_keys(saved)
