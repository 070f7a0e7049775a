"""Boond's published RAML build, fetched at test set-up: the `boondmanager-client` wheel is downloaded with pip (never
installed: the package needs Python >= 3.13, its data does not) into a cache dir, and read as a zip."""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = "boondmanager-client==0.0.2"  # MIT; boondmanager/_spec/spec.json.gz, 598 routes, 198 body schemas
CACHE = Path(os.environ.get("INTERMISSION_SPEC_CACHE", Path.home() / ".cache" / "intermission" / "boond-spec"))


def spec_wheel() -> Path:
    """The cached wheel, downloaded once (one test process at a time: xdist workers wait on a lock file)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _cached_or_downloaded()


def _cached_or_downloaded() -> Path:
    """The cached wheel, or a fresh download; a clear failure when PyPI cannot be reached."""
    found = sorted(CACHE.glob("boondmanager_client-0.0.2-*.whl"))
    if found:
        return found[0]
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--python-version",
               "3.13", "--quiet", "-d", str(CACHE), PACKAGE]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    found = sorted(CACHE.glob("boondmanager_client-0.0.2-*.whl"))
    if done.returncode or not found:
        pytest.fail(f"could not download {PACKAGE} from PyPI into {CACHE} (no network?): Boond's schemas are test "
                    f"data fetched at set-up; put the wheel there by hand to run offline.\n{done.stderr[-800:]}",
                    pytrace=False)
    return found[0]


@pytest.fixture(scope="module")
def boond_spec() -> tuple[str, dict]:
    """(path of the wheel, the spec as data)."""
    from sandboxes.boond.schemas import load_spec

    path = str(spec_wheel())
    return path, load_spec(path)
