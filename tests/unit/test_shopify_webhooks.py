"""Webhook deliveries: constant-time HMAC check over the raw body, then topic, event id and product."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from adapters.shopify import ShopifyApp
from connector.errors import WebhookRejected
from connector.port import WebhookTopic
from tests.unit.shopify_fakes import CONFIG, SHOP

pytestmark = pytest.mark.unit

APP = ShopifyApp(CONFIG)
BODY = json.dumps(
    {"id": 788032119674292922, "admin_graphql_api_id": "gid://shopify/Product/788032119674292922"}
)


def headers(
    body: str = BODY, topic: str = "products/update", secret: str = CONFIG.api_secret
) -> dict[str, str]:
    digest = base64.b64encode(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()).decode()
    return {
        "X-Shopify-Hmac-Sha256": digest,
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Event-Id": "evt-1",
        "X-Shopify-Webhook-Id": "wh-1",
        "X-Shopify-Triggered-At": "2025-01-01T00:00:00Z",
    }


def test_a_genuine_delivery_is_parsed() -> None:
    event = APP.verify_webhook(headers(), BODY.encode(), None)
    assert (event.platform, event.shop, event.topic, event.event_id) == (
        "shopify",
        SHOP,
        WebhookTopic.PRODUCT_UPDATED,
        "evt-1",
    )
    assert event.product_id == "gid://shopify/Product/788032119674292922"
    assert event.payload["id"] == 788032119674292922


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: ({**h, "X-Shopify-Hmac-Sha256": headers(secret="wrong")["X-Shopify-Hmac-Sha256"]}, b),
        lambda h, b: (h, b.replace(b"788", b"789")),
        lambda h, b: ({k: v for k, v in h.items() if k != "X-Shopify-Hmac-Sha256"}, b),
        lambda h, b: ({**h, "X-Shopify-Hmac-Sha256": "not base64 at all"}, b),
        lambda h, b: (h, b + b" "),
    ],
    ids=["other-secret", "tampered-body", "no-signature", "garbage-signature", "reserialised-body"],
)
def test_forged_deliveries_are_rejected(tamper: object) -> None:
    h, b = tamper(headers(), BODY.encode())  # type: ignore[operator]
    with pytest.raises(WebhookRejected) as info:
        APP.verify_webhook(h, b, None)
    assert info.value.hint


def test_without_a_secret_nothing_verifies() -> None:
    app = ShopifyApp(CONFIG.__class__())
    with pytest.raises(WebhookRejected, match="secret"):
        app.verify_webhook(headers(), BODY.encode(), None)


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("products/create", WebhookTopic.PRODUCT_CREATED),
        ("products/delete", WebhookTopic.PRODUCT_DELETED),
        ("app/uninstalled", WebhookTopic.APP_UNINSTALLED),
        ("customers/data_request", WebhookTopic.CUSTOMER_DATA_REQUEST),
        ("customers/redact", WebhookTopic.CUSTOMER_REDACT),
        ("shop/redact", WebhookTopic.SHOP_REDACT),
        ("orders/create", WebhookTopic.OTHER),
    ],
)
def test_topics_map_to_platform_neutral_ones(topic: str, expected: WebhookTopic) -> None:
    body = json.dumps(BODIES.get(topic, {"shop_domain": SHOP}))
    event = APP.verify_webhook(headers(body, topic), body.encode(), None)
    assert event.topic is expected
    assert (event.product_id is None) == (not topic.startswith("products/"))


#: Each topic's body as Shopify sends it (trimmed): what the signed body must agree with.
BODIES: dict[str, dict[str, object]] = {
    "products/create": {"id": 7, "title": "Mug", "admin_graphql_api_id": "gid://shopify/Product/7"},
    "products/delete": {"id": 7},
    "app/uninstalled": {"id": 5, "domain": "shop.example", "myshopify_domain": SHOP},
    "customers/data_request": {"shop_id": 5, "shop_domain": SHOP, "customer": {"id": 1}, "data_request": {}},
    "customers/redact": {"shop_id": 5, "shop_domain": SHOP, "customer": {"id": 1}},
    "shop/redact": {"shop_id": 5, "shop_domain": SHOP},
}
OTHER_SHOP = "other-shop.myshopify.com"


@pytest.mark.parametrize(
    ("topic", "body"),
    [
        ("app/uninstalled", {"id": 5, "myshopify_domain": OTHER_SHOP}),
        ("shop/redact", {"shop_id": 5, "shop_domain": OTHER_SHOP}),
        ("app/uninstalled", BODIES["shop/redact"]),
        ("shop/redact", BODIES["customers/redact"]),
        ("shop/redact", BODIES["products/create"]),
        ("products/delete", BODIES["products/create"]),
        ("products/update", BODIES["products/delete"]),
        ("products/update", BODIES["shop/redact"]),
    ],
    ids=[
        "uninstall-other-shop",
        "redact-other-shop",
        "redact-as-uninstall",
        "customer-as-shop-redact",
        "product-as-shop-redact",
        "update-as-delete",
        "delete-as-update",
        "redact-as-update",
    ],
)
def test_a_signed_body_replayed_under_another_shop_or_topic_is_rejected(topic: str, body: dict) -> None:
    raw = json.dumps(body)
    with pytest.raises(WebhookRejected, match="signed body"):
        APP.verify_webhook(headers(raw, topic), raw.encode(), None)


def test_a_deleted_products_numeric_id_becomes_its_gid() -> None:
    body = json.dumps({"id": 42})
    event = APP.verify_webhook(headers(body, "products/delete"), body.encode(), None)
    assert event.product_id == "gid://shopify/Product/42"


def test_event_id_falls_back_to_the_webhook_id_and_headers_are_case_insensitive() -> None:
    h = {k.lower(): v for k, v in headers().items() if k != "X-Shopify-Event-Id"}
    event = APP.verify_webhook(h, BODY.encode(), None)
    assert event.event_id == "wh-1"
    assert APP.webhook_shop(h, BODY.encode()) == SHOP


@pytest.mark.parametrize("domain", ["evil.com", "", "x.myshopify.com.evil.com"])
def test_webhook_shop_ignores_foreign_domains(domain: str) -> None:
    assert APP.webhook_shop({**headers(), "X-Shopify-Shop-Domain": domain}, b"") is None


def test_a_signed_body_that_is_not_json_is_rejected() -> None:
    with pytest.raises(WebhookRejected, match="JSON"):
        APP.verify_webhook(headers("not json"), b"not json", None)
