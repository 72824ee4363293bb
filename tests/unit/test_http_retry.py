"""The platform-neutral retry policy and webhook signatures both adapters share."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from adapters.http_retry import RetryPolicy
from adapters.shopify.config import ShopifyConfig
from adapters.shopify.http import Runtime, retry_policy
from adapters.signing import body_signature, header, signature_matches
from connector.errors import TransientError

pytestmark = pytest.mark.unit


def _slow_down(seconds: float, failures: int) -> tuple[list[float], Callable[[], str]]:
    """An action that asks to wait ``seconds`` ``failures`` times, then answers "done"."""
    calls: list[float] = []

    def action() -> str:
        calls.append(seconds)
        if len(calls) <= failures:
            raise TransientError("busy", retry_after=seconds)
        return "done"

    return calls, action


@pytest.mark.parametrize(("max_wait", "expected"), [(None, 30.0), (120.0, 100.0), (50.0, 50.0)])
def test_retry_after_is_honoured_up_to_the_longest_wait(max_wait: float | None, expected: float) -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(attempts=3, cap=30.0, sleep=sleeps.append, max_wait=max_wait)
    _, action = _slow_down(100.0, failures=1)
    assert policy.run(action) == "done"
    assert sleeps == [expected]


def test_shopify_policy_honours_retry_after_up_to_four_times_the_cap() -> None:
    sleeps: list[float] = []
    policy = retry_policy(ShopifyConfig(backoff_max=10.0), Runtime(sleep=sleeps.append))
    _, action = _slow_down(100.0, failures=1)
    assert policy.run(action) == "done"
    assert sleeps == [40.0]


def test_gives_up_after_the_attempts_and_can_find_a_lost_answer() -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(attempts=3, base=1.0, sleep=sleeps.append, rng=lambda: 1.0)
    calls, action = _slow_down(0.0, failures=5)
    with pytest.raises(TransientError):
        policy.run(action)
    assert len(calls) == 3 and sleeps == [0.0, 0.0]
    assert policy.run(action, before_retry=lambda: "found") == "found"


def test_signatures_are_base64_hmac_of_the_body_compared_whole() -> None:
    good = body_signature(b'{"id": 1}', "s3cret")
    assert good == "znsdkYCAk1lKD3Dtkic/QcY14BRZ/tOffwvL4Jyjy8c="
    assert signature_matches(f" {good}\n", b'{"id": 1}', "s3cret")
    assert not signature_matches(good, b'{"id": 2}', "s3cret")
    assert not signature_matches(good, b'{"id": 1}', "other")
    assert not signature_matches(good[:-2] + "é=", b'{"id": 1}', "s3cret")
    assert header({"x-wc-webhook-signature": good}, "X-WC-Webhook-Signature") == good
    assert header({}, "X-Shopify-Hmac-Sha256") is None
