"""Benchmarks: `tests/bench/run.py NAME [--json]`, NAME one of NAMES (ingest … match, cdc) or all.

Each prints one JSON object with the figures named in docs/PERFORMANCE.md (details go to stderr; `--json`
prints only the object, on one line). Each starts what it needs (Redis from REDIS_URL or embedded, gunicorn,
rq workers, the sandboxes) on 127.0.0.1 and stops it. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

NAMES = ["ingest", "intake_cpu", "pipeline", "api_calls", "scale", "latency", "dashboard", "match", "cdc"]


def main(argv: list[str] | None = None) -> int:
    """Run one benchmark (or all) and print its figures."""
    parser = argparse.ArgumentParser(prog="tests/bench/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=NAMES + ["all"])
    parser.add_argument("--json", action="store_true", help="only the JSON object, on one line")
    args = parser.parse_args(argv)
    from tests.bench.procs import prepare_environment
    from tests.bench.report import VERBOSE

    VERBOSE["on"] = not args.json
    work = prepare_environment()
    names = NAMES if args.name == "all" else [args.name]
    results = {name: _one(name, work) for name in names}
    result = results if args.name == "all" else results[args.name]
    print(json.dumps(result, separators=(",", ":")) if args.json else json.dumps(result, indent=2))
    return 0


def _one(name: str, work: Path) -> dict:
    """Run one benchmark module and return its figures."""
    from tests.bench.report import note

    started = time.monotonic()
    note(f"{name}: logs of the processes under {work}")
    result = importlib.import_module(f"tests.bench.{name}").run(work)
    note(f"{name}: {time.monotonic() - started:.0f} s")
    return result


if __name__ == "__main__":
    sys.exit(main())
