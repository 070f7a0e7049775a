"""Test-only behaviour stays out of production: without the test settings, the seams load nothing and ignore a pin;
the production image does not hold the test seams at all."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

from config.infra import clock

PRODUCTION = """
import sys
from datetime import date
from config.infra import clock, hooks
from handlers.sync import reconcile
clock.pin(date(2001, 2, 3))
hooks.after_host_create()
print(clock.today() != date(2001, 2, 3), "sandboxes.seams" in sys.modules)
"""


def test_a_production_process_never_loads_the_test_seams_and_ignores_a_pinned_day(redis_conn, child_env):
    env = {**child_env, "INTERMISSION_ALLOW_CLOCK_OVERRIDE": "false"}
    env.pop("INTERMISSION_CRASH_AFTER_HOST_WRITE", None)
    done = subprocess.run([sys.executable, "-c", PRODUCTION], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["True", "False"], done.stderr


def test_with_the_test_setting_the_pinned_day_is_today(redis_conn):
    clock.pin(date(2001, 2, 3))
    assert clock.today() == date(2001, 2, 3)


WITHOUT_SEAMS = """
import sys
from datetime import date
import importlib.metadata
_points = importlib.metadata.entry_points
# as in the production wheel and image, which declare no test seams (only intermission-sandboxes does)
importlib.metadata.entry_points = lambda **kw: [] if kw.get("group") == "intermission.test_seams" else _points(**kw)
from config.infra import clock, hooks
clock.pin(date(2001, 2, 3))
hooks.after_host_create()
print(clock.today() != date(2001, 2, 3))
"""


def test_an_installation_without_the_test_seams_ignores_a_test_setting(redis_conn, child_env):
    env = {**child_env, "INTERMISSION_ALLOW_CLOCK_OVERRIDE": "true", "INTERMISSION_CRASH_AFTER_HOST_WRITE": "1"}
    done = subprocess.run([sys.executable, "-c", WITHOUT_SEAMS], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["True"], done.stderr
    assert "no test seams: ignored" in done.stderr


def test_the_production_image_leaves_the_test_seams_out():
    ignored = (Path(__file__).resolve().parents[2] / ".dockerignore").read_text().split()
    assert "sandboxes" in ignored
