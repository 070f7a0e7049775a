"""Shared hypothesis settings and strategies for the bad-input property tests."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# ~200 examples per property, no per-example deadline (CI machines are slow and shared), no example database
# written into the work tree; a failure prints the falsifying example and how to reproduce it.
PROPERTY = settings(max_examples=200, deadline=None, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])
NESTING = 100_000  # deeper than any JSON or XML parser's recursion limit

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=5)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=5), max_leaves=25)
ids = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=130), st.floats(allow_nan=False),
                st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def nested_arrays(depth: int = NESTING) -> bytes:
    """`[[[[…]]]]`: a small body that sends a recursive JSON parser past the stack."""
    return b"[" * depth + b"]" * depth


def nested_objects(depth: int = NESTING) -> bytes:
    """`{"a":{"a":…}}`, the same in objects."""
    return b'{"a":' * depth + b"1" + b"}" * depth


@st.composite
def near_boond_events(draw) -> bytes:
    """Boond webhook events with every member possibly missing, mistyped or odd."""
    depends = draw(st.fixed_dictionaries({}, optional={"id": ids, "type": ids}))
    data = draw(st.fixed_dictionaries({}, optional={
        "id": ids, "type": st.just("webhookevent") | ids,
        "attributes": st.fixed_dictionaries({}, optional={"type": ids}) | json_values,
        "relationships": st.fixed_dictionaries({}, optional={"dependsOn": st.just({"data": depends})
                                                             | st.just(depends) | json_values}) | json_values}))
    doc = draw(st.just({"data": data}) | st.dictionaries(st.text(max_size=8), json_values, max_size=3))
    return json.dumps(doc).encode()


@st.composite
def near_flow_callouts(draw) -> bytes:
    """Flow callouts whose ids and members are drawn from valid and invalid values alike."""
    sf_id = st.text(alphabet="abcdefABCDEF0123456789", min_size=15, max_size=18) | ids
    doc = draw(st.fixed_dictionaries({}, optional={
        "organizationId": sf_id, "object": ids, "recordId": sf_id, "recordIds": st.lists(sf_id, max_size=120) | ids,
        "event": ids, "eventId": ids}))
    return json.dumps(doc).encode()


def soap(org_id: str, notifications: list[tuple[str, str]], extra: str = "") -> bytes:
    """An Outbound Message envelope around the given (notification id, record id) pairs."""
    items = "".join(f"<Notification><Id>{n}</Id><sObject xsi:type=\"sf:Mission__c\"><sf:Id>{r}</sf:Id>"
                    f"</sObject></Notification>" for n, r in notifications)
    return (f'<?xml version="1.0" encoding="UTF-8"?>{extra}<soapenv:Envelope '
            f'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
            f'<notifications xmlns="http://soap.sforce.com/2005/09/outbound" '
            f'xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><OrganizationId>{org_id}</OrganizationId>'
            f'{items}</notifications></soapenv:Body></soapenv:Envelope>').encode()


@st.composite
def near_outbound_messages(draw) -> bytes:
    """Outbound Messages with odd ids, counts, text, entities and DTDs."""
    text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="<&"), max_size=20)
    sf_id = st.text(alphabet="abcdef0123456789", min_size=15, max_size=18) | text
    pairs = draw(st.lists(st.tuples(sf_id, sf_id), max_size=110))
    extra = draw(st.sampled_from(["", '<!DOCTYPE x [<!ENTITY e "boom">]>', '<!DOCTYPE x SYSTEM "http://x/">',
                                  "<!-- c -->"]))
    return soap(draw(sf_id), pairs, extra)
