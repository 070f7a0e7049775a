"""Every parser, fed anything: it answers with its own error (the route's 400) or a well-formed result; never
another exception, never a hang."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from config.playbook import PlaybookError, load_playbook_text
from connectors.salesforce.mapping import SalesforceMapping
from connectors.boond.settings import BoondConfig
from connectors.boond.marketplace import BadSignedRequest, decode_signed_request, encode_signed_request
from connectors.salesforce.soql import api_name
from tests.properties import (PROPERTY, json_values, near_boond_events, near_flow_callouts, near_outbound_messages,
                              nested_arrays, nested_objects)
from webhooks.hosts.boond.webhook import BadPayload, parse_event
from webhooks.hosts.salesforce.webhook import BadMessage, parse_flow, parse_outbound

DEFAULT_PLAYBOOK = (Path(__file__).parents[2] / "config" / "playbooks" / "default.toml").read_text()
KEY = "app-key-0123456789"
bodies = st.binary(max_size=3000) | st.text(max_size=1000).map(str.encode)


@PROPERTY
@given(bodies | near_boond_events() | json_values.map(lambda v: json.dumps(v).encode()))
@example(nested_arrays())
@example(nested_objects())
@example(b"\xff\xfe{\x00")
@example('{"data": {"id": "é"}}'.encode("latin-1"))
def test_boond_event_parser_reads_an_event_or_says_why_not(body):
    try:
        event = parse_event(body)
    except BadPayload as exc:
        assert str(exc)
        return
    assert set(event) == {"id", "type", "entity", "ref"} and all(isinstance(v, str) and v for v in event.values())


@PROPERTY
@given(bodies | near_flow_callouts())
@example(nested_arrays())
@example(nested_objects())
@example(b'{"organizationId": "\xff"}')
def test_flow_callout_parser_reads_ids_or_says_why_not(body):
    try:
        event = parse_flow(body)
    except BadMessage as exc:
        assert str(exc)
        return
    assert 1 <= len(event["record_ids"]) <= 100 and all(len(i) in (15, 18) for i in event["record_ids"])


@PROPERTY
@given(bodies | near_outbound_messages())
@example(b"<a>" * 100_000 + b"</a>" * 100_000)
@example(b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><l>&b;</l>')
@example('<?xml version="1.0" encoding="UTF-8"?><x>\udcff</x>'.encode("utf-8", "surrogateescape"))
def test_outbound_message_parser_reads_notifications_or_says_why_not(body):
    try:
        org_id, notifications = parse_outbound(body)
    except BadMessage as exc:
        assert str(exc)
        return
    assert org_id and 1 <= len(notifications) <= 100
    assert all(len(n) in (15, 18) and len(r) in (15, 18) for n, r in notifications)


@PROPERTY
@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
@example("a" * 20_000)
@example("YQ.YQ")
def test_signed_request_decoder_refuses_anything_unsigned(value):
    with pytest.raises(BadSignedRequest):
        decode_signed_request(value, KEY, max_age=3600)


@pytest.mark.slow
@PROPERTY
@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6), st.integers(min_value=0, max_value=2_000_000_000))
def test_signed_request_decoder_returns_what_was_signed_or_refuses_its_age(payload, issued_at):
    signed = encode_signed_request({**payload, "issued_at": issued_at}, KEY)
    try:
        decoded = decode_signed_request(signed, KEY, max_age=3600, now=1_900_000_000)
    except BadSignedRequest as exc:
        assert "old" in str(exc) or "future" in str(exc) or "longer" in str(exc)
        return
    assert decoded == json.loads(json.dumps({**payload, "issued_at": issued_at}))


def test_signed_request_decoder_refuses_a_signed_but_deeply_nested_payload():
    import base64
    import hashlib
    import hmac

    part = base64.urlsafe_b64encode(nested_arrays(5000)).rstrip(b"=").decode()
    signature = base64.urlsafe_b64encode(hmac.new(KEY.encode(), part.encode(), hashlib.sha256).hexdigest().encode())
    with pytest.raises(BadSignedRequest):
        decode_signed_request(f"{signature.rstrip(b'=').decode()}.{part}", KEY)


@st.composite
def mutated_playbooks(draw) -> str:
    """The default playbook with lines dropped, duplicated or replaced by junk."""
    lines = DEFAULT_PLAYBOOK.splitlines()
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        at = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        action = draw(st.sampled_from(["drop", "dup", "junk", "value"]))
        if action == "drop":
            del lines[at]
        elif action == "dup":
            lines.insert(at, lines[at])
        elif action == "junk":
            lines[at] = draw(st.text(max_size=40))
        elif "=" in lines[at]:
            lines[at] = lines[at].split("=")[0] + "= " + draw(st.sampled_from(
                ['""', "-5", "1e9", "[]", "{}", "true", '"{unknown}"', '"x" ', "2026-01-01", '"' + "z" * 300 + '"']))
    return "\n".join(lines)


@PROPERTY
@given(mutated_playbooks() | st.text(max_size=500))
def test_playbook_loader_returns_a_playbook_or_names_each_problem(text):
    try:
        playbook = load_playbook_text(text, "fuzz.toml")
    except PlaybookError as exc:
        assert str(exc).strip() and "fuzz.toml" in str(exc)
        return
    assert playbook.steps


@pytest.mark.slow
@PROPERTY
@given(st.dictionaries(st.text(max_size=20), json_values, max_size=4))
def test_playbook_overrides_apply_or_are_refused_by_name(overrides):
    try:
        load_playbook_text(DEFAULT_PLAYBOOK, "default.toml", overrides=overrides)
    except PlaybookError as exc:
        assert str(exc).strip()


MAPPING_FIELDS = list(SalesforceMapping.model_fields)
name_like = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,20}(__r\.[A-Za-z][A-Za-z0-9_]{0,10})?", fullmatch=True)


@pytest.mark.slow
@PROPERTY
@given(st.dictionaries(st.sampled_from(MAPPING_FIELDS), name_like | json_values | st.text(max_size=30), max_size=8))
def test_an_accepted_salesforce_mapping_only_ever_puts_api_names_into_soql(data):
    try:
        mapping = SalesforceMapping.model_validate(data)
    except ValidationError:
        return
    for field in mapping.fields():
        assert api_name(field, dotted=True) == field  # nothing else reaches a SELECT
    assert api_name(mapping.object) == mapping.object


@pytest.mark.slow
@PROPERTY
@given(st.dictionaries(st.sampled_from(list(BoondConfig.model_fields) + ["junk"]), json_values, max_size=6))
def test_boond_config_is_valid_and_round_trips_or_is_refused(data):
    try:
        config = BoondConfig.model_validate(data)
    except ValidationError:
        return
    assert BoondConfig.model_validate_json(config.model_dump_json()) == config


def test_the_default_playbook_parses_as_toml():
    assert tomllib.loads(DEFAULT_PLAYBOOK)["steps"]
