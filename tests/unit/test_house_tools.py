"""The tools that keep the house's shape: ruff, the import contracts and mypy, run as `make test` and CI run them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# Modules written in ruff's format (`ruff format`); the older tree keeps its compact style until it is reformatted
# at a quiet moment (a whole-tree reformat would rewrite ~280 files under every open branch).
FORMATTED = [
    "config/keys.py",
    "config/infra/hooks.py",
    "handlers/hosts/protocol.py",
    "handlers/hosts/registry.py",
    "sandboxes/seams.py",
    "tests/memo_host.py",
    "tests/unit/test_host_registry.py",
    "tests/unit/test_house_tools.py",
    "tests/unit/test_keys.py",
    "tests/unit/test_seams.py",
    "tests/unit/test_third_host.py",
    "webhooks/hosts/boond/admin_mapping.py",
    "webhooks/hosts/boond/admin_pages.py",
    "webhooks/admin/connection_check.py",
    "webhooks/admin/host_pages.py",
    "webhooks/admin/mapping_form.py",
    "webhooks/admin/planning_card.py",
    "webhooks/hosts/salesforce/admin_mapping.py",
    "webhooks/hosts/salesforce/admin_pages.py",
    "webhooks/admin/views_mapping.py",
    "webhooks/hosts/salesforce/links.py",
    "handlers/hosts/boond/host.py",
    "handlers/hosts/salesforce/host.py",
    "handlers/hosts/salesforce/metrics.py",
    "webhooks/hosts/boond/words.py",
    "webhooks/hosts/salesforce/words.py",
    "webhooks/hosts/boond/cli.py",
    "webhooks/hosts/salesforce/cli.py",
    "tests/testhost/__init__.py",
    "tests/testhost/host.py",
    "tests/unit/test_fourth_host.py",
]


def run(*command: str) -> subprocess.CompletedProcess:
    """One tool, from the test environment's bin directory, at the repository's root."""
    return subprocess.run([str(BIN / command[0]), *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(("ruff", "check", "--no-cache", "."), id="ruff-check"),
        pytest.param(("ruff", "format", "--check", "--no-cache", *FORMATTED), id="ruff-format"),
        pytest.param(("lint-imports", "--no-cache"), id="import-contracts"),
        pytest.param(("mypy",), id="mypy-domain"),
    ],
)
def test_the_house_tool_passes(command):
    done = run(*command)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
