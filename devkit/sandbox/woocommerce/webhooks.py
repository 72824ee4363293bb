"""WooCommerce webhooks: late, coalesced, signed deliveries without retries, and the unsigned ping.

A change schedules one delivery per matching active webhook through the shared :class:`Outbox`,
``webhook_delay`` seconds later (WooCommerce runs them from Action Scheduler).  A pending delivery
for the same webhook and resource absorbs later changes, and the payload is built when it is sent.
The body is PHP-style JSON (``wp_json_encode``: compact, ``\\/`` and four-hex-digit ``\\u`` escapes), signed
with base64 HMAC-SHA256 under the webhook's secret.  A webhook whose deliveries fail
``webhook_max_failures`` times in a row is disabled.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import requests

from sandbox.common.outbox import Delivery, DeliveryCancelled, Outbox
from sandbox.woocommerce.config import WooSandboxConfig
from sandbox.woocommerce.errors import invalid_id
from sandbox.woocommerce.media import validate_url
from sandbox.woocommerce.models import Webhook, now_utc
from sandbox.woocommerce.serialize import product_json, variation_as_product_json
from sandbox.woocommerce.site import Site

SiteLookup = Callable[[str], Site | None]


def php_json(data: Any) -> bytes:
    """``wp_json_encode``: what PHP's ``json_encode`` writes."""
    return json.dumps(data, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()


def signature(body: bytes, secret: str) -> str:
    """``X-WC-Webhook-Signature``: base64 of HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def user_agent(config: WooSandboxConfig) -> str:
    """The User-Agent WooCommerce sends."""
    return f"WooCommerce/{config.wc_version} Hookshot (WordPress/{config.wp_version})"


class WebhookDispatcher:
    """Turns product saves into deliveries and keeps each webhook's failure count."""

    def __init__(self, config: WooSandboxConfig, outbox: Outbox, lookup: SiteLookup) -> None:
        self.config = config
        self.outbox = outbox
        self.lookup = lookup
        outbox.on_result = self.on_result

    def notify(self, site: Site, resource: str, event: str, resource_id: int) -> None:
        """A hooked action happened: schedule a delivery per active webhook on that topic."""
        topic = f"{resource}.{event}"
        with site.lock:
            hooks = [h for h in site.webhooks.values() if h.status == "active" and h.topic == topic]
        for hook in hooks:
            self.outbox.post(
                hook.delivery_url,
                self._body(site, hook.id, resource_id, event),
                self._headers(site, hook.id),
                coalesce_key=f"{site.name}:{hook.id}:{resource_id}",
                meta={"site": site.name, "webhook_id": hook.id, "topic": topic, "resource_id": resource_id},
            )

    def _active(self, site: Site, webhook_id: int) -> Webhook:
        hook = site.webhooks.get(webhook_id)
        if hook is None or hook.status != "active":
            raise DeliveryCancelled("webhook is no longer active")
        return hook

    def _body(self, site: Site, webhook_id: int, resource_id: int, event: str) -> Callable[[], bytes]:
        def build() -> bytes:
            with site.lock:
                self._active(site, webhook_id)
                return php_json(payload(site, resource_id, event))

        return build

    def _headers(self, site: Site, webhook_id: int) -> Callable[[bytes], dict[str, str]]:
        def build(body: bytes) -> dict[str, str]:
            with site.lock:
                hook = self._active(site, webhook_id)
                secret, topic, resource, event = hook.secret, hook.topic, hook.resource, hook.event
            delivery_id = hashlib.md5(f"{site.salt}{webhook_id}{int(time.time())}".encode()).hexdigest()
            return {
                "Content-Type": "application/json",
                "User-Agent": user_agent(self.config),
                "X-WC-Webhook-Source": site.home_url + "/",
                "X-WC-Webhook-Topic": topic,
                "X-WC-Webhook-Resource": resource,
                "X-WC-Webhook-Event": event,
                "X-WC-Webhook-Signature": signature(body, secret),
                "X-WC-Webhook-ID": str(webhook_id),
                "X-WC-Webhook-Delivery-ID": delivery_id,
            }

        return build

    def on_result(self, delivery: Delivery) -> None:
        """Count consecutive failures; disable the webhook at the limit."""
        site = self.lookup(str(delivery.meta.get("site", "")))
        hook_id = delivery.meta.get("webhook_id")
        if site is None or not isinstance(hook_id, int) or delivery.state not in ("delivered", "failed"):
            return
        with site.lock:
            hook = site.webhooks.get(hook_id)
            if hook is None:
                return
            if delivery.ok:
                hook.failure_count = 0
                return
            hook.failure_count += 1
            if hook.failure_count >= self.config.webhook_max_failures:
                hook.status = "disabled"
                hook.modified = now_utc()

    def ping(self, site: Site, hook: Webhook) -> dict[str, Any]:
        """``WC_Webhook::deliver_ping``: POST ``webhook_id=N``, unsigned and synchronous; result logged."""
        entry: dict[str, Any] = {"webhook_id": hook.id, "url": hook.delivery_url, "at": now_utc().isoformat()}
        if not validate_url(hook.delivery_url, site.home_url, self.config.allow_private_callbacks):
            entry.update(status=None, error="A valid URL was not provided.")
        else:
            try:
                resp = requests.post(
                    hook.delivery_url,
                    data=f"webhook_id={hook.id}",
                    headers={
                        "User-Agent": user_agent(self.config),
                        "Content-Type": "application/x-www-form-urlencoded",
                    },
                    timeout=self.config.ping_timeout,
                )
                entry.update(status=resp.status_code, error=None)
                if 200 <= resp.status_code < 300:
                    hook.pending_delivery = False
            except requests.RequestException as exc:
                entry.update(status=None, error=f"{type(exc).__name__}: {exc}")
        with site.lock:
            site.pings.append(entry)
        return entry


def payload(site: Site, resource_id: int, event: str) -> dict[str, Any]:
    """What WooCommerce builds at send time: the product (or variation) as the API shows it now."""
    if event == "deleted":
        return {"id": resource_id}
    product = site.products.get(resource_id)
    if product is not None:
        return product_json(site, product)
    variation = site.variations.get(resource_id)
    if variation is not None:
        return variation_as_product_json(site, variation)
    return invalid_id("product").as_dict()
