"""sandbox.common over real HTTP on loopback: serving, injected faults and the webhook outbox."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import requests
from flask import Flask, request
from sandbox.common import DeliveryCancelled, FaultConfig, FaultInjector, Outbox, serve

pytestmark = pytest.mark.integration


class Receiver:
    """A webhook receiver whose answers the test scripts."""

    def __init__(self) -> None:
        self.app = Flask("receiver")
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self.hang = threading.Event()
        self.app.add_url_rule("/hook", view_func=self._hook, methods=["POST"])

    def _hook(self) -> tuple[str, int]:
        self.received.append((dict(request.headers), request.get_data()))
        if self.hang.is_set():
            time.sleep(1.0)
        return "", self.statuses.pop(0) if self.statuses else 200


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    r = Receiver()
    with serve(r.app) as served:
        yield r, served.url + "/hook"


@pytest.fixture
def faulty() -> Iterator[tuple[FaultInjector, str]]:
    app = Flask("faulty")
    app.add_url_rule("/api", "api", view_func=lambda: {"ok": True}, methods=["GET", "POST"])
    app.add_url_rule("/__sandbox/state", "state", view_func=lambda: {"admin": True})
    injector = FaultInjector(FaultConfig(error_rate=0.0, seed=1, hang_s=5))
    injector.install(app)
    served = serve(app)
    yield injector, served.url
    injector.release()
    served.stop()


def test_serve_binds_an_ephemeral_loopback_port_and_stops() -> None:
    app = Flask("x")
    app.add_url_rule("/", view_func=lambda: "hello")
    served = serve(app)
    assert served.url == f"http://127.0.0.1:{served.port}" and served.port > 0
    assert requests.get(served.url + "/", timeout=5).text == "hello"
    served.stop()
    served.stop()  # idempotent
    with pytest.raises(requests.ConnectionError):
        requests.get(served.url + "/", timeout=2)


@pytest.mark.parametrize("kind,statuses", [("500", {500, 502, 503}), ("503", {503}), ("429", {429})])
def test_injected_http_errors(faulty: tuple[FaultInjector, str], kind: str, statuses: set[int]) -> None:
    injector, url = faulty
    injector.update(error_rate=1.0, kinds=(kind,), retry_after=2)
    seen = set()
    for _ in range(6):
        resp = requests.get(url + "/api", timeout=5)
        seen.add(resp.status_code)
        assert resp.json()["data"]["status"] == resp.status_code
        if kind == "429":
            assert resp.headers["Retry-After"] == "2"
    assert seen == statuses
    # the admin surface is never faulted
    assert requests.get(url + "/__sandbox/state", timeout=5).json() == {"admin": True}


def test_injected_reset_drops_the_connection_without_an_answer(faulty: tuple[FaultInjector, str]) -> None:
    injector, url = faulty
    injector.update(error_rate=1.0, kinds=("reset",))
    for method in ("GET", "POST"):
        with pytest.raises(requests.ConnectionError):
            requests.request(method, url + "/api", data=b"x" * 5000, timeout=5)
    injector.update(error_rate=0.0)
    assert requests.get(url + "/api", timeout=5).json() == {"ok": True}


def test_injected_timeout_outlasts_the_client_and_latency_is_added(faulty: tuple[FaultInjector, str]) -> None:
    injector, url = faulty
    injector.update(error_rate=1.0, kinds=("timeout",))
    with pytest.raises(requests.Timeout):
        requests.get(url + "/api", timeout=0.3)
    injector.update(error_rate=0.0, latency_ms=150)
    started = time.monotonic()
    assert requests.get(url + "/api", timeout=5).ok
    assert time.monotonic() - started >= 0.15


def _signed(secret: bytes) -> Callable[[bytes], dict[str, str]]:
    def headers(body: bytes) -> dict[str, str]:
        return {"X-Signature": base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()}

    return headers


def test_outbox_delivers_late_signed_payload_built_at_send_time(receiver: tuple[Receiver, str]) -> None:
    r, url = receiver
    box = Outbox(delay=0.2).start()
    try:
        data = {"v": b"one"}
        box.post(url, lambda: data["v"], _signed(b"s3"), coalesce_key="product:1")
        data["v"] = b"two"
        box.post(url, lambda: data["v"], _signed(b"s3"), coalesce_key="product:1")
        assert r.received == []  # not yet: delivered late
        assert box.wait_idle(5)
    finally:
        box.stop()
    assert len(r.received) == 1
    headers, body = r.received[0]
    assert body == b"two"
    assert headers["X-Signature"] == _signed(b"s3")(b"two")["X-Signature"]
    (d,) = box.deliveries
    assert d.ok and d.status == 200 and d.attempts == 1 and d.coalesced == 1


def test_outbox_retries_failures_per_schedule_and_reports_each_attempt(
    receiver: tuple[Receiver, str],
) -> None:
    r, url = receiver
    results: list[tuple[str, int | None]] = []
    box = Outbox(retry_schedule=(0.05, 0.05), on_result=lambda d: results.append((d.state, d.status))).start()
    r.statuses = [500, 404]
    try:
        box.post(url, b"{}", {"Content-Type": "application/json"})
        assert box.wait_idle(5)
    finally:
        box.stop()
    assert results == [("pending", 500), ("pending", 404), ("delivered", 200)]
    assert box.deliveries[0].attempts == 3


def test_outbox_without_retries_fails_once_on_timeout_and_flush_sends_now(
    receiver: tuple[Receiver, str],
) -> None:
    r, url = receiver
    r.hang.set()
    failures: list[str | None] = []
    box = Outbox(delay=60, timeout=0.2, on_result=lambda d: failures.append(d.error))
    box.post(url, b"a", {})
    (d,) = box.flush()
    assert d.state == "failed" and d.attempts == 1 and "timeout" in (d.error or "")
    assert failures == [d.error]
    assert box.pending() == 0


def test_outbox_cancelled_delivery_is_not_sent(receiver: tuple[Receiver, str]) -> None:
    r, url = receiver
    box = Outbox()

    def body() -> bytes:
        raise DeliveryCancelled("webhook disabled")

    box.post(url, body, {})
    (d,) = box.flush()
    assert d.state == "cancelled" and d.error == "webhook disabled"
    assert r.received == []


def test_outbox_records_unreachable_receivers() -> None:
    box = Outbox(timeout=1)
    box.post("http://127.0.0.1:9/nothing-listens", b"x", {})
    (d,) = box.flush()
    assert d.state == "failed" and d.status is None and "ConnectionError" in (d.error or "")
