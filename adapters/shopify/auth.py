"""Install handshake and expiring offline tokens.

The ShopifyAPI package supplies shop-domain sanitising, the permission URL and the callback
HMAC check; the token calls go through our own session so they get timeouts, retries and the
configured base URL (the sandbox is plain http on loopback).

Credentials are a plain mapping the service stores encrypted::

    {"access_token", "access_token_expires_at" (epoch s), "refresh_token",
     "refresh_token_expires_at" (epoch s), "scope"}
"""

from __future__ import annotations

import hmac
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
import shopify
from shopify.api_access import ApiAccess, ApiAccessError
from shopify.utils.shop_url import sanitize_shop_domain

from adapters.shopify.config import ShopifyConfig
from adapters.shopify.http import RetryPolicy, send
from connector.errors import AuthError, ConnectorError, TransientError
from connector.port import CredentialsSaver, SharedCredentials

SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
REINSTALL_HINT = "open the app from the Shopify admin to install it again"
#: Callbacks older than this are refused (replay protection, as ShopifyAPI does).
CALLBACK_MAX_AGE = 24 * 60 * 60


def sanitize_shop(shop: str | None) -> str:
    """The shop's ``name.myshopify.com`` domain; AuthError for anything else.

    ShopifyAPI's sanitiser normalises the input (case, scheme, bare names); the pattern
    ``^[a-z0-9][a-z0-9-]*\\.myshopify\\.com$`` decides.
    """
    text = (shop or "").strip().lower()
    clean = sanitize_shop_domain(text) or (text if "." in text else f"{text}.myshopify.com")
    if not SHOP_DOMAIN.match(clean):
        raise AuthError(
            f"{shop!r} is not a Shopify shop domain",
            hint="use the shop's own domain, like your-shop.myshopify.com",
        )
    return str(clean)


def credentials_from_token_response(payload: Mapping[str, Any], now: float) -> dict[str, Any]:
    """Our credentials mapping from a token endpoint answer."""
    token = payload.get("access_token")
    if not token:
        raise AuthError("Shopify answered the token request without a token", hint=REINSTALL_HINT)

    def expiry(key: str) -> float | None:
        seconds = payload.get(key)
        return now + float(seconds) if seconds is not None else None

    return {
        "access_token": token,
        "access_token_expires_at": expiry("expires_in"),
        "refresh_token": payload.get("refresh_token"),
        "refresh_token_expires_at": expiry("refresh_token_expires_in"),
        "scope": payload.get("scope", ""),
    }


