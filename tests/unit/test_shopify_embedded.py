"""The embedded app's Shopify side: session tokens, launch checks, the token-exchange request, billing
answers, and shopify.app.toml agreeing with what the connector serves."""

from __future__ import annotations

import base64
import time
import tomllib
from typing import Any
from urllib.parse import parse_qsl

import jwt
import pytest
import responses

from adapters.shopify import ShopifyApp, ShopifyConfig
from adapters.shopify.billing import subscription_from_node
from adapters.shopify.config import DEFAULT_SCOPES
from adapters.shopify.managed_install import GRANT_TYPE, ID_TOKEN, OFFLINE_TOKEN
from adapters.shopify.webhooks import SUBSCRIBED_TOPICS
from connector.errors import AuthError
from connector.settings import PROJECT_ROOT

pytestmark = pytest.mark.unit

KEY, SECRET = "app-key", "app-secret-long-enough-for-hs256-0123456789"
SHOP = "demo-shop.myshopify.com"
APP = ShopifyApp(ShopifyConfig(api_key=KEY, api_secret=SECRET))


def token(secret: str = SECRET, **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": f"https://{SHOP}/admin",
        "dest": f"https://{SHOP}",
        "aud": KEY,
        "sub": "42",
        "exp": now + 60,
        "nbf": now,
        "iat": now,
        "jti": "jti-1",
        "sid": "sid-1",
    }
    payload.update(claims)
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, secret, algorithm="HS256")


def host(text: str) -> str:
    return base64.b64encode(text.encode()).decode().rstrip("=")


def test_a_valid_session_token_names_its_shop_and_user() -> None:
    identity = APP.verify_session_token(f"Bearer {token()}")
    assert (identity.shop, identity.user, identity.session, identity.token_id) == (
        SHOP,
        "42",
        "sid-1",
        "jti-1",
    )


@pytest.mark.parametrize(
    "bad",
    [
        token(secret="another-secret-that-is-long-enough-0123456789"),
        token(exp=int(time.time()) - 60),
        token(nbf=int(time.time()) + 600),
        token(aud="another-app"),
        token(iss="https://other-shop.myshopify.com/admin"),
        token(exp=None),
        token(sid=None),
        token(dest="https://evil.example.com", iss="https://evil.example.com/admin"),
        jwt.encode({"dest": f"https://{SHOP}", "aud": KEY}, "", algorithm="none"),
        "",
    ],
    ids=[
        "forged",
        "expired",
        "not-yet",
        "audience",
        "issuer",
        "no-exp",
        "no-sid",
        "not-shopify",
        "alg-none",
        "empty",
    ],
)
def test_session_tokens_that_are_not_valid_are_refused(bad: str) -> None:
    with pytest.raises(AuthError):
        APP.verify_session_token(f"Bearer {bad}")


def test_a_small_clock_skew_is_tolerated() -> None:
    assert APP.verify_session_token(f"Bearer {token(nbf=int(time.time()) + 5)}").shop == SHOP


def test_launch_needs_embedded_a_shopify_host_and_a_token_of_that_shop() -> None:
    good = {
        "embedded": "1",
        "shop": SHOP,
        "host": host("admin.shopify.com/store/demo-shop"),
        "id_token": token(),
    }
    assert APP.verify_launch(good).shop == SHOP
    assert APP.verify_launch({**good, "host": host(f"{SHOP}/admin")}).shop == SHOP
    for change in (
        {"embedded": "0"},
        {"shop": "other-shop.myshopify.com"},
        {"shop": "evil.example.com"},
        {"host": host("evil.example.com/admin")},
        {"host": "%%%"},
        {"id_token": ""},
    ):
        with pytest.raises(AuthError):
            APP.verify_launch({**good, **change})


def test_the_page_loads_app_bridge_with_the_api_key_meta_tag() -> None:
    frame = APP.embedded_frame()
    assert frame.meta == {"shopify-api-key": KEY}
    assert frame.scripts == ("https://cdn.shopify.com/shopifycloud/app-bridge.js",)
    assert APP.frame_ancestors(SHOP) == (f"https://{SHOP}", "https://admin.shopify.com")
    assert APP.admin_app_url(SHOP) == f"https://{SHOP}/admin/apps/{KEY}"


@responses.activate
def test_token_exchange_asks_for_an_expiring_offline_token() -> None:
    responses.post(
        f"https://{SHOP}/admin/oauth/access_token",
        json={
            "access_token": "shpat_x",
            "expires_in": 3600,
            "refresh_token": "shprt_x",
            "refresh_token_expires_in": 7776000,
            "scope": DEFAULT_SCOPES,
        },
    )
    session = token()
    result = APP.install_from_session(SHOP, session)
    sent = dict(parse_qsl(responses.calls[0].request.body))  # type: ignore[arg-type]
    assert sent == {
        "client_id": KEY,
        "client_secret": SECRET,
        "grant_type": GRANT_TYPE,
        "subject_token": session,
        "subject_token_type": ID_TOKEN,
        "requested_token_type": OFFLINE_TOKEN,
        "expiring": "1",
    }
    assert result.shop == SHOP and result.credentials["refresh_token"] == "shprt_x"


def test_an_active_subscription_is_read_with_its_usage_line() -> None:
    node = {
        "id": "gid://shopify/AppSubscription/1",
        "name": "Per processed image",
        "status": "ACTIVE",
        "test": True,
        "lineItems": [
            {
                "id": "gid://shopify/AppSubscriptionLineItem/9",
                "plan": {"pricingDetails": {"__typename": "AppRecurringPricing"}},
            },
            {
                "id": "gid://shopify/AppSubscriptionLineItem/10",
                "plan": {
                    "pricingDetails": {
                        "__typename": "AppUsagePricing",
                        "terms": "t",
                        "cappedAmount": {"amount": "100.0", "currencyCode": "USD"},
                        "balanceUsed": {"amount": "0.05", "currencyCode": "USD"},
                    }
                },
            },
        ],
    }
    sub = subscription_from_node(node)
    assert (sub.usage_line_id, sub.capped_amount, sub.balance_used, sub.test) == (
        "gid://shopify/AppSubscriptionLineItem/10",
        "100.0",
        "0.05",
        True,
    )


def test_shopify_app_toml_matches_what_the_connector_serves() -> None:
    config = tomllib.loads((PROJECT_ROOT / "shopify.app.toml").read_text())
    assert config["embedded"] is True
    assert config["application_url"].endswith("/embedded/shopify")
    assert all(url.endswith("/install/shopify/callback") for url in config["auth"]["redirect_urls"])
    assert config["access_scopes"]["scopes"] == DEFAULT_SCOPES
    assert config["webhooks"]["api_version"] == ShopifyConfig.from_env({}).api_version
    subs = config["webhooks"]["subscriptions"]
    topics = {t for s in subs for t in s.get("topics", [])}
    assert {t.replace("/", "_").upper() for t in topics} == set(SUBSCRIBED_TOPICS)
    compliance = {t for s in subs for t in s.get("compliance_topics", [])}
    assert compliance == {"customers/data_request", "customers/redact", "shop/redact"}
    assert {s["uri"].rsplit("/", 2)[-2:] == ["webhooks", "shopify"] for s in subs} == {True}
