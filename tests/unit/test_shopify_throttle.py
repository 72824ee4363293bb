"""The in-process cost bucket, and how the GraphQL client and the app use a pluggable bucket."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
import responses

from adapters.shopify import ShopifyApp, ShopifyClient
from adapters.shopify.throttle import Bucket, CostBucket, CostReport, LocalBuckets, Reservation
from tests.unit.bucket_contract import SCENARIOS, granted, learn, level, refused
from tests.unit.shopify_fakes import CONFIG, GRAPHQL_URL, SHOP, FakeClock, cost, credentials

pytestmark = pytest.mark.unit

COUNT_OK = {"data": {"productsCount": {"count": 3, "precision": "EXACT"}}, "extensions": cost()}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_cost_bucket_contract(scenario: Callable[[Bucket], None], clock: FakeClock) -> None:
    scenario(CostBucket(clock.time))


def test_the_bucket_refills_at_the_restore_rate_up_to_its_size(clock: FakeClock) -> None:
    bucket = CostBucket(clock.time)
    learn(bucket, 10)
    refused(bucket.reserve(30))
    clock.sleep(0.5)  # 10 + 0.5 s x 1 point/s
    assert level(bucket) == pytest.approx(10.5)
    clock.sleep(19.5)
    granted(bucket.reserve(30))
    clock.sleep(1000)
    assert bucket.available() == 100  # never above the bucket's size


class RecordingBucket(CostBucket):
    """A CostBucket that remembers what it was asked; ``refuse`` first answers "wait" with these."""

    def __init__(self, clock: FakeClock, refuse: tuple[float, ...] = ()) -> None:
        super().__init__(clock.time)
        self.refuse = list(refuse)
        self.reserved: list[float] = []
        self.settled: list[CostReport | None] = []

    def reserve(self, cost: float) -> Reservation:
        self.reserved.append(cost)
        if self.refuse:
            return Reservation(cost, wait=self.refuse.pop(0))
        return super().reserve(cost)

    def settle(self, reservation: Reservation, report: CostReport | None) -> None:
        self.settled.append(report)
        super().settle(reservation, report)


def client_on(bucket: Bucket, clock: FakeClock) -> ShopifyClient:
    return ShopifyClient(CONFIG, SHOP, credentials(), None, clock.runtime(), lambda _shop: bucket)


def test_the_client_waits_as_long_as_the_bucket_says_then_asks_again(clock: FakeClock) -> None:
    bucket = RecordingBucket(clock, refuse=(0.3, 0.2))
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, GRAPHQL_URL, json=COUNT_OK)
        client = client_on(bucket, clock)
        assert client.products_count() == 3
    assert clock.sleeps == [0.3, 0.2]
    assert client.graphql.stats.waited == pytest.approx(0.5)
    assert len(bucket.reserved) == 3 and len(bucket.settled) == 1
    assert bucket.settled[0] is not None and bucket.settled[0].actual == 10
    assert level(bucket, 1000, 50) == pytest.approx(990)  # the answer's report


def test_every_granted_reservation_is_settled_even_when_the_request_fails(clock: FakeClock) -> None:
    bucket = RecordingBucket(clock)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, GRAPHQL_URL, body=requests.ConnectionError("reset by peer"))
        rsps.add(responses.POST, GRAPHQL_URL, json={"errors": "down"}, status=503)
        rsps.add(responses.POST, GRAPHQL_URL, json=COUNT_OK)
        assert client_on(bucket, clock).products_count() == 3
    assert bucket.settled[:2] == [None, None]  # no report: those points stay spent
    assert isinstance(bucket.settled[2], CostReport)
    assert len(bucket.reserved) == 3


def test_the_app_hands_each_shop_its_bucket_from_the_factory(clock: FakeClock) -> None:
    made: dict[str, CostBucket] = {}

    def factory(shop: str) -> CostBucket:
        return made.setdefault(shop, CostBucket(clock.time))

    app = ShopifyApp(CONFIG, clock.runtime(), bucket_factory=factory)
    client = app.client(SHOP.split(".")[0].upper(), credentials())  # a bare, upper-case name
    assert list(made) == [SHOP]  # asked with the sanitized domain
    assert client.graphql.bucket is made[SHOP]


def test_by_default_the_clients_of_one_process_share_a_bucket_per_shop(clock: FakeClock) -> None:
    app = ShopifyApp(CONFIG, clock.runtime())
    assert isinstance(app.bucket_factory, LocalBuckets)
    first, second = app.client(SHOP, credentials()), app.client(SHOP, credentials())
    other = app.client("other-shop.myshopify.com", credentials())
    assert first.graphql.bucket is second.graphql.bucket
    assert other.graphql.bucket is not first.graphql.bucket
    alone = ShopifyClient(CONFIG, SHOP, credentials(), None, clock.runtime())
    assert alone.graphql.bucket is not first.graphql.bucket  # a bare client keeps its own


def test_a_report_reads_the_actual_cost_and_zero_when_nothing_was_charged() -> None:
    ok = CostReport.from_extensions(cost(requested=50, available=900))
    assert ok is not None and (ok.actual, ok.status.available, ok.status.maximum) == (50, 900, 1000)
    throttled: dict[str, Any] = cost(requested=500, available=100)
    throttled["cost"]["actualQueryCost"] = None
    report = CostReport.from_extensions(throttled)
    assert report is not None and report.actual == 0
    assert CostReport.from_extensions({"cost": {"requestedQueryCost": 5}}) is None
    assert CostReport.from_extensions(None) is None
