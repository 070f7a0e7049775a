"""Reading a Boond webhook event: the references we re-read, or an error an admin can act on."""
from __future__ import annotations

import json

import pytest

from webhooks.hosts.boond.webhook import BadPayload, parse_event

DEPENDS_ON = {"dependsOn": {"data": {"id": "100", "type": "delivery"}}}


def body(doc) -> bytes:
    return json.dumps(doc).encode()


def test_a_json_api_event_gives_the_changed_record():
    event = {"data": {"id": "5003", "type": "webhookevent",
                      "attributes": {"userToken": "u", "clientToken": "c", "type": "update"},
                      "relationships": {"webhook": {"data": {"id": "1", "type": "webhook"}}, **DEPENDS_ON,
                                        "log": {"data": {"id": "9003", "type": "log"}}}}}
    assert parse_event(body(event)) == {"id": "5003", "type": "update", "entity": "delivery", "ref": "100"}


def test_the_flat_variant_with_attributes_and_relationships_at_top_level_is_read_too():
    event = {"data": {"id": "5004", "type": "webhookevent"}, "attributes": {"type": "create"},
             "relationships": {"dependsOn": {"data": {"id": 7, "type": "Resource"}}}}
    assert parse_event(body(event)) == {"id": "5004", "type": "create", "entity": "resource", "ref": "7"}


def test_an_event_without_a_type_counts_as_an_update():
    assert parse_event(body({"data": {"id": "1", "relationships": DEPENDS_ON}}))["type"] == "update"


@pytest.mark.parametrize("raw,message", [
    (b"", "empty body"),
    (b"  \n", "empty body"),
    (b"{not json", "not valid JSON"),
    (b'{"data": {"id": "caf\xe9"}}', "not UTF-8"),  # Latin-1, not UTF-8
    (b"[]", "expected a JSON object with a 'data' object"),
    (body({"data": ["5003"]}), "expected a JSON object with a 'data' object"),
    (body({"data": "5003"}), "expected a JSON object with a 'data' object"),
    (body({"data": {"id": "1", "relationships": {}}}), "missing or invalid relationships.dependsOn {id, type}"),
    (body({"data": {"id": "1", "relationships": {"dependsOn": {"data": {"id": "100"}}}}}), "missing or invalid relationships.dependsOn"),
    (body({"data": {"id": "1", "relationships": {"dependsOn": {"data": {"id": " ", "type": "delivery"}}}}}),
     "missing or invalid relationships.dependsOn"),
    (body({"data": {"relationships": DEPENDS_ON}}), "missing or invalid data.id"),
    (body({"data": {"id": "9" * 129, "relationships": DEPENDS_ON}}), "missing or invalid data.id"),
    (body({"data": {"id": 10 ** 200, "relationships": DEPENDS_ON}}), "missing or invalid data.id"),
    (b'{"data": {"id": ' + b"9" * 5000 + b"}}", "not valid JSON"),  # beyond Python's int parsing limit
    (body({"data": {"id": "", "relationships": DEPENDS_ON}}), "missing or invalid data.id"),
    (body({"data": {"id": True, "relationships": DEPENDS_ON}}), "missing or invalid data.id"),
    (body({"data": {"id": "1", "relationships": {"dependsOn": {"data": {"id": "1" * 200, "type": "delivery"}}}}}),
     "missing or invalid relationships.dependsOn"),
])
def test_an_unreadable_event_is_rejected_with_a_message_naming_the_problem(raw, message):
    with pytest.raises(BadPayload) as info:
        parse_event(raw)
    assert message in str(info.value)
