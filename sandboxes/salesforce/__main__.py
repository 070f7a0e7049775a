"""Run the Salesforce sandbox alone: python -m sandboxes.salesforce [--port 8200] [--host 127.0.0.1]."""
from __future__ import annotations

import argparse

from werkzeug.serving import run_simple

from .app import create_app


def main(argv: list[str] | None = None) -> None:
    """Serve the sandbox until interrupted."""
    parser = argparse.ArgumentParser(description="Salesforce API sandbox (one org)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8200)
    args = parser.parse_args(argv)
    run_simple(args.host, args.port, create_app(), threaded=True)


if __name__ == "__main__":
    main()
