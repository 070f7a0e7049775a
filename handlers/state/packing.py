"""Compact stored forms: raw DEFLATE with a frozen preset dictionary, behind a one-byte marker.

A mission snapshot or a round of activity records is a few hundred bytes of JSON whose field names, step keys
and titles are the same from one mission to the next: deflated with a dictionary holding those fragments it
keeps a third or less of its size (about 200 bytes for a round of 8 records instead of 2,100). The first byte
says which dictionary (`handlers/state/formats.py` names the one version of every stored form).

Step keys, the ledger's hash fields, are stored with the default playbook's step ids in two characters
(`short_key`): `natural.availability` is `Na`, `bench.checkin#3` is `Ba#3`; the hosts' usual person types in
one (`short_type`).
"""
from __future__ import annotations

import zlib

from handlers.state.packing_dicts import ACTIVITY_1, SNAPSHOT_1, STEPS_1

SNAPSHOT, ACTIVITY = b"\x01", b"\x02"
_DICTIONARIES = {SNAPSHOT: SNAPSHOT_1, ACTIVITY: ACTIVITY_1}  # a marker is never reused for another dictionary


def pack(marker: bytes, data: bytes) -> bytes:
    """`data` deflated with the marker's dictionary, the marker first."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zdict=_DICTIONARIES[marker])
    return marker + squeeze.compress(data) + squeeze.flush()


def unpack(blob: bytes) -> bytes:
    """The data `pack` deflated (raises KeyError or zlib.error on anything else)."""
    inflate = zlib.decompressobj(-15, zdict=_DICTIONARIES[blob[:1]])
    return inflate.decompress(blob[1:]) + inflate.flush()


_STEP_CODES = {step: code for code, step in STEPS_1.items()}


def short_key(key: str) -> str:
    """A step key as stored: its step id's code when it has one (`Ba#3`, `Ne.reminder.consultant`), else itself."""
    parts = key.split("#", 1)[0].split(".")
    for end in range(len(parts), 0, -1):
        step = ".".join(parts[:end])
        if step in _STEP_CODES:
            return _STEP_CODES[step] + key[len(step):]
    return key


def long_key(stored: str) -> str:
    """The step key `short_key` stored (step ids are lower-case: an upper-case first letter is a code)."""
    return STEPS_1[stored[:2]] + stored[2:] if stored[:1].isupper() else stored


_TYPES = {"resource": "r", "contact": "c", "Contact": "C", "User": "U"}  # the hosts' usual person types
_TYPE_NAMES = {letter: name for name, letter in _TYPES.items()}


def short_type(name: str) -> str:
    """A person type as stored: its letter, else itself (after a `=` when it could be taken for a letter)."""
    if name in _TYPES:
        return _TYPES[name]
    return "=" + name if len(name) == 1 or name.startswith("=") else name


def long_type(stored: str) -> str:
    """The person type `short_type` stored."""
    return _TYPE_NAMES.get(stored) or (stored[1:] if stored.startswith("=") else stored)
