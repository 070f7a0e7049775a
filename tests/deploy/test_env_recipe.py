"""The Procfile's processes, started for real from the one settings recipe (deploy/intermission.env.example).

What the compose file and the manifests start is the same two commands with the same settings (test_deploy_files);
here they run as an operator would run them with `honcho -e deploy/intermission.env -f deploy/Procfile start`.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.conftest import TEST_KEY
from tests.deploy.test_deploy_files import recipe
from tests.e2e.proc_helpers import Process, free_port, procfile, redis_from_deploy_conf, wait_until

BIN = Path(sys.executable).parent


def recipe_env(redis_url: str, tmp_path: Path, **overrides: str) -> dict:
    """The recipe filled in as an operator would, and nothing else from this test's environment."""
    filled = {**recipe(), "REDIS_URL": redis_url, "INTERMISSION_SECRET_KEYS": TEST_KEY,
              "INTERMISSION_BOOND_APP_KEY": "app-key-from-the-recipe", "INTERMISSION_LOG_FORMAT": "text",
              **overrides}
    return {"PATH": str(BIN) + os.pathsep + "/usr/bin:/bin", "HOME": str(tmp_path),
            "INTERMISSION_DATA_DIR": str(tmp_path / "data"), **filled}


def _answers(url: str) -> int | None:
    try:
        return requests.get(url, timeout=5).status_code
    except requests.RequestException:
        return None


@pytest.mark.slow
def test_the_procfiles_web_and_worker_run_from_the_recipe_and_stop_gracefully(tmp_path):
    with redis_from_deploy_conf(tmp_path / "redis") as redis_url:
        port = free_port()
        env = recipe_env(redis_url, tmp_path, INTERMISSION_BIND=f"127.0.0.1:{port}")
        web = Process(procfile()["web"], env, tmp_path / "web.log").start()
        worker = Process(procfile()["worker"], env, tmp_path / "worker.log").start()
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: _answers(base + "/readyz?scope=web") == 200, timeout=60, what="the web process")
            marketplace = requests.post(base + "/boond/install", data={"signedRequest": "not.signed"}, timeout=10)
            assert marketplace.status_code == 401, marketplace.text  # the app key came through: not 503
            check = [str(BIN / "intermission"), "check-worker"]
            wait_until(lambda: subprocess.run(check, env=env, capture_output=True).returncode == 0, timeout=60,
                       what="`intermission check-worker` to find the worker", every=0.5)
            wait_until(lambda: _answers(base + "/readyz") == 200, timeout=60, what="the scheduler (full /readyz)")
            web.proc.terminate()  # SIGTERM to the gunicorn master: graceful, well within graceful_timeout
            assert web.proc.wait(timeout=40) == 0, (tmp_path / "web.log").read_text()[-2000:]
            worker.proc.terminate()
            assert worker.proc.wait(timeout=40) == 0, (tmp_path / "worker.log").read_text()[-2000:]
            done = subprocess.run(check, env=env, capture_output=True, text=True)
            assert done.returncode == 1 and "no live worker" in done.stdout
        finally:
            web.stop()
            worker.stop()
