"""Install handshake: permission URL, callback verification, code exchange for an expiring token."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from adapters.shopify import ShopifyApp, ShopifyConfig
from adapters.shopify.auth import sanitize_shop
from connector.errors import AuthError, TransientError
from tests.unit.shopify_fakes import CONFIG, NOW, SHOP, TOKEN_URL, FakeClock

pytestmark = pytest.mark.unit


def signed(params: dict[str, str], secret: str = CONFIG.api_secret) -> dict[str, str]:
    """Callback query as Shopify signs it: hex HMAC-SHA256 of the sorted query without hmac."""
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return {**params, "hmac": hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()}


def callback(**overrides: str) -> dict[str, str]:
    params = {
        "code": "code-abc",
        "shop": SHOP,
        "state": "st-1",
        "timestamp": str(int(NOW)),
        "host": "YWRtaW4",
    }
    params.update(overrides)
    return signed(params)


@pytest.fixture
def app() -> ShopifyApp:
    return ShopifyApp(CONFIG, FakeClock().runtime())


@pytest.fixture
def rsps() -> Any:
    with responses.RequestsMock() as mock:
        yield mock


def test_authorize_url_is_the_shops_permission_page() -> None:
    sandbox = ShopifyApp(ShopifyConfig(api_key="k", base_url_template="http://127.0.0.1:5999/{shop}"))
    url = sandbox.authorize_url("Demo-Shop.myshopify.com", "st-9", "http://127.0.0.1:8000/shopify/callback")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "http://127.0.0.1:5999/demo-shop.myshopify.com/admin/oauth/authorize"
    )
    assert parse_qs(parts.query) == {
        "client_id": ["k"],
        "scope": ["read_products,write_products,read_files,write_files"],
        "redirect_uri": ["http://127.0.0.1:8000/shopify/callback"],
        "state": ["st-9"],
    }


def test_authorize_url_on_real_shopify(app: ShopifyApp) -> None:
    assert app.authorize_url("demo-shop", "s", "https://x/cb").startswith(
        "https://demo-shop.myshopify.com/admin/oauth/authorize?client_id=key-123&"
    )


@pytest.mark.parametrize(
    ("given", "domain"),
    [
        ("demo-shop", "demo-shop.myshopify.com"),
        ("https://Demo-Shop.myshopify.com/", "demo-shop.myshopify.com"),
        ("x.myshopify.com", "x.myshopify.com"),
    ],
)
def test_shop_domains_are_normalised(given: str, domain: str) -> None:
    assert sanitize_shop(given) == domain


@pytest.mark.parametrize(
    "shop", ["evil.com", "demo.myshopify.com.evil.com", "-x.myshopify.com", "", "a b.myshopify.com", "x/../y"]
)
def test_foreign_shop_domains_are_refused(shop: str) -> None:
    with pytest.raises(AuthError) as info:
        sanitize_shop(shop)
    assert info.value.hint


def test_a_genuine_callback_installs_with_an_expiring_token(app: ShopifyApp, rsps: Any) -> None:
    rsps.add(
        responses.POST,
        TOKEN_URL,
        json={
            "access_token": "shpat_1",
            "scope": "write_products,write_files",
            "expires_in": 3599,
            "refresh_token": "shprt_1",
            "refresh_token_expires_in": 7776000,
        },
    )
    result = app.complete_install(callback(), b"", "st-1")
    assert result.shop == SHOP
    assert result.credentials == {
        "access_token": "shpat_1",
        "access_token_expires_at": NOW + 3599,
        "refresh_token": "shprt_1",
        "refresh_token_expires_at": NOW + 7776000,
        "scope": "write_products,write_files",
    }
    assert result.scopes == ("write_products", "write_files")
    form = parse_qs(rsps.calls[0].request.body)
    assert form == {
        "client_id": ["key-123"],
        "client_secret": ["secret-456"],
        "code": ["code-abc"],
        "expiring": ["1"],
    }


@pytest.mark.parametrize(
    ("params", "state"),
    [
        (callback(), "other-state"),
        (callback(), None),
        ({**callback(), "hmac": "0" * 64}, "st-1"),
        ({**callback(), "code": "swapped"}, "st-1"),
        (callback(timestamp=str(int(NOW) - 3 * 86400)), "st-1"),
        (callback(shop="evil.example.com"), "st-1"),
        ({k: v for k, v in callback().items() if k != "hmac"}, "st-1"),
    ],
    ids=["state-mismatch", "no-state", "forged-hmac", "tampered", "too-old", "foreign-shop", "unsigned"],
)
def test_forged_callbacks_are_refused_without_a_token_request(
    app: ShopifyApp, rsps: Any, params: dict[str, str], state: str | None
) -> None:
    with pytest.raises(AuthError) as info:
        app.complete_install(params, b"", state)
    assert info.value.hint
    assert len(rsps.calls) == 0


def test_missing_scopes_fail_the_install(app: ShopifyApp, rsps: Any) -> None:
    rsps.add(
        responses.POST, TOKEN_URL, json={"access_token": "t", "scope": "read_products", "expires_in": 60}
    )
    with pytest.raises(AuthError, match="needs"):
        app.complete_install(callback(), b"", "st-1")


def test_a_used_code_is_an_auth_error(app: ShopifyApp, rsps: Any) -> None:
    rsps.add(responses.POST, TOKEN_URL, json={"error": "invalid_request"}, status=400)
    with pytest.raises(AuthError, match="refused"):
        app.complete_install(callback(), b"", "st-1")


def test_an_unreachable_token_endpoint_is_transient(app: ShopifyApp, rsps: Any) -> None:
    for _ in range(CONFIG.max_attempts):
        rsps.add(responses.POST, TOKEN_URL, status=503)
    with pytest.raises(TransientError):
        app.complete_install(callback(), b"", "st-1")
