"""Benchmarks: `tests/bench/run.py NAME [--json]`, NAME one of NAMES (ingest … match, cdc), all, or one of LONG
(`backfill [--size N] [--seed S] [--whole-only | --killed-only]`, left out of `all`).

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

NAMES = ["ingest", "intake_cpu", "job_cpu", "pipeline", "api_calls", "scale", "latency", "dashboard", "match", "cdc"]
LONG = ["backfill"]  # by name only: 5,000 missions at Boond's 10 calls/s take hours (docs/PERFORMANCE.md, "Backfill")


def main(argv: list[str] | None = None) -> int:
    """Run one benchmark (or all) and print its figures."""
    parser = argparse.ArgumentParser(prog="tests/bench/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=NAMES + LONG + ["all"])
    parser.add_argument("--json", action="store_true", help="only the JSON object, on one line")
    parser.add_argument("--size", type=int, default=None, help="backfill: the tenant's missions (default 5,000)")
    parser.add_argument("--seed", type=int, default=None, help="backfill: the seed of the kill point")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--whole-only", action="store_true", default=None,
                        help="backfill: the whole run alone, without the killed one (half the time)")
    only.add_argument("--killed-only", action="store_true", default=None,
                        help="backfill: the killed run alone, set against its own floor (half the time)")
    args = parser.parse_args(argv)
    import handlers.hosts.registry  # noqa: F401 - the hosts' lines, before any tenant is built (as every process does)
    from tests.bench.procs import prepare_environment
    from tests.bench.report import VERBOSE

    VERBOSE["on"] = not args.json
    work = prepare_environment()
    names = NAMES if args.name == "all" else [args.name]
    options = {k: v for k, v in (("size", args.size), ("seed", args.seed), ("whole_only", args.whole_only),
                                 ("killed_only", args.killed_only)) if v is not None}
    results = {name: _one(name, work, **(options if name in LONG else {})) for name in names}
    result = results if args.name == "all" else results[args.name]
    print(json.dumps(result, separators=(",", ":")) if args.json else json.dumps(result, indent=2))
    return 0


def _one(name: str, work: Path, **options) -> dict:
    """Run one benchmark module and return its figures."""
    from tests.bench.report import note

    started = time.monotonic()
    note(f"{name}: logs of the processes under {work}")
    result = importlib.import_module(f"tests.bench.{name}").run(work, **options)
    note(f"{name}: {time.monotonic() - started:.0f} s")
    return result


if __name__ == "__main__":
    sys.exit(main())
