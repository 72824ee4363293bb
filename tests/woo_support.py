"""Test helpers for the WooCommerce sandbox and adapter: a scriptable receiver on loopback."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask, Response, request
from sandbox.common import serve

#: anything with a ``url`` attribute to fill in
S = TypeVar("S", bound=Any)


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    query: dict[str, str]


@dataclass
class Receiver:
    """Records webhook deliveries / callbacks, answers with scripted statuses, serves files."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    statuses: dict[str, list[int]] = field(default_factory=dict)  # path -> statuses to answer, in order
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # path -> (bytes, mime)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def at(self, path: str) -> list[Received]:
        """Requests received on ``path``."""
        with self.lock:
            return [r for r in self.received if r.path == path]

    def wait_for(self, path: str, count: int = 1, timeout: float = 10.0) -> list[Received]:
        """Block until ``count`` requests arrived on ``path``."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self.at(path)
            if len(got) >= count:
                return got
            time.sleep(0.02)
        raise AssertionError(f"expected {count} requests on {path}, got {len(self.at(path))}")


def _app(state: Receiver) -> Flask:
    app = Flask("receiver")

    @app.route("/<path:path>", methods=["GET", "POST"])
    def anything(path: str) -> Response:
        full = "/" + path
        if request.method == "GET":
            if full not in state.files:
                return Response("Not Found", status=404)
            data, mime = state.files[full]
            return Response(data, mimetype=mime)
        with state.lock:
            state.received.append(
                Received(
                    full, dict(request.headers), request.get_data(), {k: v for k, v in request.args.items()}
                )
            )
            queue = state.statuses.get(full)
            status = queue.pop(0) if queue else 200
        return Response("ok" if status < 400 else "no", status=status)

    return app


@contextmanager
def serving(app: Flask, state: S) -> Iterator[S]:
    """``app`` served on an ephemeral loopback port; ``state.url`` is set to its URL."""
    with serve(app) as served:
        state.url = served.url
        yield state


@contextmanager
def receiver() -> Iterator[Receiver]:
    """A receiver served on an ephemeral loopback port."""
    state = Receiver()
    with serving(_app(state), state) as served:
        yield served
