"""The two-tenant world on both hosts, built once per module, with every log line captured at DEBUG."""
from __future__ import annotations

import io
import logging

import pytest


@pytest.fixture(scope="module")
def world():
    """`World` over an emptied Redis; `world.logs()` is every line our log handler wrote meanwhile."""
    from config.infra.logs import make_handler
    from config.infra.redis_conn import get_redis
    from tests.reliability.world import World

    get_redis().flushdb()
    buffer, root = io.StringIO(), logging.getLogger()
    handler, level = make_handler(stream=buffer, fmt="json"), root.level
    handler.setLevel(logging.DEBUG)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        with World() as built:
            built.logs = buffer.getvalue
            yield built
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
