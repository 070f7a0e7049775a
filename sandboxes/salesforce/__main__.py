"""Run the Salesforce sandbox alone: python -m sandboxes.salesforce [--port 8200] [--host 127.0.0.1] [--grpc-port 7443]."""
from __future__ import annotations

import argparse

from werkzeug.serving import run_simple

from .app import create_app


def main(argv: list[str] | None = None) -> None:
    """Serve the sandbox until interrupted (with its Pub/Sub API on loopback when --grpc-port is given)."""
    parser = argparse.ArgumentParser(description="Salesforce API sandbox (one org)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--grpc-port", type=int, default=None, help="serve the Pub/Sub API (change data capture) "
                                                                    "on 127.0.0.1 at this port")
    args = parser.parse_args(argv)
    app = create_app()
    if args.grpc_port is not None:
        from .pubsub import serve

        _, port = serve(app.extensions["salesforce_sandbox"], args.grpc_port)
        print(f"Pub/Sub API on 127.0.0.1:{port} (INTERMISSION_SF_PUBSUB_ENDPOINT=127.0.0.1:{port})")
    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
