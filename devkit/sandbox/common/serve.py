"""Serve a WSGI app on loopback in a daemon thread (ephemeral port by default)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class QuietRequestHandler(WSGIRequestHandler):
    """A request handler that does not log every request line to stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Drop the access log line (errors are still logged)."""


@dataclass
class Served:
    """A running server: its base URL and a way to stop it."""

    server: BaseWSGIServer
    thread: threading.Thread
    host: str
    _stopped: bool = field(default=False, repr=False)

    @property
    def port(self) -> int:
        """The bound TCP port."""
        return int(self.server.server_port)

    @property
    def url(self) -> str:
        """``http://host:port`` without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """Stop accepting requests and close the listening socket (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(app: Flask, host: str = "127.0.0.1", port: int = 0, quiet: bool = True) -> Served:
    """Start ``app`` on ``host:port`` (port 0: any free port) with one thread per request.

    ``quiet`` drops the per-request access log.
    """
    handler = QuietRequestHandler if quiet else WSGIRequestHandler
    server = make_server(host, port, app, threaded=True, request_handler=handler)
    # Requests that hang on purpose (fault injection) must not hold up stop().
    server.block_on_close = False  # type: ignore[attr-defined]
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"sandbox-{server.server_port}",
        daemon=True,
    )
    thread.start()
    return Served(server=server, thread=thread, host=host)
