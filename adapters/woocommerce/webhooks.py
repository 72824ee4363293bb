"""Verifying and reading WooCommerce webhook deliveries.

A delivery carries ``X-WC-Webhook-Signature`` (base64 HMAC-SHA256 of the raw body under the
webhook's secret) and ``X-WC-Webhook-Source`` (the site URL).  The ping WooCommerce sends when
a webhook is saved is an unsigned form body ``webhook_id=N``: it is reported as a PING event.
``X-WC-Webhook-Delivery-ID`` is a hash of the webhook id and the current second, so two
deliveries of one webhook in the same second share it; the event id adds the resource and its
modification time.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from adapters.signing import body_signature, header, signature_matches
from adapters.woocommerce.urls import normalize_shop
from connector.errors import ConnectorError, WebhookRejected
from connector.port import WebhookEvent, WebhookTopic

PLATFORM = "woocommerce"
TOPICS: dict[str, WebhookTopic] = {
    "product.created": WebhookTopic.PRODUCT_CREATED,
    "product.updated": WebhookTopic.PRODUCT_UPDATED,
    "product.restored": WebhookTopic.PRODUCT_UPDATED,
    "product.deleted": WebhookTopic.PRODUCT_DELETED,
}
#: topics the connector subscribes to
SUBSCRIBED_TOPICS: tuple[str, ...] = (
    "product.created",
    "product.updated",
    "product.deleted",
    "product.restored",
)
_PING = re.compile(rb"^webhook_id=(\d+)$")


def sign(body: bytes, secret: str) -> str:
    """The ``X-WC-Webhook-Signature`` WooCommerce computes for a body."""
    return body_signature(body, secret)


def webhook_shop(headers: Mapping[str, str]) -> str | None:
    """The site a delivery claims to come from (``X-WC-Webhook-Source``), unverified."""
    source = header(headers, "X-WC-Webhook-Source")
    if not source:
        return None
    try:
        return normalize_shop(source)
    except ConnectorError:
        return None


def verify(headers: Mapping[str, str], body: bytes, secret: str | None) -> WebhookEvent:
    """Check the signature in constant time and parse; WebhookRejected when it does not hold."""
    shop = webhook_shop(headers) or ""
    signature = header(headers, "X-WC-Webhook-Signature")
    ping = _PING.match(body.strip())
    if signature is None and ping:
        return WebhookEvent(PLATFORM, shop, WebhookTopic.PING, f"ping:{ping.group(1).decode()}")
    if not signature:
        raise WebhookRejected(
            "the delivery has no X-WC-Webhook-Signature", hint="only WooCommerce may call this URL"
        )
    if not secret:
        raise WebhookRejected(
            f"no webhook secret is known for {shop or 'the sending store'}",
            hint="install the connector on the store (it registers the webhooks with its secret)",
        )
    if not signature_matches(signature, body, secret):
        raise WebhookRejected(
            f"X-WC-Webhook-Signature from {shop or 'an unknown store'} does not match",
            hint="the webhook secret differs: run the install again to re-register webhooks",
        )
    return parse(headers, body, shop)


def check_claims(topic: WebhookTopic, payload: Mapping[str, Any]) -> None:
    """WebhookRejected unless the signed body is a body of ``topic`` (the topic header is not signed).

    WooCommerce sends ``{"id": …}`` alone for a deletion, and the whole product otherwise; the
    store is already bound by its own webhook secret.
    """
    if topic not in (
        WebhookTopic.PRODUCT_CREATED,
        WebhookTopic.PRODUCT_UPDATED,
        WebhookTopic.PRODUCT_DELETED,
    ):
        return
    keys = set(payload)
    deletion = keys == {"id"}
    if "id" not in keys or deletion != (topic == WebhookTopic.PRODUCT_DELETED):
        raise WebhookRejected(
            f"the signed body is not a {topic.value} body",
            hint="a signed body was replayed under another topic; only WooCommerce may call this URL",
        )


def parse(headers: Mapping[str, str], body: bytes, shop: str) -> WebhookEvent:
    """A verified delivery as a :class:`WebhookEvent` (a variation reports its parent product)."""
    try:
        payload: Any = json.loads(body)
    except ValueError:
        raise WebhookRejected(
            "the signed delivery is not JSON", hint="check the webhook's API version"
        ) from None
    if not isinstance(payload, dict):
        payload = {}
    topic_name = header(headers, "X-WC-Webhook-Topic") or ""
    topic = TOPICS.get(topic_name, WebhookTopic.OTHER)
    check_claims(topic, payload)
    resource_id = payload.get("id")
    product_id = payload.get("parent_id") if payload.get("type") == "variation" else resource_id
    delivery = header(headers, "X-WC-Webhook-Delivery-ID") or ""
    event_id = ":".join(
        str(p)
        for p in (delivery, header(headers, "X-WC-Webhook-ID"), resource_id, payload.get("date_modified_gmt"))
        if p
    )
    return WebhookEvent(
        platform=PLATFORM,
        shop=shop,
        topic=topic,
        event_id=event_id or hashlib.sha256(body).hexdigest(),
        product_id=str(product_id) if product_id else None,
        payload=payload,
    )
