"""The embedded app's side of :class:`~adapters.shopify.app.ShopifyApp`: launch checks, session
tokens, managed install by token exchange, the admin's app URL, and billing.

The admin loads the app's URL in an iframe with ``shop``, ``host`` (base64 of the admin's
host and path), ``embedded=1`` and ``id_token`` (a session token).  The page must load App
Bridge from Shopify's CDN first, with the app's API key in a ``shopify-api-key`` meta tag.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from adapters.shopify import session_token
from adapters.shopify.auth import sanitize_shop
from adapters.shopify.billing import ShopifyBilling
from adapters.shopify.managed_install import exchange_session_token
from connector.errors import AuthError
from connector.port import CredentialsSaver, InstallResult
from connector.port_embedded import EmbeddedFrame, SessionIdentity

if TYPE_CHECKING:
    from adapters.shopify.auth import OAuth
    from adapters.shopify.client import ShopifyClient
    from adapters.shopify.config import ShopifyConfig

APP_BRIDGE_URL = "https://cdn.shopify.com/shopifycloud/app-bridge.js"
_ADMIN_HOST = re.compile(r"^admin\.shopify\.com/store/[a-z0-9][a-z0-9-]*$")


def decode_host(host: str | None) -> str:
    """The admin host and path a ``host`` launch parameter encodes (base64url, padding optional)."""
    text = host or ""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ""


def check_host(host: str | None, shop: str) -> None:
    """AuthError unless ``host`` names Shopify's admin of ``shop`` (new or legacy admin URL)."""
    decoded = decode_host(host)
    if not (_ADMIN_HOST.match(decoded) or decoded == f"{shop}/admin"):
        raise AuthError("the app was opened with a host that is not a Shopify admin", hint=session_token.HINT)


class EmbeddedShopify:
    """Mixed into ShopifyApp: the port's ``EmbeddedApp`` and ``BillingApp``."""

    config: ShopifyConfig
    oauth: OAuth

    if TYPE_CHECKING:

        def client(
            self, shop: str, credentials: Mapping[str, Any], on_credentials: CredentialsSaver | None = None
        ) -> ShopifyClient: ...

    def embedded_frame(self) -> EmbeddedFrame:
        """App Bridge from Shopify's CDN, after the meta tag with the app's API key."""
        return EmbeddedFrame(meta={"shopify-api-key": self.config.api_key}, scripts=(APP_BRIDGE_URL,))

    def frame_ancestors(self, shop: str) -> tuple[str, ...]:
        """The shop's own admin and Shopify's unified admin."""
        parts = urlsplit(self.config.shop_origin(sanitize_shop(shop)))
        return (f"{parts.scheme}://{parts.netloc}", "https://admin.shopify.com")

    def verify_launch(self, params: Mapping[str, str]) -> SessionIdentity:
        """Check ``embedded``, ``shop``, ``host`` and the ``id_token`` of the shop the page is for."""
        if params.get("embedded") != "1":
            raise AuthError("the app was opened outside the Shopify admin", hint=session_token.HINT)
        shop = sanitize_shop(params.get("shop"))
        check_host(params.get("host"), shop)
        return session_token.verify_for_shop(
            session_token.launch_token(params), shop, self.config.api_key, self.config.api_secret
        )

    def launch_token(self, params: Mapping[str, str]) -> str:
        """The ``id_token`` launch parameter."""
        return session_token.launch_token(params)

    def verify_session_token(self, authorization: str | None) -> SessionIdentity:
        """Check an ``Authorization: Bearer`` session token."""
        return session_token.verify(authorization, self.config.api_key, self.config.api_secret)

    def install_from_session(self, shop: str, token: str) -> InstallResult:
        """Token exchange: expiring offline credentials for the shop of a verified session token."""
        domain = sanitize_shop(shop)
        credentials = exchange_session_token(self.oauth, domain, token)
        scopes = tuple(s for s in str(credentials.get("scope") or "").split(",") if s)
        return InstallResult(shop=domain, credentials=credentials, scopes=scopes)

    def admin_app_url(self, shop: str) -> str:
        """The app inside the shop's admin (Shopify forwards it to admin.shopify.com)."""
        return f"{self.config.shop_origin(sanitize_shop(shop))}/admin/apps/{self.config.api_key}"

    def billing(
        self,
        shop: str,
        credentials: Mapping[str, Any],
        on_credentials: CredentialsSaver | None = None,
    ) -> ShopifyBilling:
        """The Billing API of one installed shop."""
        return ShopifyBilling(self.client(shop, credentials, on_credentials).graphql)
