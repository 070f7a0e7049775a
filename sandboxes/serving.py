"""Serve a WSGI app on a loopback port in a background thread (sandboxes, demo, tests)."""
from __future__ import annotations

import threading

from werkzeug.serving import make_server

POLL_SECONDS = 0.02  # how often the serving loop looks for a stop request: `stop()` waits up to that long


class ThreadedServer:
    """A real HTTP server on 127.0.0.1; `url` is its base address."""

    def __init__(self, app, port: int = 0, host: str = "127.0.0.1"):
        self._server = make_server(host, port, app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(POLL_SECONDS,), daemon=True)

    def start(self) -> "ThreadedServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "ThreadedServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
