"""Settings of the Shopify app, and where a shop's endpoints live."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from adapters.outbound import STRICT, OutboundPolicy

#: Scopes the connector needs to read products and to write product media through the Files API.
DEFAULT_SCOPES = "read_products,write_products,read_files,write_files"

#: Shopify refuses any single query whose requested cost is above this.
MAX_QUERY_COST = 1000


@dataclass(frozen=True)
class ShopifyConfig:
    """Everything the Shopify adapter is configured with (built from the service's settings).

    ``base_url_template`` turns a shop domain into the shop's origin: ``https://{shop}`` on
    real Shopify, ``http://127.0.0.1:PORT/{shop}`` for the sandbox.
    """

    api_key: str = ""
    api_secret: str = ""
    api_version: str = "2026-10"
    base_url_template: str = "https://{shop}"
    scopes: str = DEFAULT_SCOPES
    timeout: float = 30.0
    #: Full syncs of shops with at least this many products use a bulk operation (0: never).
    bulk_threshold: int = 2000
    #: Products per page of a paginated sync; lowered automatically to keep a page's cost ≤ 1000.
    page_size: int = 50
    #: Media and variants read per product in a page; longer lists are paged per product.
    media_per_product: int = 20
    variants_per_product: int = 20
    #: Attempts per request before a transient failure is given up on.
    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    #: Refresh an expiring access token this many seconds before it expires.
    refresh_leeway: float = 300.0
    #: First wait when polling a bulk operation (growing 1.5 times a poll up to ``poll_interval_max``;
    #: a poll costs one point, and a short export is not kept waiting a second after it ends).
    poll_interval: float = 0.25
    #: first wait when polling a short job such as a media reorder (usually done in well under a second)
    job_poll_interval: float = 0.2
    poll_interval_max: float = 10.0
    bulk_timeout: float = 1800.0
    job_timeout: float = 120.0
    #: Largest image the client downloads, in bytes.
    max_download_bytes: int = 64 * 1024 * 1024
    #: Where requests may go (default: public https hosts only; see :mod:`adapters.outbound`).
    outbound: OutboundPolicy = STRICT

    @classmethod
    def from_env(cls, env: Mapping[str, str], timeout: float = 30.0) -> ShopifyConfig:
        """The app's settings from the service's configuration (``SHOPIFY_*`` variables)."""
        return cls(
            api_key=env.get("SHOPIFY_API_KEY", ""),
            api_secret=env.get("SHOPIFY_API_SECRET", ""),
            api_version=env.get("SHOPIFY_API_VERSION") or cls.api_version,
            base_url_template=env.get("SHOPIFY_BASE_URL_TEMPLATE") or cls.base_url_template,
            scopes=env.get("SHOPIFY_SCOPES") or DEFAULT_SCOPES,
            timeout=timeout,
            bulk_threshold=int(env.get("SHOPIFY_BULK_THRESHOLD") or cls.bulk_threshold),
        )

    @property
    def scope_list(self) -> list[str]:
        """The configured scopes as a list."""
        return [s.strip() for s in self.scopes.split(",") if s.strip()]

    def shop_origin(self, shop: str) -> str:
        """Scheme and host (plus the sandbox's path prefix) of one shop, without a trailing slash."""
        return self.base_url_template.format(shop=shop).rstrip("/")

    def graphql_url(self, shop: str) -> str:
        """The shop's GraphQL Admin API endpoint for the configured version."""
        return f"{self.shop_origin(shop)}/admin/api/{self.api_version}/graphql.json"

    def token_url(self, shop: str) -> str:
        """The shop's OAuth token endpoint (code exchange and refresh)."""
        return f"{self.shop_origin(shop)}/admin/oauth/access_token"
