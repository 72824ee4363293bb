"""The sandbox as a whole: state, apps, shops and their seeded catalogs, tokens, background work."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import replace
from typing import Any

from sandbox.common.faults import FaultInjector
from sandbox.common.outbox import Outbox
from sandbox.seeds.catalog import SeedProduct, build_catalog
from sandbox.shopify.bulk_run import run_bulk
from sandbox.shopify.config import AppConfig, ShopifySandboxConfig
from sandbox.shopify.cost import Buckets
from sandbox.shopify.media import seed_mime
from sandbox.shopify.payloads import product_deleted_payload, product_payload, shop_payload
from sandbox.shopify.schema import ParsedRequest
from sandbox.shopify.state import (
    READY,
    BulkOperation,
    Installation,
    MediaFile,
    Product,
    SandboxState,
    ShopState,
    Token,
    Variant,
    normalize_shop,
)
from sandbox.shopify.tasks import Scheduler
from sandbox.shopify.webhooks import WebhookDispatcher

#: every access scope handle the sandbox recognises (a subset of Shopify's)
KNOWN_SCOPES = frozenset(
    f"{mode}_{resource}"
    for mode in ("read", "write")
    for resource in (
        "products",
        "files",
        "themes",
        "content",
        "inventory",
        "orders",
        "customers",
        "product_listings",
        "publications",
        "locales",
        "translations",
        "metaobjects",
        "online_store_pages",
    )
)


def expand_scopes(scopes: frozenset[str] | set[str] | tuple[str, ...]) -> frozenset[str]:
    """Scopes as granted: every ``write_x`` implies ``read_x``."""
    out = set(scopes)
    out.update(f"read_{s[len('write_') :]}" for s in scopes if s.startswith("write_"))
    return frozenset(out)


def split_scopes(text: str) -> list[str]:
    return [s.strip() for s in text.replace(" ", ",").split(",") if s.strip()]


class Sandbox:
    """One running Shopify sandbox (many shops, many apps)."""

    def __init__(self, config: ShopifySandboxConfig) -> None:
        self.config = config
        self.state = SandboxState()
        self.apps: dict[str, AppConfig] = {a.api_key: a for a in config.apps}
        self.scheduler = Scheduler()
        self.outbox = Outbox(
            delay=config.webhook_delay,
            retry_schedule=config.webhook_retry_schedule,
            timeout=config.webhook_timeout,
            on_result=self._on_delivery,
        )
        self.buckets = Buckets(config.bucket_size, config.restore_rate)
        self.faults = FaultInjector(config.faults)
        self.webhooks = WebhookDispatcher(self.state, self.outbox, self.apps.get)
        self._base_url = config.public_url.rstrip("/") if config.public_url else None
        self._started = False
        self._start_lock = threading.Lock()
        for seed in config.shops:
            self.create_shop(seed.shop, seed.seed, seed.size, seed.profile)

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the timer thread and the webhook sender (idempotent)."""
        with self._start_lock:
            if not self._started:
                self.scheduler.start()
                self.outbox.start()
                self._started = True

    def stop(self) -> None:
        with self._start_lock:
            self.scheduler.stop()
            self.outbox.stop()
            self.faults.release()
            self._started = False

    def run_pending(self) -> dict[str, int]:
        """Finish all delayed work now (media processing, jobs, bulk operations) and send due webhooks."""
        ran = self.scheduler.run_pending()
        sent = len(self.outbox.flush())
        return {"tasks": ran, "deliveries": sent}

    def update_settings(self, **changes: Any) -> ShopifySandboxConfig:
        """Change configuration at run time (delays, limits, webhook retries, throttling)."""
        fixed = {"apps", "shops", "public_url", "faults"}
        unknown = set(changes) - set(self.config.__dataclass_fields__)
        if unknown or fixed & set(changes):
            wrong = sorted(unknown | (fixed & set(changes)))
            raise ValueError(
                f"cannot change {', '.join(wrong)} here: apps via POST /__sandbox/apps, shops via "
                "POST /__sandbox/shops, faults via PUT /__sandbox/faults"
            )
        for key in ("webhook_retry_schedule", "api_versions"):
            if key in changes:
                changes[key] = tuple(changes[key])
        self.config = replace(self.config, **changes)
        self.buckets.reconfigure(self.config.bucket_size, self.config.restore_rate)
        self.outbox.delay = self.config.webhook_delay
        self.outbox.retry_schedule = tuple(self.config.webhook_retry_schedule)
        self.outbox.timeout = self.config.webhook_timeout
        return self.config

    # --- URLs ----------------------------------------------------------------------------

    def remember_base_url(self, url: str) -> None:
        """Learn the public base URL from a request (unless configured)."""
        if self.config.public_url is None:
            self._base_url = url.rstrip("/")

    @property
    def base_url(self) -> str:
        return self._base_url or "http://127.0.0.1"

    # --- apps ----------------------------------------------------------------------------

    def app(self, api_key: str) -> AppConfig | None:
        return self.apps.get(api_key)

    def register_app(self, app: AppConfig) -> AppConfig:
        self.apps[app.api_key] = app
        return app

    def default_app(self) -> AppConfig:
        if not self.apps:
            raise ValueError("no app is configured; register one first (POST /__sandbox/apps)")
        return next(iter(self.apps.values()))

    # --- shops and catalogs --------------------------------------------------------------

    def run_bulk(
        self, shop: ShopState, op: BulkOperation, parsed: ParsedRequest, scopes: frozenset[str]
    ) -> None:
        """Run a scheduled bulk operation now (its query, JSONL and finish webhook)."""
        run_bulk(self, shop, op, parsed, scopes)

    def create_shop(self, shop: str, seed: int = 1, size: int = 20, profile: str = "mixed") -> ShopState:
        """A new shop holding a seeded catalog of ``size`` products."""
        domain = normalize_shop(shop)
        catalog = build_catalog(seed, size, profile)
        with self.state.lock:
            state = self.state.add_shop(domain, seed=seed, profile=profile)
            start = int(time.time()) - 86_400
            for index, seeded in enumerate(catalog):
                self._add_seeded_product(state, seeded, start + index)
            return state

    def _add_seeded_product(self, shop: ShopState, seeded: SeedProduct, stamp: float) -> Product:
        product = Product(self.state.next_id(), seeded.title, seeded.handle, stamp, stamp, key=seeded.key)
        titles: list[tuple[str, str | None, int | None]] = [
            (v.title, v.sku, v.image_index) for v in seeded.variants
        ] or [("Default Title", None, None)]
        for position, (title, sku, _idx) in enumerate(titles, start=1):
            variant = Variant(self.state.next_id(), title, sku, position, stamp, stamp)
            product.variants.append(variant)
            shop.variants[variant.num] = product.num
        for image in seeded.images:
            f = MediaFile(
                num=self.state.next_id(),
                image_num=self.state.next_id(),
                filename=image.filename,
                alt=image.alt,
                status=READY,
                created_at=stamp,
                updated_at=stamp,
                origin="seed",
                seed=image,
                mime=seed_mime(image),
                products=[product.num],
            )
            shop.files[f.num] = f
            product.media.append(f.num)
        for variant, (_t, _s, image_index) in zip(product.variants, titles, strict=True):
            if image_index is not None and image_index < len(product.media):
                variant.media_num = product.media[image_index]
        shop.products[product.num] = product
        return product

    def shop_or_error(self, shop: str) -> ShopState:
        state = self.state.shop(shop)
        if state is None:
            raise KeyError(f"no shop {shop!r} in this sandbox; create it with POST /__sandbox/shops")
        return state

    # --- product events ------------------------------------------------------------------

    def product_changed(self, shop: ShopState, product: Product, topic: str = "products/update") -> None:
        """Record a change (``updated_at``) and fire the product webhook, as every save on Shopify does."""
        with self.state.lock:
            product.updated_at = max(time.time(), product.updated_at)
            payload = product_payload(self.base_url, shop, product)
        self.webhooks.emit(shop, topic, payload)

    def product_deleted(self, shop: ShopState, product: Product) -> None:
        with self.state.lock:
            for num in list(product.media):
                f = shop.files.get(num)
                if f is not None and product.num in f.products:
                    f.products.remove(product.num)
            for variant in product.variants:
                shop.variants.pop(variant.num, None)
            shop.products.pop(product.num, None)
        self.webhooks.emit(shop, "products/delete", product_deleted_payload(product.num))

    # --- installs and tokens -------------------------------------------------------------

    def install(self, shop: ShopState, app_key: str, scopes: frozenset[str]) -> Installation:
        with self.state.lock:
            inst = Installation(app_key, expand_scopes(scopes), time.time())
            shop.installations[app_key] = inst
            return inst

    def issue_tokens(
        self,
        shop: ShopState,
        app_key: str,
        scopes: frozenset[str],
        expiring: bool = True,
        access_ttl: float | None = None,
        refresh_ttl: float | None = None,
    ) -> dict[str, Any]:
        """New access (and, when expiring, refresh) token for an installed app; the OAuth answer body."""
        now = time.time()
        granted = expand_scopes(scopes)
        access_ttl = self.config.access_token_ttl if access_ttl is None else access_ttl
        refresh_ttl = self.config.refresh_token_ttl if refresh_ttl is None else refresh_ttl
        with self.state.lock:
            access = Token(
                "shpat_" + secrets.token_hex(16),
                "access",
                shop.domain,
                app_key,
                granted,
                now,
                now + access_ttl if expiring else None,
            )
            self.state.tokens[access.value] = access
            body: dict[str, Any] = {"access_token": access.value, "scope": ",".join(sorted(scopes))}
            if expiring:
                refresh = Token(
                    "shprt_" + secrets.token_hex(16),
                    "refresh",
                    shop.domain,
                    app_key,
                    granted,
                    now,
                    now + refresh_ttl,
                )
                self.state.tokens[refresh.value] = refresh
                body.update(
                    expires_in=int(access_ttl),
                    refresh_token=refresh.value,
                    refresh_token_expires_in=int(refresh_ttl),
                )
            return body

    def uninstall(self, shop: ShopState, app_key: str) -> int:
        """Uninstall an app: app/uninstalled is queued, then its tokens and subscriptions die."""
        sent = self.webhooks.emit(shop, "app/uninstalled", shop_payload(shop), app_key=app_key)
        with self.state.lock:
            shop.installations.pop(app_key, None)
            for token in self.state.tokens.values():
                if token.shop == shop.domain and token.app_key == app_key:
                    token.revoked = True
            for num in [n for n, s in shop.subscriptions.items() if s.app_key == app_key]:
                shop.subscriptions.pop(num)
            for charge in shop.charges.values():  # uninstalling cancels the app's subscriptions
                if charge.app_key == app_key and charge.status in ("PENDING", "ACTIVE"):
                    charge.status = "CANCELLED"
        return sent

    def expire_tokens(self, shop: ShopState, app_key: str | None = None, kind: str = "access") -> int:
        """Make tokens expire now (tests of refresh-on-401)."""
        now = time.time()
        count = 0
        with self.state.lock:
            for token in self.state.tokens.values():
                if (
                    token.shop == shop.domain
                    and token.kind == kind
                    and (app_key is None or token.app_key == app_key)
                    and token.alive(now)
                ):
                    token.expires_at = now - 1
                    count += 1
        return count

    # --- webhooks bookkeeping --------------------------------------------------------------

    def _on_delivery(self, delivery: Any) -> None:
        sub_num = delivery.meta.get("subscription")
        shop = self.state.shop(delivery.meta.get("shop", ""))
        if shop is None or sub_num is None:
            return
        with self.state.lock:
            sub = shop.subscriptions.get(sub_num)
            if sub is not None:
                sub.failures = 0 if delivery.ok else sub.failures + 1
