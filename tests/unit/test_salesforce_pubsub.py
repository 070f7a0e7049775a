"""Change events' bitmap fields and channel names, as the Pub/Sub API documents them."""
from __future__ import annotations

from connectors.salesforce.pubsub.client import decode_bitmap, topic_for

SCHEMA = {"type": "record", "name": "Mission__ChangeEvent", "fields": [
    {"name": "ChangeEventHeader", "type": "string"},
    {"name": "Name", "type": ["null", {"type": "record", "name": "Name", "fields": [
        {"name": "Salutation", "type": ["null", "string"]}, {"name": "FirstName", "type": ["null", "string"]},
        {"name": "LastName", "type": ["null", "string"]}]}]},
    {"name": "Start_Date__c", "type": ["null", "long"]},
    {"name": "End_Date__c", "type": ["null", "long"]},
    {"name": "Status__c", "type": ["null", "string"]},
    {"name": "LastModifiedDate", "type": ["null", "long"]}]}


def test_the_first_bitmap_names_top_level_fields_by_position_lowest_bit_first():
    # bits 3 and 5: End_Date__c and LastModifiedDate
    assert decode_bitmap(["0x28"], SCHEMA) == {"End_Date__c", "LastModifiedDate"}
    assert decode_bitmap([], SCHEMA) == frozenset()


def test_a_compound_field_s_bitmap_names_its_own_fields():
    # "1-0x06": in the compound field at position 1 (Name), its fields 1 and 2
    assert decode_bitmap(["0x20", "1-0x06"], SCHEMA) == {"LastModifiedDate", "Name.FirstName", "Name.LastName"}


def test_a_bit_past_the_schema_s_fields_is_ignored_not_an_error():
    assert decode_bitmap(["0x1000000"], SCHEMA) == frozenset()


def test_change_event_channels_follow_salesforce_s_naming():
    assert topic_for("Mission__c") == "/data/Mission__ChangeEvent"
    assert topic_for("pse__Assignment__c") == "/data/pse__Assignment__ChangeEvent"
    assert topic_for("Account") == "/data/AccountChangeEvent"
