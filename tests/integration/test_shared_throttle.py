"""The Redis-backed cost bucket shared by every worker: its Lua scripts on embedded and real Redis."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redis import Redis

from adapters.shopify.shared_bucket import RedisBucket, SharedBuckets
from adapters.shopify.throttle import PROBE_WAIT, Bucket, Reservation
from connector.errors import TransientError
from connector.platforms import DeploymentState, build_platforms
from connector.queue import redis_connection
from connector.settings import Settings
from tests.conftest import _real_redis, base_env
from tests.unit.bucket_contract import SCENARIOS, granted, learn, level, refused, report

pytestmark = pytest.mark.integration

SHOP = "shared-shop.myshopify.com"


@pytest.fixture(scope="module", params=["embedded", "real"])
def var_and_redis(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str]:
    """One embedded Redis for the module (each one started costs a second at exit), or the real one."""
    url = "" if request.param == "embedded" else _real_redis()
    return tmp_path_factory.mktemp("shared-throttle"), url


@pytest.fixture
def settings(var_and_redis: tuple[Path, str]) -> Settings:
    """Settings on embedded or real Redis, in a namespace of this test's own."""
    var_dir, url = var_and_redis
    return Settings.from_env(base_env(var_dir, REDIS_URL=url))


@pytest.fixture
def redis(settings: Settings) -> Iterator[Redis]:
    conn = redis_connection(settings)
    yield conn
    for key in conn.scan_iter(match=settings.redis_key("*")):
        conn.delete(key)


@pytest.fixture
def buckets(settings: Settings, redis: Redis) -> SharedBuckets:
    return SharedBuckets(DeploymentState(settings), settings.http_timeout)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_redis_bucket_contract(scenario: Callable[[Bucket], None], buckets: SharedBuckets) -> None:
    scenario(buckets(SHOP))


def test_workers_share_the_bucket_of_a_shop_under_the_namespace(
    settings: Settings, buckets: SharedBuckets, redis: Redis
) -> None:
    one, other = buckets(SHOP), buckets(SHOP)  # two workers
    assert one.key == other.key == f"{settings.redis_namespace}:throttle:shopify:{SHOP}"
    learn(one, 100)
    granted(one.reserve(70))
    refused(other.reserve(70))  # the other worker sees the points taken
    assert level(other) == pytest.approx(30, abs=0.2)
    assert buckets("another-shop.myshopify.com").known is False


def test_no_points_are_granted_twice_under_concurrent_workers(buckets: SharedBuckets, redis: Redis) -> None:
    learn(buckets(SHOP), 100)
    grants: list[bool] = []
    start = threading.Barrier(8)

    def worker() -> None:
        bucket = buckets(SHOP)
        start.wait()
        for _ in range(5):
            grants.append(bucket.reserve(10).granted)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(grants) == 40
    assert grants.count(True) == 10  # 100 points, 10 each: the refill during the test is < 1 point


def test_time_is_the_servers_not_the_hosts(buckets: SharedBuckets, monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = buckets(SHOP)
    bucket.settle(granted(bucket.reserve(0)), report(0, 0, rate=100))  # empty, 100 points per second
    refused(bucket.reserve(20))
    real_sleep = time.sleep
    # this host's clocks stand still (a worker on a host whose clock is off): only Redis's TIME moves
    monkeypatch.setattr(time, "time", lambda: 1_000_000_000.0)
    monkeypatch.setattr(time, "monotonic", lambda: 42.0)
    real_sleep(0.4)
    granted(bucket.reserve(20))


def test_the_holds_of_a_worker_that_died_expire(settings: Settings, redis: Redis) -> None:
    key = settings.redis_key("throttle", "dies")
    bucket = RedisBucket(redis, key, hold_seconds=0.4, probe_seconds=0.1)
    granted(bucket.reserve(10))  # the probe of a worker killed before its answer came
    waiting = refused(bucket.reserve(10))
    assert waiting.wait == pytest.approx(PROBE_WAIT)
    time.sleep(0.2)  # the others wait for a probe only briefly
    learn(bucket, 100)
    granted(bucket.reserve(60))  # killed again, the bucket known this time: a longer hold
    time.sleep(0.2)
    assert any(name.startswith(b"h:") for name in redis.hkeys(key))
    time.sleep(0.3)
    learn_more = granted(bucket.reserve(0))
    bucket.settle(learn_more, report(100, 0))
    assert not any(name.startswith(b"h:") for name in redis.hkeys(key))


def test_the_bucket_expires_when_idle(settings: Settings, redis: Redis) -> None:
    key = settings.redis_key("throttle", "idle")
    bucket = RedisBucket(redis, key, hold_seconds=0.1, idle_seconds=0.3)
    learn(bucket, 100)
    assert 0 < redis.pttl(key) <= 300
    time.sleep(0.5)
    assert redis.exists(key) == 0
    assert bucket.known is False


def test_a_long_wait_is_asked_again_at_the_poll_interval(buckets: SharedBuckets) -> None:
    bucket = buckets(SHOP)
    learn(bucket, 0)
    assert bucket.delay_for(50) == pytest.approx(50, abs=0.2)
    assert refused(bucket.reserve(50)).wait == bucket.poll  # another worker's answer may free points sooner


def test_an_unreachable_redis_is_a_transient_error_but_never_fails_a_settled_request(tmp_path: Path) -> None:
    settings = Settings.from_env(base_env(tmp_path, REDIS_URL="redis://127.0.0.1:1/0"))
    bucket = SharedBuckets(DeploymentState(settings))(SHOP)
    with pytest.raises(TransientError) as info:
        bucket.reserve(10)
    assert "Redis" in str(info.value) and info.value.hint
    with pytest.raises(TransientError):
        bucket.delay_for(10)
    bucket.settle(Reservation(10, hold="granted-before"), report(10, 1))  # logged, not raised


def test_the_service_wires_shopify_to_the_shared_buckets(settings: Settings) -> None:
    shopify = build_platforms(settings)["shopify"]
    assert isinstance(shopify.bucket_factory, SharedBuckets)  # type: ignore[attr-defined]
    assert shopify.bucket_factory.key(SHOP) == settings.redis_key("throttle", "shopify", SHOP)  # type: ignore[attr-defined]
