"""Fault injection for the sandbox stores: latency, 5xx, 429, connection resets and hangs.

Install it on a Flask app; a ``before_request`` hook then delays every request by
``latency_ms`` and fails a fraction ``error_rate`` of them with one of ``kinds``:

* ``"500"`` — HTTP 500, 502 or 503 (rotating); ``"502"`` / ``"503"`` give that status only;
* ``"429"`` — HTTP 429 with ``Retry-After: retry_after``;
* ``"reset"`` — the TCP connection is reset without an answer;
* ``"timeout"`` — the request hangs for ``hang_s`` seconds (longer than a client's timeout), then 504.

Paths under ``exempt_prefixes`` (the sandbox admin routes) are never touched.
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace
from typing import Any

from flask import Flask, Response, jsonify, request

ErrorRenderer = Callable[[int, str, str], Response]

FAULT_KINDS = ("500", "502", "503", "429", "reset", "timeout")


@dataclass(frozen=True)
class FaultConfig:
    """What to inject; every field can be changed later with :meth:`FaultInjector.update`."""

    error_rate: float = 0.0
    kinds: tuple[str, ...] = ("500", "429", "reset", "timeout")
    latency_ms: int = 0
    retry_after: float = 1.0
    seed: int | None = None
    hang_s: float = 10.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError(f"error_rate must be within 0..1, got {self.error_rate}")
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; choose from {FAULT_KINDS}")
        if self.error_rate > 0 and not self.kinds:
            raise ValueError("error_rate > 0 needs at least one fault kind")

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly view (for the admin routes)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["kinds"] = list(self.kinds)
        return out


class _ResetStream:
    """A response body that resets the connection instead of producing bytes."""

    def __init__(self, sock: socket.socket | None) -> None:
        self._sock = sock

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        # werkzeug treats ConnectionError as "client went away" and writes nothing; the
        # socket, with SO_LINGER 0 and reads shut, is then closed with a TCP RST.
        raise ConnectionResetError("sandbox fault: connection reset")


class FaultInjector:
    """Injects the faults of a :class:`FaultConfig` into a Flask app."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._config = config or FaultConfig()
        self._lock = threading.Lock()
        self._rng = random.Random(self._config.seed)
        self._status_cycle = 0
        self._wake = threading.Event()
        self.injected: dict[str, int] = {}
        self._render: ErrorRenderer = default_error

    @property
    def config(self) -> FaultConfig:
        """The configuration in force."""
        return self._config

    def update(self, **changes: Any) -> FaultConfig:
        """Change some fields (e.g. ``error_rate=0``); wakes requests hanging on a timeout fault."""
        if "kinds" in changes:
            changes["kinds"] = tuple(changes["kinds"])
        with self._lock:
            new = replace(self._config, **changes)
            if "seed" in changes:
                self._rng = random.Random(new.seed)
            self._config = new
        self._wake.set()
        self._wake = threading.Event()
        return new

    def release(self) -> None:
        """Let every hanging request finish now (used when a server stops)."""
        self._wake.set()

    def install(
        self,
        app: Flask,
        exempt_prefixes: tuple[str, ...] = ("/__sandbox",),
        render_error: ErrorRenderer | None = None,
    ) -> None:
        """Register the ``before_request`` hook on ``app``.

        ``render_error(status, code, message)`` shapes injected error answers the way the
        emulated platform does (default: WooCommerce's ``{code, message, data: {status}}``).
        """
        if render_error is not None:
            self._render = render_error

        def inject() -> Response | None:
            if request.path.startswith(exempt_prefixes):
                return None
            return self._maybe_fail()

        app.before_request(inject)

    def choose(self) -> str | None:
        """Roll the dice: the fault kind for this request, or None."""
        with self._lock:
            cfg = self._config
            if cfg.error_rate <= 0 or self._rng.random() >= cfg.error_rate:
                return None
            kind = self._rng.choice(cfg.kinds)
            self.injected[kind] = self.injected.get(kind, 0) + 1
            return kind

    def _maybe_fail(self) -> Response | None:
        cfg = self._config
        wake = self._wake
        if cfg.latency_ms > 0:
            wake.wait(cfg.latency_ms / 1000.0)
        kind = self.choose()
        if kind is None:
            return None
        request.get_data()  # consume the body so nothing is left on the connection
        if kind in ("500", "502", "503"):
            return self._render(self._status_for(kind), "sandbox_fault", "Injected server error.")
        if kind == "429":
            resp = self._render(429, "sandbox_rate_limited", "Too many requests; slow down.")
            resp.headers["Retry-After"] = _retry_after_text(cfg.retry_after)
            return resp
        if kind == "reset":
            return self._reset()
        wake.wait(cfg.hang_s)
        return self._render(504, "sandbox_timeout", "Injected gateway timeout.")

    def _status_for(self, kind: str) -> int:
        if kind != "500":
            return int(kind)
        with self._lock:
            self._status_cycle += 1
            return (500, 502, 503)[self._status_cycle % 3]

    @staticmethod
    def _reset() -> Response:
        sock = request.environ.get("werkzeug.socket")
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                # Reads now see EOF, so the server stops serving this connection and closes it.
                sock.shutdown(socket.SHUT_RD)
        return Response(_ResetStream(sock if isinstance(sock, socket.socket) else None))


def _retry_after_text(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def default_error(status: int, code: str, message: str) -> Response:
    """An error answer in WooCommerce's shape."""
    resp = jsonify({"code": code, "message": message, "data": {"status": status}})
    resp.status_code = status
    return resp
