"""A webhook delivery queue running in a background thread, like a platform's webhook sender.

Each :meth:`Outbox.post` queues one delivery, due after ``delay`` seconds.  The body may be
a callable so the payload is built at send time (as WooCommerce does); ``headers`` may be a
callable of the final body (to sign it).  A pending delivery with the same ``coalesce_key``
is replaced instead of queued twice, keeping its original due time.  A receiver that answers
non-2xx or does not answer within ``timeout`` is retried after each entry of
``retry_schedule`` (empty: no retries).  ``on_result(delivery)`` runs after every attempt.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import requests

from sandbox.common.background import BackgroundLoop

BodySource = bytes | Callable[[], bytes]
HeaderSource = Mapping[str, str] | Callable[[bytes], Mapping[str, str]]

PENDING = "pending"
SENDING = "sending"
DELIVERED = "delivered"
FAILED = "failed"
CANCELLED = "cancelled"


class DeliveryCancelled(Exception):
    """Raised by a body or header callable: drop this delivery without sending it."""


@dataclass
class Delivery:
    """One queued or finished delivery.  The log hands out copies."""

    id: int
    url: str
    coalesce_key: str | None
    meta: dict[str, Any]
    created_at: float
    due_at: float
    state: str = PENDING
    attempts: int = 0
    status: int | None = None
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    coalesced: int = 0
    delivered_at: float | None = None
    _body_source: BodySource | None = field(default=None, repr=False)
    _header_source: HeaderSource | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """Whether the receiver accepted it (2xx)."""
        return self.state == DELIVERED

    def snapshot(self) -> Delivery:
        """A copy safe to hand out (no callables)."""
        return replace(
            self, headers=dict(self.headers), meta=dict(self.meta), _body_source=None, _header_source=None
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly view for admin routes."""
        return {
            "id": self.id,
            "url": self.url,
            "state": self.state,
            "status": self.status,
            "attempts": self.attempts,
            "error": self.error,
            "headers": dict(self.headers),
            "body": self.body.decode("utf-8", "replace") if self.body is not None else None,
            "coalesce_key": self.coalesce_key,
            "coalesced": self.coalesced,
            "meta": dict(self.meta),
            "created_at": self.created_at,
            "due_at": self.due_at,
            "delivered_at": self.delivered_at,
        }


class Outbox(BackgroundLoop):
    """Background webhook sender with delay, coalescing, retries and an inspectable log.

    :meth:`start` runs the sender thread; after :meth:`stop` pending deliveries stay queued
    (:meth:`flush` can still send them).
    """

    def __init__(
        self,
        delay: float = 0.0,
        retry_schedule: tuple[float, ...] = (),
        timeout: float = 5.0,
        on_result: Callable[[Delivery], None] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        super().__init__("sandbox-outbox")
        self.delay = delay
        self.retry_schedule = tuple(retry_schedule)
        self.timeout = timeout
        self.on_result = on_result
        self._session = session or requests.Session()
        self._log: list[Delivery] = []
        self._ids = itertools.count(1)
        self._busy = 0

    # --- queueing -----------------------------------------------------------------------

    def post(
        self,
        url: str,
        body: BodySource,
        headers: HeaderSource | None = None,
        coalesce_key: str | None = None,
        *,
        delay: float | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> Delivery:
        """Queue a delivery (or refresh the pending one with the same coalesce key); a snapshot."""
        now = time.time()
        with self._cond:
            existing = self._pending_with_key(coalesce_key) if coalesce_key else None
            if existing is not None:
                existing.url = url
                existing._body_source = body
                existing._header_source = headers or {}
                existing.meta.update(meta or {})
                existing.coalesced += 1
                return existing.snapshot()
            due = now + (self.delay if delay is None else delay)
            delivery = Delivery(
                id=next(self._ids),
                url=url,
                coalesce_key=coalesce_key,
                meta=dict(meta or {}),
                created_at=now,
                due_at=due,
                _body_source=body,
                _header_source=headers or {},
            )
            self._log.append(delivery)
            self._cond.notify_all()
            return delivery.snapshot()

    def _pending_with_key(self, key: str) -> Delivery | None:
        return next((d for d in self._log if d.state == PENDING and d.coalesce_key == key), None)

    # --- inspection ---------------------------------------------------------------------

    @property
    def deliveries(self) -> list[Delivery]:
        """Every delivery ever queued, oldest first (copies)."""
        with self._cond:
            return [d.snapshot() for d in self._log]

    def pending(self) -> int:
        """How many deliveries wait to be sent (including scheduled retries)."""
        with self._cond:
            return sum(1 for d in self._log if d.state in (PENDING, SENDING))

    def clear(self) -> None:
        """Forget finished deliveries (pending ones stay)."""
        with self._cond:
            self._log = [d for d in self._log if d.state in (PENDING, SENDING)]

    # --- sending ------------------------------------------------------------------------

    def flush(self) -> list[Delivery]:
        """Send everything pending now, in the caller's thread; snapshots of what was attempted."""
        attempted: list[Delivery] = []
        while True:
            with self._cond:
                self._wait_until_not_busy()
                batch = [d for d in self._log if d.state == PENDING]
                for d in batch:
                    d.state = SENDING
            if not batch:
                return attempted
            for d in batch:
                self._attempt(d)
                attempted.append(d.snapshot())
            # retries scheduled by this flush wait for their time; only first attempts are forced
            with self._cond:
                if not any(d.state == PENDING and d.attempts == 0 for d in self._log):
                    return attempted

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is pending or sending; False on timeout."""
        deadline = time.time() + timeout
        with self._cond:
            while any(d.state in (PENDING, SENDING) for d in self._log):
                left = deadline - time.time()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
            return True

    def _wait_until_not_busy(self) -> None:
        while self._busy:
            self._cond.wait(0.05)

    def _join_timeout(self) -> float:
        return self.timeout + 2

    def _loop(self) -> None:
        while True:
            with self._cond:
                if not self._running:
                    return
                now = time.time()
                due = [d for d in self._log if d.state == PENDING and d.due_at <= now]
                if not due:
                    waiting = [d.due_at for d in self._log if d.state == PENDING]
                    timeout = max(0.0, min(waiting) - now) if waiting else None
                    self._cond.wait(timeout if timeout is None else min(timeout, 1.0))
                    continue
                for d in due:
                    d.state = SENDING
                self._busy += 1
            try:
                for d in due:
                    self._attempt(d)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _attempt(self, d: Delivery) -> None:
        """Build, send and record one attempt of ``d`` (which is in state SENDING)."""
        try:
            body = d._body_source() if callable(d._body_source) else (d._body_source or b"")
            source = d._header_source
            headers = dict(source(body) if callable(source) else (source or {}))
        except DeliveryCancelled as exc:
            with self._cond:
                d.state, d.error = CANCELLED, str(exc) or "cancelled"
                self._cond.notify_all()
            return
        status: int | None = None
        error: str | None = None
        try:
            resp = self._session.post(d.url, data=body, headers=headers, timeout=self.timeout)
            status = resp.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except requests.Timeout:
            error = f"timeout after {self.timeout:g}s"
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        with self._cond:
            d.body, d.headers = body, headers
            d.attempts += 1
            d.status, d.error = status, error
            if error is None:
                d.state, d.delivered_at = DELIVERED, time.time()
            elif d.attempts <= len(self.retry_schedule):
                d.state, d.due_at = PENDING, time.time() + self.retry_schedule[d.attempts - 1]
            else:
                d.state = FAILED
            snapshot = d.snapshot()
            self._cond.notify_all()
        if self.on_result is not None:
            self.on_result(snapshot)
