"""Run the Boond sandbox alone: python -m sandboxes.boond [--port 8100] [--host 127.0.0.1]."""
from __future__ import annotations

import argparse

from werkzeug.serving import run_simple

from .app import SandboxConfig, create_app
from .dialect import DIALECTS


def main(argv: list[str] | None = None) -> None:
    """Serve the sandbox until interrupted."""
    parser = argparse.ArgumentParser(description="BoondManager API sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--dialect", choices=DIALECTS, default="documented")
    args = parser.parse_args(argv)
    run_simple(args.host, args.port, create_app(SandboxConfig(dialect=args.dialect)), threaded=True)


if __name__ == "__main__":
    main()
