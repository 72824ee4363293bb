"""The token-exchange grant of ``POST /<shop>/admin/oauth/access_token`` (managed install).

An embedded app trades a session token (``subject_token``, ``subject_token_type=...:id_token``)
for an offline access token (``requested_token_type=...:offline-access-token``; ``expiring=1``
gives the expiring token and its refresh token).  The app must be installed on the shop (the
admin installs it with the configured scopes before it loads the app).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from flask import Response

from sandbox.shopify import session_tokens
from sandbox.shopify.config import AppConfig
from sandbox.shopify.state import ShopState

if TYPE_CHECKING:
    from sandbox.shopify.store import Sandbox

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE = "urn:shopify:params:oauth:token-type:offline-access-token"
ONLINE = "urn:shopify:params:oauth:token-type:online-access-token"


def _error(status: int, error: str, description: str) -> Response:
    body = {"error": error, "error_description": description}
    return Response(json.dumps(body), status=status, mimetype="application/json")


def exchange(sb: Sandbox, shop: ShopState, app: AppConfig, form: Mapping[str, str]) -> Response:
    """Answer a token-exchange request (client already authenticated)."""
    if form.get("subject_token_type") != ID_TOKEN:
        return _error(400, "invalid_request", f"subject_token_type must be {ID_TOKEN}")
    requested = form.get("requested_token_type", "")
    if requested == ONLINE:
        return _error(400, "unsupported_token_type", "the sandbox issues offline tokens only")
    if requested != OFFLINE:
        return _error(400, "invalid_request", f"requested_token_type must be {OFFLINE}")
    if session_tokens.verify(form.get("subject_token", ""), app, shop) is None:
        return _error(
            400, "invalid_subject_token", "The session token is invalid, expired or for another shop"
        )
    with sb.state.lock:
        installation = shop.installations.get(app.api_key)
        if installation is None:
            return _error(400, "invalid_grant", f"{app.name} is not installed on {shop.domain}")
        expiring = form.get("expiring", "") in ("1", "true", "True")
        body = sb.issue_tokens(shop, app.api_key, installation.scopes, expiring=expiring)
    return Response(json.dumps(body), status=200, mimetype="application/json")
