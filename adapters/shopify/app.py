"""PlatformApp for Shopify: the install handshake, webhook verification and store clients."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from adapters.shopify import webhooks
from adapters.shopify.auth import OAuth, sanitize_shop
from adapters.shopify.client import ShopifyClient
from adapters.shopify.config import ShopifyConfig
from adapters.shopify.embedded import EmbeddedShopify
from adapters.shopify.http import Runtime, retry_policy
from adapters.shopify.throttle import BucketFactory, LocalBuckets
from connector.port import CredentialsSaver, InstallResult, WebhookEvent


class ShopifyApp(EmbeddedShopify):
    """One Shopify app (API key and secret) serving any number of shops (embedded in the admin, billed)."""

    name: ClassVar[str] = "shopify"
    #: Shopify keeps an uploaded original as it is (up to 25 megapixels) and resizes on the CDN.
    max_image_side: ClassVar[int | None] = None

    def __init__(
        self,
        config: ShopifyConfig,
        runtime: Runtime | None = None,
        bucket_factory: BucketFactory | None = None,
    ) -> None:
        """``bucket_factory`` gives each shop's cost bucket; by default one per shop in this process.

        A deployment with many worker processes passes buckets they all share, since Shopify's
        bucket is per app and shop.
        """
        self.config = config
        self.runtime = runtime or Runtime()
        self.bucket_factory: BucketFactory = bucket_factory or LocalBuckets(self.runtime.monotonic)
        retry = retry_policy(config, self.runtime)
        self.oauth = OAuth(config, self.runtime.new_session(config.outbound), retry, self.runtime.clock)

    def normalize_shop(self, shop: str) -> str:
        """The shop's ``name.myshopify.com`` domain; AuthError for anything else."""
        return sanitize_shop(shop)

    def authorize_url(self, shop: str, state: str, redirect_uri: str) -> str:
        """The shop's permission page for the configured scopes (offline access)."""
        return self.oauth.authorize_url(shop, state, redirect_uri)

    def complete_install(self, params: Mapping[str, str], body: bytes, state: str | None) -> InstallResult:
        """Verify the callback (state, HMAC, age, shop domain) and exchange its code.

        The token is an expiring offline token; the credentials carry its refresh token.
        """
        shop = self.oauth.verify_callback(params, state)
        credentials = self.oauth.exchange_code(shop, params.get("code", ""))
        scopes = tuple(s for s in str(credentials.get("scope") or "").split(",") if s)
        return InstallResult(shop=shop, credentials=credentials, scopes=scopes)

    def webhook_shop(self, headers: Mapping[str, str], body: bytes) -> str | None:
        """The shop a delivery claims to come from (X-Shopify-Shop-Domain), unverified."""
        return webhooks.webhook_shop(headers)

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str | None) -> WebhookEvent:
        """Check X-Shopify-Hmac-Sha256 over the raw body (the app secret unless one is given)."""
        webhooks.verify(headers, body, secret or self.config.api_secret)
        return webhooks.parse(headers, body)

    def client(
        self, shop: str, credentials: Mapping[str, Any], on_credentials: CredentialsSaver | None = None
    ) -> ShopifyClient:
        """A client for one installed shop; ``on_credentials`` receives rotated tokens."""
        return ShopifyClient(
            self.config, shop, credentials, on_credentials, self.runtime, self.bucket_factory
        )
