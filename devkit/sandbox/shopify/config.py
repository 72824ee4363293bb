"""Configuration of the Shopify sandbox: the apps it knows, the shops it starts with, limits and delays."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.common.faults import FaultConfig

#: the newest stable Admin API version (2026-12); the sandbox answers every version it lists in
#: ``SUPPORTED_API_VERSIONS`` with the 2025-01 schema it holds (the newest one at hand)
API_VERSION = "2026-10"
SUPPORTED_API_VERSIONS: tuple[str, ...] = ("2026-10", "2026-07", "2026-04", "2026-01", "2025-01")
#: the scopes an image connector asks for
DEFAULT_SCOPES: tuple[str, ...] = ("read_products", "write_products", "read_files", "write_files")
#: Shopify's webhook retry schedule: 8 retries spread over about 4 hours
SHOPIFY_RETRY_SCHEDULE: tuple[float, ...] = (10.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0)


@dataclass(frozen=True)
class AppConfig:
    """A Shopify app registered with the sandbox (its Partner Dashboard entry).

    ``redirect_urls`` is the allow-list for OAuth ``redirect_uri`` (empty: any URL is accepted).
    ``compliance_url`` receives the mandatory compliance webhooks (customers/data_request,
    customers/redact, shop/redact), which Shopify configures per app, not per shop.
    The rest comes from a deployed ``shopify.app.toml`` (see :mod:`sandbox.shopify.app_config`):
    where the admin loads the embedded app, the scopes of a managed install, and the webhook
    subscriptions every shop that installs the app gets (``(topic, uri)`` pairs).
    """

    api_key: str
    api_secret: str
    name: str = "Image Connector"
    redirect_urls: tuple[str, ...] = ()
    compliance_url: str | None = None
    application_url: str | None = None
    embedded: bool = True
    scopes: tuple[str, ...] = ()
    webhooks_api_version: str | None = None
    webhook_subscriptions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ShopSeed:
    """A shop to create at start-up with a seeded catalog (:func:`sandbox.seeds.catalog.build_catalog`)."""

    shop: str  # "name" or "name.myshopify.com"
    seed: int = 1
    size: int = 20
    profile: str = "mixed"


@dataclass(frozen=True)
class ShopifySandboxConfig:
    """Every knob of the sandbox; the defaults are Shopify's own numbers (tests shorten the delays)."""

    apps: tuple[AppConfig, ...] = (AppConfig("sandbox-api-key", "sandbox-api-secret"),)
    shops: tuple[ShopSeed, ...] = ()
    #: public base URL used in the URLs the sandbox hands out (default: the URL a request came in on)
    public_url: str | None = None
    api_versions: tuple[str, ...] = SUPPORTED_API_VERSIONS

    # --- rate limiting (calculated query cost, leaky bucket per shop and app) ---
    bucket_size: float = 1000.0
    restore_rate: float = 50.0
    max_query_cost: int = 1000
    max_page_size: int = 250
    max_input_array: int = 250
    #: answer a throttled request with HTTP 429 + Retry-After instead of HTTP 200 + THROTTLED
    throttle_http_429: bool = False

    # --- OAuth and tokens (seconds) ---
    access_token_ttl: float = 3600.0
    refresh_token_ttl: float = 90 * 24 * 3600.0
    auth_code_ttl: float = 600.0

    # --- asynchronous work (seconds) ---
    media_upload_delay: float = 0.5  # UPLOADED -> PROCESSING
    media_processing_delay: float = 2.0  # PROCESSING -> READY / FAILED
    reorder_delay: float = 1.0  # productReorderMedia job runs after this
    bulk_delay: float = 2.0  # bulk operation CREATED -> COMPLETED
    staged_upload_ttl: float = 7 * 24 * 3600.0

    # --- media limits (Shopify's) ---
    max_image_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = 25_000_000
    max_media_per_product: int = 250

    # --- webhooks ---
    webhook_delay: float = 0.0
    webhook_retry_schedule: tuple[float, ...] = SHOPIFY_RETRY_SCHEDULE
    webhook_timeout: float = 5.0
    #: real Shopify only accepts https callback URLs; the sandbox lives on plain-http loopback
    allow_http_webhooks: bool = True

    faults: FaultConfig = field(default_factory=FaultConfig)

    def app(self, api_key: str) -> AppConfig | None:
        """The configured app with that API key (client id)."""
        return next((a for a in self.apps if a.api_key == api_key), None)


def fast_config(**overrides: Any) -> ShopifySandboxConfig:
    """A configuration with every delay shortened to a fraction of a second (tests, demos)."""
    values: dict[str, Any] = {
        "media_upload_delay": 0.05,
        "media_processing_delay": 0.15,
        "reorder_delay": 0.1,
        "bulk_delay": 0.2,
        "webhook_retry_schedule": (0.1, 0.2, 0.4),
        "webhook_timeout": 2.0,
    }
    values.update(overrides)
    return ShopifySandboxConfig(**values)
