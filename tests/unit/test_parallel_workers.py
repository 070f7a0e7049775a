"""`make test` runs on pytest-xdist workers: each worker gets its own Redis database (the tests empty theirs)."""
from __future__ import annotations

import pytest

from tests.conftest import worker_redis_url


@pytest.mark.parametrize(("url", "worker", "expected"), [
    ("redis://127.0.0.1:6379/0", None, "redis://127.0.0.1:6379/0"),  # no xdist: the URL as given
    ("redis://127.0.0.1:6379/0", "gw0", "redis://127.0.0.1:6379/0"),
    ("redis://127.0.0.1:6379/8", "gw3", "redis://127.0.0.1:6379/11"),
    ("redis://127.0.0.1:6379", "gw2", "redis://127.0.0.1:6379/2"),  # no database in the URL: 0
    ("redis://:secret@cache:6380/4?socket_timeout=3", "gw1", "redis://:secret@cache:6380/5?socket_timeout=3"),
    ("unix:///run/redis.sock?db=2", "gw1", "unix:///run/redis.sock?db=3"),
    ("unix:///run/redis.sock", "gw3", "unix:///run/redis.sock?db=3"),
])
def test_each_worker_gets_the_base_database_plus_its_index(url, worker, expected):
    assert worker_redis_url(url, worker) == expected

