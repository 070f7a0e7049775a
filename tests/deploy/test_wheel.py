"""The production wheel carries the product only: no sandbox, demo, test stack or test seam (issue #24)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LEFT_OUT = (".git", ".venv", ".lock-venv", ".intermission", "build", "__pycache__", "*.egg-info", ".pytest_cache")


def build_wheel(tmp_path: Path) -> zipfile.ZipFile:
    """The wheel `pip wheel .` builds from a copy of the checkout (the build writes next to the sources)."""
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*LEFT_OUT))
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "out"),
         str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = (tmp_path / "out").glob("intermission-*.whl")
    return zipfile.ZipFile(wheel)


def test_the_production_wheel_holds_no_sandbox_demo_stack_or_test_seam(tmp_path):
    wheel = build_wheel(tmp_path)
    names = wheel.namelist()
    assert "handlers/domain/plan.py" in names and "webhooks/app.py" in names  # the product is there
    assert "config/playbooks/default.toml" in names
    catalogs = sorted(path.relative_to(ROOT).as_posix() for package in ("webhooks", "handlers")
                      for path in (ROOT / package).rglob("*.toml"))  # the words catalogs (config/catalogs.py)
    assert {"webhooks/admin/words.toml", "webhooks/hosts/salesforce/connect.toml", "handlers/domain/plan.toml"} <= set(catalogs)
    assert [name for name in catalogs if name not in names] == []  # every page's and action's words ship with the code
    templates = sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / "webhooks").rglob("templates/**/*.html"))
    assert "webhooks/admin/templates/admin/overview.html" in templates and "webhooks/surveys/templates/survey/form.html" in templates
    assert [name for name in templates if name not in names] == []  # the image installs the wheel: no page without them
    test_only = [n for n in names if n.startswith("sandboxes/") or Path(n).stem in {"seams", "test_seams", "demo", "stack",
                                                                                    "stack_salesforce", "serving"}]
    assert test_only == []
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "intermission.test_seams" not in wheel.read(entry_points).decode()
