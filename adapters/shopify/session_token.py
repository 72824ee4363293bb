"""Session tokens of the embedded app: the JWTs App Bridge hands the app's pages.

A session token is signed (HS256) with the app's secret and lives about a minute.  Its claims:
``iss`` (``https://<shop>/admin``), ``dest`` (``https://<shop>``), ``aud`` (the API key), ``sub``
(the admin user), ``exp``, ``nbf``, ``iat``, ``jti``, ``sid``.  The ShopifyAPI package's helper
checks the signature, the audience, the time claims (10 s of leeway) and that issuer and
destination are the same shop; this module adds what it leaves out (an ``exp`` must be there)
and answers with the port's :class:`~connector.port.SessionIdentity`.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from urllib.parse import urlsplit

from shopify import session_token

from adapters.shopify.auth import sanitize_shop
from connector.errors import AuthError
from connector.port_embedded import SessionIdentity

BEARER = "Bearer "
HINT = "reload the app from your Shopify admin"


def verify(authorization: str | None, api_key: str, secret: str) -> SessionIdentity:
    """The identity in an ``Authorization: Bearer <session token>`` header; AuthError when not valid."""
    if not api_key or not secret:
        raise AuthError(
            "the Shopify app has no API key or secret configured", hint="set SHOPIFY_API_KEY/SECRET"
        )
    try:
        claims = session_token.decode_from_header(authorization or "", api_key, secret)
    except session_token.SessionTokenError as exc:
        raise AuthError(f"the session token is not valid: {exc}", hint=HINT) from exc
    if not isinstance(claims.get("exp"), int | float) or not isinstance(claims.get("nbf"), int | float):
        raise AuthError("the session token has no expiry", hint=HINT)
    host = urlsplit(str(claims["dest"])).hostname or ""
    return SessionIdentity(
        shop=sanitize_shop(host),
        user=str(claims["sub"]),
        session=str(claims["sid"]),
        token_id=str(claims["jti"]),
        expires_at=float(claims["exp"]),
    )


def verify_token(token: str | None, api_key: str, secret: str) -> SessionIdentity:
    """:func:`verify` for a bare token (the ``id_token`` launch parameter)."""
    return verify(BEARER + (token or ""), api_key, secret)


def verify_for_shop(token: str | None, shop: str | None, api_key: str, secret: str) -> SessionIdentity:
    """A token that must belong to ``shop`` (the launch's ``shop`` parameter)."""
    identity = verify_token(token, api_key, secret)
    claimed = sanitize_shop(shop)
    if not hmac.compare_digest(identity.shop.encode(), claimed.encode()):
        raise AuthError(f"the session token is for another shop than {claimed}", hint=HINT)
    return identity


def launch_token(params: Mapping[str, str]) -> str:
    """The ``id_token`` launch parameter; AuthError when the admin did not send one."""
    token = params.get("id_token") or ""
    if not token:
        raise AuthError("the app was opened without a session token", hint=HINT)
    return token
