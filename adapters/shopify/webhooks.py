"""Verifying and reading Shopify webhook deliveries, and the topics the connector subscribes to."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from adapters.shopify.auth import SHOP_DOMAIN
from adapters.shopify.ids import product_gid
from adapters.signing import body_signature, header, signature_matches
from connector.errors import WebhookRejected
from connector.port import WebhookEvent, WebhookTopic

#: Shopify topic (as in X-Shopify-Topic) → the platform-neutral topic.
TOPICS: dict[str, WebhookTopic] = {
    "products/create": WebhookTopic.PRODUCT_CREATED,
    "products/update": WebhookTopic.PRODUCT_UPDATED,
    "products/delete": WebhookTopic.PRODUCT_DELETED,
    "app/uninstalled": WebhookTopic.APP_UNINSTALLED,
    "customers/data_request": WebhookTopic.CUSTOMER_DATA_REQUEST,
    "customers/redact": WebhookTopic.CUSTOMER_REDACT,
    "shop/redact": WebhookTopic.SHOP_REDACT,
}

#: Topics subscribed through the API (the GraphQL enum names).  The mandatory compliance topics
#: are not in the API's WebhookSubscriptionTopic enum: they are declared in the app's
#: configuration (shopify.app.toml ``compliance_topics`` or the Partner Dashboard).
SUBSCRIBED_TOPICS: tuple[str, ...] = (
    "PRODUCTS_CREATE",
    "PRODUCTS_UPDATE",
    "PRODUCTS_DELETE",
    "APP_UNINSTALLED",
)

_PRODUCT_TOPICS = {WebhookTopic.PRODUCT_CREATED, WebhookTopic.PRODUCT_UPDATED, WebhookTopic.PRODUCT_DELETED}


def sign(body: bytes, secret: str) -> str:
    """The ``X-Shopify-Hmac-Sha256`` value Shopify computes for a body."""
    return body_signature(body, secret)


def webhook_shop(headers: Mapping[str, str]) -> str | None:
    """The shop a delivery claims to come from (unverified); None when absent or malformed."""
    shop = (header(headers, "X-Shopify-Shop-Domain") or "").strip().lower()
    return shop if SHOP_DOMAIN.match(shop) else None


def verify(headers: Mapping[str, str], body: bytes, secret: str) -> None:
    """Constant-time check of the body's HMAC; WebhookRejected when it does not match."""
    received = header(headers, "X-Shopify-Hmac-Sha256")
    if not secret:
        raise WebhookRejected("no app secret to verify the webhook with", hint="set SHOPIFY_API_SECRET")
    if not received:
        raise WebhookRejected(
            "webhook carries no X-Shopify-Hmac-Sha256 header", hint="only Shopify may call this"
        )
    if not signature_matches(received, body, secret):
        raise WebhookRejected(
            "webhook signature does not match", hint="check SHOPIFY_API_SECRET is the app's client secret"
        )


#: Where each topic's signed body names its shop (the headers naming shop and topic are not signed).
_SHOP_FIELD = {
    WebhookTopic.APP_UNINSTALLED: "myshopify_domain",
    WebhookTopic.SHOP_REDACT: "shop_domain",
    WebhookTopic.CUSTOMER_REDACT: "shop_domain",
    WebhookTopic.CUSTOMER_DATA_REQUEST: "shop_domain",
}
#: Fields a topic's body must carry (and, for shop/redact, must not) to be that topic's body.
_REQUIRED = {
    WebhookTopic.PRODUCT_CREATED: {"id"},
    WebhookTopic.PRODUCT_UPDATED: {"id"},
    WebhookTopic.PRODUCT_DELETED: {"id"},
    WebhookTopic.APP_UNINSTALLED: {"id", "myshopify_domain"},
    WebhookTopic.SHOP_REDACT: {"shop_id", "shop_domain"},
    WebhookTopic.CUSTOMER_REDACT: {"shop_id", "shop_domain", "customer"},
    WebhookTopic.CUSTOMER_DATA_REQUEST: {"shop_id", "shop_domain", "customer"},
}
_FORGED = "a signed body was replayed under other headers; only Shopify may call this"


def check_claims(topic: WebhookTopic, shop: str, payload: Mapping[str, Any]) -> None:
    """WebhookRejected unless the signed body is a body of ``topic`` and names ``shop``.

    Product bodies do not name their shop; a products/delete body is only ``{"id": …}``, other product
    bodies are the whole product.
    """
    required = _REQUIRED.get(topic)
    if required is None:
        return
    keys = set(payload)
    shaped = required <= keys
    if topic == WebhookTopic.PRODUCT_DELETED:
        shaped = keys == {"id"}
    elif topic == WebhookTopic.SHOP_REDACT:
        shaped = shaped and "customer" not in keys
    elif topic in _PRODUCT_TOPICS:  # a whole product, not a deletion's id nor a shop
        shaped = shaped and keys != {"id"} and not keys & {"shop_domain", "myshopify_domain"}
    if not shaped:
        raise WebhookRejected(f"the signed body is not a {topic.value} body", hint=_FORGED)
    field = _SHOP_FIELD.get(topic)
    if field is not None and str(payload.get(field) or "").strip().lower() != shop:
        raise WebhookRejected(f"the signed body is about another shop than {shop}", hint=_FORGED)


def parse(headers: Mapping[str, str], body: bytes) -> WebhookEvent:
    """A verified delivery reduced to what the service acts on."""
    shop = webhook_shop(headers)
    if shop is None:
        raise WebhookRejected("webhook names no valid shop domain", hint="only Shopify may call this")
    raw_topic = (header(headers, "X-Shopify-Topic") or "").strip()
    topic = TOPICS.get(raw_topic, WebhookTopic.OTHER)
    try:
        payload: Any = json.loads(body or b"{}")
    except ValueError as exc:
        raise WebhookRejected("webhook body is not JSON", hint="only Shopify may call this") from exc
    if not isinstance(payload, dict):
        payload = {"body": payload}
    event_id = (
        header(headers, "X-Shopify-Event-Id")
        or header(headers, "X-Shopify-Webhook-Id")
        or f"sha256:{hashlib.sha256(raw_topic.encode() + b'|' + body).hexdigest()}"
    )
    check_claims(topic, shop, payload)
    product_id = None
    if topic in _PRODUCT_TOPICS:
        product_id = payload.get("admin_graphql_api_id") or (
            product_gid(payload["id"]) if payload.get("id") is not None else None
        )
    return WebhookEvent(
        platform="shopify",
        shop=shop,
        topic=topic,
        event_id=str(event_id),
        product_id=product_id,
        payload=payload,
    )
