"""The GraphQL client of one shop: throttling, retries, token refresh and error mapping (responses)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import responses

from adapters.shopify import ShopifyClient
from adapters.shopify import documents as docs
from connector.errors import AuthError, ConnectorError, NotFound, PlatformError, RateLimited, TransientError
from tests.unit.shopify_fakes import (
    CONFIG,
    GRAPHQL_URL,
    NOW,
    SHOP,
    TOKEN_URL,
    FakeClock,
    ScriptedGraphQL,
    cost,
    credentials,
)

pytestmark = pytest.mark.unit

COUNT_OK = {"data": {"productsCount": {"count": 3, "precision": "EXACT"}}, "extensions": cost()}


@pytest.fixture
def rsps() -> Any:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_client(clock: FakeClock, saved: list[dict[str, Any]] | None = None, **creds: Any) -> ShopifyClient:
    on_credentials = (lambda c: saved.append(dict(c))) if saved is not None else None
    return ShopifyClient(CONFIG, SHOP, credentials(**creds), on_credentials, clock.runtime())


def add_json(rsps: responses.RequestsMock, payload: dict[str, Any], status: int = 200, **kw: Any) -> None:
    rsps.add(responses.POST, GRAPHQL_URL, json=payload, status=status, **kw)


def test_a_query_sends_the_token_and_returns_data(rsps: Any, clock: FakeClock) -> None:
    add_json(rsps, COUNT_OK)
    client = make_client(clock)
    assert client.products_count() == 3
    request = rsps.calls[0].request
    assert request.headers["X-Shopify-Access-Token"] == "tok-1"
    assert json.loads(request.body)["query"] == docs.PRODUCTS_COUNT
    assert clock.sleeps == []


def test_waits_for_the_bucket_to_hold_the_next_querys_cost(rsps: Any, clock: FakeClock) -> None:
    low = {
        "data": {"productsCount": {"count": 1, "precision": "EXACT"}},
        "extensions": cost(available=0, rate=50),
    }
    add_json(rsps, low)
    add_json(rsps, COUNT_OK)
    client = make_client(clock)
    client.products_count()
    page_cost = client.graphql.expected_cost(docs.PRODUCTS_PAGE, client._page_variables(client.page_size))
    assert client.graphql.bucket.delay_for(page_cost) == pytest.approx(page_cost / 50)
    client.products_count()  # the server reported a requested cost of 10 for it: 10/50 s of refill
    assert clock.sleeps == [pytest.approx(10 / 50)]
    assert client.graphql.stats.throttled == 0


def test_a_throttled_answer_waits_for_the_refill_then_retries(rsps: Any, clock: FakeClock) -> None:
    throttled = {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": cost(requested=500, available=100, rate=50),
    }
    add_json(rsps, throttled)
    add_json(rsps, COUNT_OK)
    client = make_client(clock)
    assert client.products_count() == 3
    assert clock.sleeps == [pytest.approx((500 - 100) / 50)]
    assert client.graphql.stats.throttled == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_with_exponential_backoff(rsps: Any, clock: FakeClock, status: int) -> None:
    add_json(rsps, {"errors": "boom"}, status=status)
    add_json(rsps, {"errors": "boom"}, status=status)
    add_json(rsps, COUNT_OK)
    assert make_client(clock).products_count() == 3
    assert clock.sleeps == [pytest.approx(0.5 * 0.75), pytest.approx(1.0 * 0.75)]


def test_429_honours_retry_after(rsps: Any, clock: FakeClock) -> None:
    add_json(rsps, {"errors": "slow down"}, status=429, headers={"Retry-After": "2.0"})
    add_json(rsps, COUNT_OK)
    assert make_client(clock).products_count() == 3
    assert clock.sleeps == [2.0]


def test_resets_and_timeouts_are_retried(rsps: Any, clock: FakeClock) -> None:
    rsps.add(responses.POST, GRAPHQL_URL, body=requests.ConnectionError("reset by peer"))
    rsps.add(responses.POST, GRAPHQL_URL, body=requests.ReadTimeout("slow"))
    add_json(rsps, COUNT_OK)
    assert make_client(clock).products_count() == 3
    assert len(clock.sleeps) == 2


def test_retries_are_bounded(rsps: Any, clock: FakeClock) -> None:
    for _ in range(CONFIG.max_attempts):
        add_json(rsps, {"errors": "down"}, status=503)
    with pytest.raises(TransientError) as info:
        make_client(clock).products_count()
    assert "503" in str(info.value)
    assert len(rsps.calls) == CONFIG.max_attempts
    assert len(clock.sleeps) == CONFIG.max_attempts - 1


def test_persistent_throttling_ends_as_rate_limited(rsps: Any, clock: FakeClock) -> None:
    throttled = {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": cost(),
    }
    for _ in range(CONFIG.max_attempts):
        add_json(rsps, throttled)
    with pytest.raises(RateLimited):
        make_client(clock).products_count()


def test_non_json_answer_is_transient(rsps: Any, clock: FakeClock) -> None:
    rsps.add(responses.POST, GRAPHQL_URL, body="<html>gateway</html>", status=200)
    add_json(rsps, COUNT_OK)
    assert make_client(clock).products_count() == 3


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("ACCESS_DENIED", AuthError),
        ("MAX_COST_EXCEEDED", PlatformError),
        ("NOT_FOUND", NotFound),
        ("SOMETHING_ELSE", PlatformError),
    ],
)
def test_graphql_errors_map_to_the_error_hierarchy(
    rsps: Any, clock: FakeClock, code: str, error: type[ConnectorError]
) -> None:
    add_json(
        rsps, {"errors": [{"message": f"nope {code}", "extensions": {"code": code}}], "extensions": cost()}
    )
    with pytest.raises(error) as info:
        make_client(clock).products_count()
    assert not isinstance(info.value, TransientError)
    assert info.value.hint
    assert len(rsps.calls) == 1  # permanent: not retried


def test_internal_graphql_errors_are_retried(rsps: Any, clock: FakeClock) -> None:
    add_json(rsps, {"errors": [{"message": "oops", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]})
    add_json(rsps, COUNT_OK)
    assert make_client(clock).products_count() == 3


@pytest.mark.parametrize(("status", "error"), [(402, PlatformError), (403, AuthError), (404, NotFound)])
def test_http_refusals_map_to_the_error_hierarchy(
    rsps: Any, clock: FakeClock, status: int, error: type[PlatformError]
) -> None:
    add_json(rsps, {"errors": "no"}, status=status)
    with pytest.raises(error) as info:
        make_client(clock).products_count()
    assert info.value.status == status
    assert len(rsps.calls) == 1


def token_answer(n: int) -> dict[str, Any]:
    return {
        "access_token": f"tok-{n}",
        "expires_in": 3600,
        "refresh_token": f"ref-{n}",
        "refresh_token_expires_in": 86400 * 30,
        "scope": "read_products,write_products,read_files,write_files",
    }


def test_a_401_refreshes_once_rotates_and_retries(rsps: Any, clock: FakeClock) -> None:
    saved: list[dict[str, Any]] = []
    add_json(rsps, {"errors": "[API] Invalid API key or access token"}, status=401)
    rsps.add(responses.POST, TOKEN_URL, json=token_answer(2))
    add_json(rsps, COUNT_OK)
    client = make_client(clock, saved)
    assert client.products_count() == 3
    form = dict(p.split("=", 1) for p in rsps.calls[1].request.body.split("&"))
    assert form == {
        "client_id": "key-123",
        "client_secret": "secret-456",
        "grant_type": "refresh_token",
        "refresh_token": "ref-1",
    }
    assert rsps.calls[2].request.headers["X-Shopify-Access-Token"] == "tok-2"
    assert saved == [
        {
            "access_token": "tok-2",
            "access_token_expires_at": NOW + 3600,
            "refresh_token": "ref-2",
            "refresh_token_expires_at": NOW + 86400 * 30,
            "scope": "read_products,write_products,read_files,write_files",
        }
    ]
    assert client.credentials == saved[0]


def test_a_second_401_after_refresh_is_an_auth_error(rsps: Any, clock: FakeClock) -> None:
    add_json(rsps, {"errors": "bad token"}, status=401)
    rsps.add(responses.POST, TOKEN_URL, json=token_answer(2))
    add_json(rsps, {"errors": "bad token"}, status=401)
    with pytest.raises(AuthError) as info:
        make_client(clock).products_count()
    assert "install" in (info.value.hint or "")


def test_the_token_is_refreshed_before_it_expires(rsps: Any, clock: FakeClock) -> None:
    saved: list[dict[str, Any]] = []
    rsps.add(responses.POST, TOKEN_URL, json=token_answer(7))
    add_json(rsps, COUNT_OK)
    client = make_client(clock, saved, expires_in=CONFIG.refresh_leeway - 1)
    client.products_count()
    assert rsps.calls[1].request.headers["X-Shopify-Access-Token"] == "tok-7"
    assert [c["refresh_token"] for c in saved] == ["ref-7"]


def test_a_refused_refresh_asks_for_a_reinstall(rsps: Any, clock: FakeClock) -> None:
    rsps.add(responses.POST, TOKEN_URL, json={"error": "invalid_grant"}, status=400)
    with pytest.raises(AuthError) as info:
        make_client(clock, expires_in=0).products_count()
    assert "install" in (info.value.hint or "")


def test_an_expired_refresh_token_is_not_sent(rsps: Any, clock: FakeClock) -> None:
    client = make_client(clock, expires_in=0, refresh_token_expires_at=NOW - 1)
    with pytest.raises(AuthError, match="refresh token"):
        client.products_count()
    assert len(rsps.calls) == 0


def test_a_non_expiring_token_without_refresh_token_fails_clearly_on_401(rsps: Any, clock: FakeClock) -> None:
    add_json(rsps, {"errors": "revoked"}, status=401)
    client = make_client(clock, access_token_expires_at=None, refresh_token=None)
    with pytest.raises(AuthError, match="cannot be refreshed"):
        client.products_count()


def test_max_cost_exceeded_halves_the_page(rsps: Any, clock: FakeClock) -> None:
    script = ScriptedGraphQL(rsps)
    sizes: list[int] = []

    def page(variables: dict[str, Any]) -> Any:
        sizes.append(variables["first"])
        if variables["first"] > 4:
            return 200, {"errors": [{"message": "too costly", "extensions": {"code": "MAX_COST_EXCEEDED"}}]}
        return {"products": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": []}}

    script.on("ProductsPage", page)
    client = make_client(clock)
    assert list(client.iter_products_paged()) == []
    assert sizes[-1] <= 4 and sizes[0] == client.page_size
