"""Managed install: the session token of the app's first load traded for offline credentials.

``POST /admin/oauth/access_token`` with the token-exchange grant (RFC 8693) and ``expiring=1``
gives the same expiring offline token and rotating refresh token as the authorization-code
install; scopes and webhooks come from the app's configuration (``shopify.app.toml``).
"""

from __future__ import annotations

from typing import Any

from adapters.shopify.auth import OAuth

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE_TOKEN = "urn:shopify:params:oauth:token-type:offline-access-token"


def exchange_session_token(oauth: OAuth, shop: str, session_token: str) -> dict[str, Any]:
    """Expiring offline credentials for ``shop`` in exchange for one of its (verified) session tokens."""
    data = {
        "client_id": oauth.config.api_key,
        "client_secret": oauth.config.api_secret,
        "grant_type": GRANT_TYPE,
        "subject_token": session_token,
        "subject_token_type": ID_TOKEN,
        "requested_token_type": OFFLINE_TOKEN,
        "expiring": "1",
    }
    credentials = oauth._token_request(shop, data, "exchanging the session token")
    oauth.check_scopes(credentials)
    return credentials
