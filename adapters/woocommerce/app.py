"""PlatformApp for WooCommerce: the ``wc-auth`` key grant, webhook verification, store clients."""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlencode

from adapters.base import CredentialsSaver, InstallResult, WebhookEvent
from adapters.woocommerce import webhooks
from adapters.woocommerce.client import WooCommerceClient
from adapters.woocommerce.config import WooConfig
from adapters.woocommerce.http import RetryPolicy
from adapters.woocommerce.urls import normalize_shop, origin, with_query
from connector.errors import AuthError, ConnectorError, TransientError

REQUIRED_KEYS = ("key_id", "user_id", "consumer_key", "consumer_secret", "key_permissions")


class WooCommerceApp:
    """The connector as a WooCommerce REST API consumer, for any number of stores."""

    name: ClassVar[str] = "woocommerce"

    def __init__(
        self,
        app_name: str = "Image Connector",
        timeout: float = 30.0,
        *,
        config: WooConfig | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.config = config or WooConfig(app_name=app_name, timeout=timeout)
        self.retry = retry

    def authorize_url(self, shop: str, state: str, redirect_uri: str) -> str:
        """The store's ``wc-auth/v1/authorize`` page asking for read/write keys.

        The keys are POSTed to ``redirect_uri?shop=…&state_hint=…`` (server to server, so the
        state travels in the URL and comes back as ``user_id`` in the body); the merchant's
        browser then goes to ``return_url`` (config, default the callback's site root).
        """
        site = normalize_shop(shop)
        query = {
            "app_name": self.config.app_name,
            "scope": "read_write",
            "user_id": state,
            "return_url": self.config.return_url or origin(redirect_uri) + "/",
            "callback_url": with_query(redirect_uri, shop=site, state_hint=state),
        }
        return f"{site}/wc-auth/v1/authorize?{urlencode(query)}"

    def complete_install(self, params: Mapping[str, str], body: bytes, state: str | None) -> InstallResult:
        """Read the keys WooCommerce POSTed, check the state echo and that the keys work on the store."""
        try:
            keys: Any = json.loads(body or b"null")
        except ValueError:
            keys = None
        if not isinstance(keys, dict) or any(k not in keys for k in REQUIRED_KEYS):
            raise AuthError(
                "the install callback carries no WooCommerce keys",
                hint="start the install from the connector; WooCommerce posts the keys to this URL itself",
            )
        shop = normalize_shop(str(params.get("shop") or ""))
        if state is not None and not hmac.compare_digest(str(keys["user_id"]), state):
            raise AuthError(
                "the key grant does not belong to this install (state mismatch)", hint="install again"
            )
        if keys["key_permissions"] != "read_write":
            raise AuthError(
                f"{shop} granted {keys['key_permissions']} access; the connector needs read_write",
                hint="install again and approve read/write access",
            )
        credentials = {
            "consumer_key": str(keys["consumer_key"]),
            "consumer_secret": str(keys["consumer_secret"]),
            "key_id": keys["key_id"],
            "webhook_secret": secrets.token_urlsafe(32),
        }
        try:
            self.client(shop, credentials).check_access()
        except TransientError:
            raise
        except ConnectorError as exc:
            raise AuthError(
                f"the keys posted for {shop} do not work there: {exc.message}",
                hint="the request did not come from that store, or the key was revoked; install again",
            ) from exc
        return InstallResult(shop=shop, credentials=credentials, scopes=("read_write",))

    def webhook_shop(self, headers: Mapping[str, str], body: bytes) -> str | None:
        """The site a delivery claims to come from (``X-WC-Webhook-Source``), unverified."""
        return webhooks.webhook_shop(headers)

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str | None) -> WebhookEvent:
        """Verify ``X-WC-Webhook-Signature`` with the store's webhook secret; a ping needs none."""
        return webhooks.verify(headers, body, secret)

    def client(
        self, shop: str, credentials: Mapping[str, Any], on_credentials: CredentialsSaver | None = None
    ) -> WooCommerceClient:
        """A client for one store; ``on_credentials`` saves a webhook secret created later."""
        return WooCommerceClient(shop, credentials, self.config, self.retry, on_credentials)