class OAuth:
    """The OAuth calls of one app (its key and secret) against any shop."""

    def __init__(
        self,
        config: ShopifyConfig,
        session: requests.Session,
        retry: RetryPolicy,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.session = session
        self.retry = retry
        self.clock = clock
        # A Session subclass carrying this app's key and secret: ShopifyAPI keeps them as class
        # attributes, and a subclass keeps two apps in one process from sharing them.
        self._session_class: type[shopify.Session] = type(
            "AppSession", (shopify.Session,), {"api_key": config.api_key, "secret": config.api_secret}
        )

    def authorize_url(self, shop: str, state: str, redirect_uri: str) -> str:
        """The permission URL on the shop's admin (offline access, the configured scopes)."""
        domain = sanitize_shop(shop)
        url = self._session_class(domain, self.config.api_version).create_permission_url(
            self.config.scope_list, redirect_uri, state
        )
        parts = urlsplit(url)
        return f"{self.config.shop_origin(domain)}{parts.path}?{parts.query}"

    def verify_callback(self, params: Mapping[str, str], state: str | None) -> str:
        """Check the callback's state and HMAC (and age); the shop domain it is for."""
        received = params.get("state") or ""
        if not state or not hmac.compare_digest(received.encode(), state.encode()):
            raise AuthError(
                "install state does not match this browser session", hint="start the install again"
            )
        shop = sanitize_shop(params.get("shop"))
        try:
            fresh = int(params.get("timestamp", "0")) >= self.clock() - CALLBACK_MAX_AGE
        except ValueError:
            fresh = False
        if not fresh or not self._session_class.validate_hmac(dict(params)):
            raise AuthError(
                "install callback signature is invalid or too old",
                hint="start the install again from the store",
            )
        return shop

    def exchange_code(self, shop: str, code: str) -> dict[str, Any]:
        """Trade the callback's code for an expiring offline token (``expiring=1``)."""
        if not code:
            raise AuthError("install callback carries no code", hint="start the install again from the store")
        data = {
            "client_id": self.config.api_key,
            "client_secret": self.config.api_secret,
            "code": code,
            "expiring": "1",
        }
        credentials = self._token_request(shop, data, "exchanging the install code")
        self.check_scopes(credentials)
        return credentials

    def refresh(self, shop: str, refresh_token: str) -> dict[str, Any]:
        """A new access token and a new (rotated) refresh token."""
        data = {
            "client_id": self.config.api_key,
            "client_secret": self.config.api_secret,
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        }
        return self._token_request(shop, data, "refreshing the access token")

    def check_scopes(self, credentials: Mapping[str, Any]) -> None:
        """AuthError when the granted scopes do not cover the configured ones."""
        try:
            granted = ApiAccess(str(credentials.get("scope") or ""))
            wanted = ApiAccess(self.config.scopes)
        except ApiAccessError as exc:
            raise AuthError(f"unreadable scopes: {exc}", hint=REINSTALL_HINT) from exc
        if not granted.covers(wanted):
            raise AuthError(
                f"the shop granted {granted} but the connector needs {wanted}",
                hint="install again and approve every requested permission",
            )

    def _token_request(self, shop: str, data: Mapping[str, str], what: str) -> dict[str, Any]:
        url = self.config.token_url(shop)

        def attempt() -> requests.Response:
            return send(
                self.session,
                "POST",
                url,
                what,
                self.config.timeout,
                data=data,
                headers={"Accept": "application/json"},
            )

        try:
            response = self.retry.run(attempt)
        except TransientError:
            raise
        except ConnectorError as exc:
            raise AuthError(f"Shopify refused {what} for {shop}: {exc.message}", hint=REINSTALL_HINT) from exc
        try:
            payload = response.json()
        except ValueError as exc:
            raise TransientError(f"{what}: the answer is not JSON", hint="try again shortly") from exc
        return credentials_from_token_response(payload, self.clock())


class TokenKeeper:
    """Hands out a valid access token for one shop, refreshing (and rotating) as needed.

    With a :class:`~connector.port.SharedCredentials` saver the refresh runs under the store's
    refresh lock and re-reads the stored credentials first: when another process rotated them
    meanwhile, those are adopted and the (already used) refresh token is not presented again.
    """

    def __init__(
        self,
        oauth: OAuth,
        shop: str,
        credentials: Mapping[str, Any],
        on_credentials: CredentialsSaver | None,
        leeway: float,
    ) -> None:
        self.oauth = oauth
        self.shop = shop
        self.credentials: dict[str, Any] = dict(credentials)
        self.on_credentials = on_credentials
        self.leeway = leeway
        self._lock = threading.Lock()
        if not self.credentials.get("access_token"):
            raise AuthError(f"no access token stored for {shop}", hint=REINSTALL_HINT)

    def _expiring(self, credentials: Mapping[str, Any]) -> bool:
        expires_at = credentials.get("access_token_expires_at")
        return expires_at is not None and float(expires_at) - self.leeway <= self.oauth.clock()

    def access_token(self) -> str:
        """The current token, refreshed first when it expires within the leeway."""
        with self._lock:
            if self._expiring(self.credentials):
                self._refresh_locked(rejected=None)
            return str(self.credentials["access_token"])

    def refresh_rejected(self, rejected_token: str) -> str:
        """After a 401 with ``rejected_token``: refresh once (unless another call already did)."""
        with self._lock:
            if self.credentials.get("access_token") == rejected_token:
                self._refresh_locked(rejected=rejected_token)
            return str(self.credentials["access_token"])

    def _refresh_locked(self, rejected: str | None) -> None:
        shared = self.on_credentials if isinstance(self.on_credentials, SharedCredentials) else None
        if shared is None:
            self._rotate()
            return
        with shared.refreshing() as stored:
            token = stored.get("access_token")
            newer = bool(token) and token not in (rejected, self.credentials.get("access_token"))
            if newer and not self._expiring(stored):
                self.credentials = dict(stored)  # another process refreshed already
                return
            if stored.get("refresh_token"):
                self.credentials = dict(stored)  # the newest refresh token is the only live one
            self._rotate()

    def _rotate(self) -> None:
        """Trade the refresh token for new tokens and hand them to ``on_credentials``."""
        refresh_token = self.credentials.get("refresh_token")
        if not refresh_token:
            raise AuthError(
                f"the access token for {self.shop} expired and cannot be refreshed", hint=REINSTALL_HINT
            )
        refresh_expires = self.credentials.get("refresh_token_expires_at")
        if refresh_expires is not None and float(refresh_expires) <= self.oauth.clock():
            raise AuthError(f"the refresh token for {self.shop} has expired", hint=REINSTALL_HINT)
        fresh = self.oauth.refresh(self.shop, str(refresh_token))
        if not fresh.get("scope"):
            fresh["scope"] = self.credentials.get("scope", "")
        if not fresh.get("refresh_token"):
            fresh["refresh_token"] = refresh_token
            fresh["refresh_token_expires_at"] = refresh_expires
        self.credentials = fresh
        if self.on_credentials is not None:
            self.on_credentials(dict(fresh))
