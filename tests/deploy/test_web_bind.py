"""A web tier safe alone (issue #30, point 3): gunicorn as the Procfile and the Dockerfile run it listens on loopback
by default, and refuses a public address unless a buffering proxy is declared."""
from __future__ import annotations

import os
import subprocess

import pytest

from tests.e2e.proc_helpers import ROOT, Process, child_env, free_port, procfile, wait_until


def _gunicorn(tmp_path, **env) -> Process:
    base = child_env(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), **env)
    base.pop("INTERMISSION_BIND", None)
    base.pop("INTERMISSION_TRUSTED_PROXIES", None)
    base.pop("INTERMISSION_BEHIND_PROXY", None)
    return Process(procfile()["web"], {**base, **env}, tmp_path / "web.log").start()


def test_without_a_bind_setting_gunicorn_listens_on_loopback_only(tmp_path):
    port = str(free_port())
    web = _gunicorn(tmp_path, PORT=port)
    try:
        line = wait_until(lambda: "Listening at" in (tmp_path / "web.log").read_text() and
                          (tmp_path / "web.log").read_text(), timeout=60, what="gunicorn to listen")
        assert f"Listening at: http://127.0.0.1:{port}" in line, line[-2000:]
    finally:
        web.stop()


@pytest.mark.parametrize("bind", ["0.0.0.0:{port}", "[::]:{port}", ":{port}"])
def test_a_public_bind_without_a_proxy_is_refused_with_the_reason(tmp_path, bind):
    web = _gunicorn(tmp_path, INTERMISSION_BIND=bind.format(port=free_port()))
    try:
        web.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("gunicorn started on a public address with no proxy declared")
    finally:
        web.stop()
    log = (tmp_path / "web.log").read_text()
    assert web.proc.returncode != 0 and "INTERMISSION_BEHIND_PROXY" in log and "Traceback" not in log, log[-2000:]


@pytest.mark.parametrize("env", [{"INTERMISSION_BEHIND_PROXY": "true"}, {"INTERMISSION_TRUSTED_PROXIES": "10.0.0.5"}])
def test_a_declared_proxy_allows_a_public_bind(monkeypatch, env):
    from config.infra.web_bind import refusal
    from config.settings import get_settings

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        assert refusal("0.0.0.0:8000") is None  # checked in-process: the tests never listen beyond loopback
    finally:
        get_settings.cache_clear()


def test_the_serve_command_refuses_a_public_bind_too(tmp_path):
    env = child_env(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    env.pop("INTERMISSION_TRUSTED_PROXIES", None)
    done = subprocess.run(["intermission", "serve", "--bind", f"0.0.0.0:{free_port()}"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.startswith("error: refusing to listen on 0.0.0.0:"), done.stderr
