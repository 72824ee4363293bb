"""What every cost bucket must do, run on the in-process CostBucket (unit) and on the Redis one
(integration).  A scenario gets a fresh, unknown bucket whose clock barely moves during it:
frozen for CostBucket, Redis's own for RedisBucket, with a restore rate of 1 point per second so
the milliseconds a scenario takes change no figure by more than the tolerance.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from adapters.shopify.throttle import PROBE_WAIT, Bucket, CostReport, Reservation, ThrottleStatus

MAXIMUM = 100.0
RATE = 1.0


def report(available: float, actual: float, maximum: float = MAXIMUM, rate: float = RATE) -> CostReport:
    """An answer's report: the bucket after it, and what the query really cost."""
    return CostReport(ThrottleStatus(maximum, available, rate), actual)


def level(bucket: Bucket, maximum: float = MAXIMUM, rate: float = RATE) -> float:
    """Points the bucket holds now, read through delay_for (a full bucket reads as the maximum)."""
    return maximum - bucket.delay_for(maximum) * rate


def granted(reservation: Reservation) -> Reservation:
    assert reservation.granted, f"expected the points to be granted: {reservation}"
    assert reservation.wait == 0
    return reservation


def refused(reservation: Reservation) -> Reservation:
    assert not reservation.granted, f"expected to be told to wait: {reservation}"
    assert reservation.wait > 0
    return reservation


def learn(bucket: Bucket, available: float) -> None:
    """Bring a fresh bucket to a known level, as a first answer does."""
    bucket.settle(granted(bucket.reserve(0)), report(available, 0))
    assert bucket.known
    assert level(bucket) == pytest.approx(available, abs=0.2)


def unknown_bucket_lets_one_query_out_to_learn_it(bucket: Bucket) -> None:
    assert not bucket.known
    assert bucket.delay_for(500) == 0
    probe = granted(bucket.reserve(500))
    waiting = refused(bucket.reserve(10))  # the probe is out: the others wait for its report
    assert waiting.wait == pytest.approx(PROBE_WAIT)
    bucket.settle(probe, None)  # no answer: the next query probes
    assert not bucket.known
    second = granted(bucket.reserve(10))
    bucket.settle(second, report(40, 10))
    assert bucket.known
    assert level(bucket) == pytest.approx(40, abs=0.2)


def points_are_granted_once(bucket: Bucket) -> None:
    learn(bucket, 100)
    first = granted(bucket.reserve(60))
    refused(bucket.reserve(60))  # only 40 left: wait, and nothing is taken
    assert bucket.delay_for(60) == pytest.approx(20, abs=0.2)
    granted(bucket.reserve(40))
    assert level(bucket) == pytest.approx(0, abs=0.2)
    assert first.hold is not None


def a_report_does_not_count_queries_still_in_flight(bucket: Bucket) -> None:
    learn(bucket, 100)
    slow = granted(bucket.reserve(60))
    quick = granted(bucket.reserve(30))
    # Shopify had only 60 (40 went unseen): the quick query's answer reports 55 (it cost 5), and
    # the slow one, not at Shopify yet, will need 60 of those
    bucket.settle(quick, report(55, 5))
    assert level(bucket) == pytest.approx(-5, abs=0.2)
    refused(bucket.reserve(5))
    bucket.settle(slow, report(0, 55))
    assert level(bucket) == pytest.approx(0, abs=0.2)


def a_late_older_report_cannot_raise_the_bucket(bucket: Bucket) -> None:
    learn(bucket, 100)
    first = granted(bucket.reserve(30))
    second = granted(bucket.reserve(60))
    # Shopify ran `first` (100 -> 95) then `second` (95 -> 90), but their answers arrive the other way
    bucket.settle(second, report(90, 5))
    assert level(bucket) == pytest.approx(60, abs=0.2)  # 90 minus `first`, still in flight
    bucket.settle(first, report(95, 5))  # older: it does not know `second` was charged
    assert level(bucket) == pytest.approx(85, abs=0.2)  # our own account, not the stale 95


def a_throttled_answer_refunds_the_reservation(bucket: Bucket) -> None:
    learn(bucket, 100)
    query = granted(bucket.reserve(80))
    bucket.settle(query, report(30, 0))  # THROTTLED: someone else spent the points, nothing charged
    assert level(bucket) == pytest.approx(30, abs=0.2)
    assert bucket.delay_for(80) == pytest.approx(50, abs=0.2)


def without_an_answer_the_points_stay_spent(bucket: Bucket) -> None:
    learn(bucket, 100)
    lost = granted(bucket.reserve(70))
    bucket.settle(lost, None)  # a timeout: Shopify may have charged them
    assert level(bucket) == pytest.approx(30, abs=0.2)


def a_report_brings_the_size_and_rate(bucket: Bucket) -> None:
    learn(bucket, 100)
    bucket.settle(granted(bucket.reserve(10)), report(150, 10, maximum=2000, rate=4))
    assert bucket.delay_for(2000) == pytest.approx((2000 - 90) / 4, abs=0.2)  # our own account: 90


def a_query_above_the_maximum_waits_for_a_full_bucket(bucket: Bucket) -> None:
    learn(bucket, 50)
    assert bucket.delay_for(5000) == pytest.approx(50, abs=0.2)


SCENARIOS: list[Callable[[Bucket], None]] = [
    unknown_bucket_lets_one_query_out_to_learn_it,
    points_are_granted_once,
    a_report_does_not_count_queries_still_in_flight,
    a_late_older_report_cannot_raise_the_bucket,
    a_throttled_answer_refunds_the_reservation,
    without_an_answer_the_points_stay_spent,
    a_report_brings_the_size_and_rate,
    a_query_above_the_maximum_waits_for_a_full_bucket,
]
