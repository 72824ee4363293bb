"""PlatformApp for WooCommerce: the ``wc-auth`` key grant, then an Application Password, webhooks, clients.

The install has two consents in the merchant's browser (the port's optional ``FollowUpConsent``):
WooCommerce's key grant (consumer keys for ``wc/v3``, posted server to server), then WordPress's
``authorize-application.php`` (an Application Password, which ``wp/v2/media`` uploads need).
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

import requests

from adapters.outbound import guarded_session
from adapters.woocommerce import app_passwords, webhooks
from adapters.woocommerce.client import WooCommerceClient
from adapters.woocommerce.config import WooConfig
from adapters.woocommerce.http import RetryPolicy
from adapters.woocommerce.urls import normalize_shop, origin, with_query
from connector.errors import AuthError, ConfigurationError, ConnectorError, TransientError
from connector.port import CredentialsSaver, InstallResult, WebhookEvent

REQUIRED_KEYS = ("key_id", "user_id", "consumer_key", "consumer_secret", "key_permissions")


class WooCommerceApp:
    """The connector as a WooCommerce REST API consumer, for any number of stores."""

    name: ClassVar[str] = "woocommerce"
    #: WordPress re-encodes uploads whose longer side exceeds this (``big_image_size_threshold``) and
    #: serves a "-scaled" copy, so results are kept at or below it to be served byte for byte.
    max_image_side: ClassVar[int | None] = 2560

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

    def normalize_shop(self, shop: str) -> str:
        """The store's site URL as the connector records it; AuthError when it is not one the outbound
        policy lets the connector reach (not http(s), plain http in production, a private address)."""
        site = normalize_shop(shop)
        parts = urlsplit(site)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            self.config.outbound.check_url(site)
            self.config.outbound.resolve(parts.hostname or "", port)
        except OSError:
            raise AuthError(f"{site} cannot be found", hint="check the store's address") from None
        except ConnectorError as exc:
            raise AuthError(f"{site} cannot be installed: {exc.message}", hint=exc.hint) from None
        return site

    def authorize_url(
        self, shop: str, state: str, redirect_uri: str, *, return_url: str | None = None
    ) -> str:
        """The store's ``wc-auth/v1/authorize`` page asking for read/write keys.

        The keys are POSTed to ``redirect_uri?shop=…&state_hint=…`` (server to server, so the
        state travels in the URL and comes back as ``user_id`` in the body); the merchant's
        browser then goes to ``return_url`` with ``success=1|0&user_id=<state>`` (default: the
        configured one, else the callback's site root).
        """
        site = normalize_shop(shop)
        if not redirect_uri.lower().startswith("https://") and not self.config.allow_http_callback:
            raise ConfigurationError(
                f"WooCommerce posts its keys only to an https callback; the connector's is {redirect_uri}",
                hint="serve the connector over https and set PUBLIC_URL=https://… (WooCommerce would answer "
                "'The callback_url needs to be over SSL')",
            )
        query = {
            "app_name": self.config.app_name,
            "scope": "read_write",
            "user_id": state,
            "return_url": return_url or self.config.return_url or origin(redirect_uri) + "/",
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
        bad = (
            f"the keys posted for {shop} do not work there",
            "the request did not come from that store, or the key was revoked; install again",
        )
        self._check_keys(shop, credentials, bad, bad)
        return InstallResult(shop=shop, credentials=credentials, scopes=("read_write",))

    def _check_keys(
        self, site: str, credentials: Mapping[str, Any], refused: tuple[str, str], elsewise: tuple[str, str]
    ) -> None:
        """One signed read with the keys; AuthError (message, hint) when the store refuses them, or
        ``elsewise`` when it answers anything else.  Transient errors pass through."""
        try:
            self.client(site, credentials).check_access()
        except TransientError:
            raise
        except ConnectorError as exc:  # said without quoting what the host answered
            message, hint = refused if isinstance(exc, AuthError) else elsewise
            raise AuthError(f"{message} ({exc.code})", hint=hint) from exc

    # ------------------------------------------------------------------ credentials entered by hand

    def store_address(self, shop: str) -> str:
        """The site URL as WordPress names it (``X-WC-Webhook-Source``): scheme, lower-case host, no slash."""
        return normalize_shop(shop)

    def check_credentials(self, shop: str, credentials: Mapping[str, Any]) -> None:
        """The REST key must read products there, and an Application Password given must log in."""
        site = normalize_shop(shop)
        self._check_keys(
            site,
            credentials,
            (
                f"the REST API key does not work on {site}",
                "use a read/write key from WooCommerce → Settings → Advanced → REST API, "
                "or install through the install link",
            ),
            (
                f"{site} does not answer as a WooCommerce store",
                "give the Site Address (WordPress → Settings → General); permalinks must not be Plain",
            ),
        )
        if credentials.get("app_user") or credentials.get("app_password"):
            with self._session() as session:
                app_passwords.check_password(
                    session,
                    site,
                    str(credentials.get("app_user") or ""),
                    str(credentials.get("app_password") or ""),
                    self.config.timeout,
                    self._retry(),
                )

    # ------------------------------------------------------------------ Application Password (follow-up)

    def _retry(self) -> RetryPolicy:
        c = self.config
        return self.retry or RetryPolicy(
            c.max_attempts, c.backoff_base, c.backoff_max, platform="woocommerce"
        )

    def _session(self) -> requests.Session:
        session = guarded_session(self.config.outbound)
        session.headers["User-Agent"] = self.config.user_agent
        return session

    def followup_url(self, shop: str, state: str, redirect_uri: str) -> str:
        """WordPress's page handing the connector an Application Password (for media uploads).

        Found through the site's REST index; it sends the merchant back to ``redirect_uri`` with
        ``state`` (and ``success=false`` when they decline).  AuthError when the site offers none.
        """
        site = normalize_shop(shop)
        with self._session() as session:
            endpoint = app_passwords.authorization_endpoint(session, site, self.config.timeout, self._retry())
        return app_passwords.authorize_application_url(
            endpoint,
            name=app_passwords.password_name(self.config.app_name),
            app_id=self.config.app_id,
            callback=redirect_uri,
            state=state,
        )

    def complete_followup(self, shop: str, params: Mapping[str, str], state: str) -> dict[str, str]:
        """``{"app_user", "app_password"}`` from WordPress's redirect, once the password works there;
        the connector's earlier Application Passwords of that user are revoked."""
        site = normalize_shop(shop)
        user, password = app_passwords.login_from_callback(site, params, state)
        with self._session() as session:
            app_passwords.check_password(session, site, user, password, self.config.timeout, self._retry())
            # a re-install replaces the connector's earlier passwords: revoke them on the store
            app_passwords.revoke_replaced(
                session, site, user, password, self.config.app_id, self.config.timeout, self._retry()
            )
        return {"app_user": user, "app_password": password}

    # ------------------------------------------------------------------------------------ webhooks

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
