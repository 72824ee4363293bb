"""Session tokens as Shopify's admin issues them to an embedded app (App Bridge's ``idToken()``)."""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

import jwt

from sandbox.shopify.config import AppConfig
from sandbox.shopify.state import ShopState

#: Shopify's session tokens live one minute
SESSION_TOKEN_TTL = 60.0


def mint(
    app: AppConfig, shop: ShopState, user: str = "1", ttl: float = SESSION_TOKEN_TTL, **claims: Any
) -> str:
    """A signed (HS256, app secret) session token for ``user`` in ``shop``'s admin; ``claims`` override."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": f"https://{shop.domain}/admin",
        "dest": f"https://{shop.domain}",
        "aud": app.api_key,
        "sub": user,
        "exp": now + int(ttl),
        "nbf": now,
        "iat": now,
        "jti": str(uuid.uuid4()),
        "sid": secrets.token_hex(16),
    }
    payload.update(claims)
    return jwt.encode(payload, app.api_secret, algorithm="HS256")


def verify(token: str, app: AppConfig, shop: ShopState) -> dict[str, Any] | None:
    """The claims of a valid session token of ``app`` for ``shop``, else None."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            app.api_secret,
            algorithms=["HS256"],
            audience=app.api_key,
            leeway=10,
            options={"require": ["exp", "nbf", "iss", "dest", "sub"]},
        )
    except jwt.PyJWTError:
        return None
    if claims.get("dest") != f"https://{shop.domain}":
        return None
    return claims
