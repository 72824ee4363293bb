"""Webhook deliveries: signed like Shopify's, sent through the shared outbox with retries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from sandbox.common.outbox import Delivery, Outbox
from sandbox.shopify.config import API_VERSION, AppConfig
from sandbox.shopify.gids import iso_precise
from sandbox.shopify.state import SandboxState, ShopState, WebhookSubscription

COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")


def topic_name(enum_value: str) -> str:
    """``PRODUCTS_UPDATE`` -> ``products/update`` (the X-Shopify-Topic spelling)."""
    resource, _, action = enum_value.lower().rpartition("_")
    return f"{resource}/{action}"


def topic_enum(name: str) -> str:
    """``products/update`` -> ``PRODUCTS_UPDATE``."""
    return name.replace("/", "_").upper()


def sign(body: bytes, secret: str) -> str:
    """X-Shopify-Hmac-Sha256: base64 HMAC-SHA256 of the raw body with the app secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class WebhookDispatcher:
    """Builds and queues deliveries for one sandbox."""

    def __init__(
        self,
        state: SandboxState,
        outbox: Outbox,
        app_lookup: Callable[[str], AppConfig | None],
    ) -> None:
        self.state = state
        self.outbox = outbox
        self.app_lookup = app_lookup

    def emit(self, shop: ShopState, topic: str, payload: dict[str, Any], app_key: str | None = None) -> int:
        """Deliver ``topic`` to every subscription for it in ``shop`` (or only ``app_key``'s); how many."""
        enum_value = topic_enum(topic)
        with self.state.lock:
            subs = [
                s
                for s in shop.subscriptions.values()
                if s.topic == enum_value and (app_key is None or s.app_key == app_key)
            ]
        triggered_at = time.time()
        for sub in subs:
            self._post(shop, sub.app_key, sub.callback_url, topic, payload, triggered_at, sub)
        return len(subs)

    def emit_compliance(self, shop: ShopState, topic: str, payload: dict[str, Any], app_key: str) -> bool:
        """Send a compliance topic to the app's configured compliance URL; False when it has none."""
        app = self.app_lookup(app_key)
        if app is None or not app.compliance_url:
            return False
        self._post(shop, app_key, app.compliance_url, topic, payload, time.time(), None)
        return True

    def _post(
        self,
        shop: ShopState,
        app_key: str,
        url: str,
        topic: str,
        payload: dict[str, Any],
        triggered_at: float,
        sub: WebhookSubscription | None,
    ) -> Delivery | None:
        app = self.app_lookup(app_key)
        if app is None:
            return None
        if sub is not None and sub.include_fields:
            payload = {k: v for k, v in payload.items() if k in sub.include_fields}
        body = json.dumps(payload, separators=(",", ":")).encode()
        event_id = str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Shopify-Captain-Hook",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": sign(body, app.api_secret),
            "X-Shopify-Shop-Domain": shop.domain,
            "X-Shopify-API-Version": app.webhooks_api_version or API_VERSION,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": event_id,
            "X-Shopify-Triggered-At": iso_precise(triggered_at),
        }
        meta = {
            "shop": shop.domain,
            "topic": topic,
            "app": app_key,
            "event_id": event_id,
            "subscription": sub.num if sub is not None else None,
        }
        return self.outbox.post(url, body, headers, meta=meta)

    def redeliver(self, delivery_id: int) -> Delivery | None:
        """Send an earlier delivery again, byte for byte (same event id): a duplicate, as Shopify may send."""
        original = next((d for d in self.outbox.deliveries if d.id == delivery_id), None)
        if original is None or original.body is None:
            return None
        meta = {**original.meta, "redelivery_of": original.id}
        return self.outbox.post(original.url, original.body, dict(original.headers), meta=meta)
