"""OAuth install (authorization code grant) with expiring offline tokens and the refresh grant.

``GET /<shop>/admin/oauth/authorize`` checks the app, scopes and redirect URI, then the sandbox's
merchant approves at once: a redirect to ``redirect_uri`` with ``code, hmac, host, shop, state,
timestamp`` (hex HMAC-SHA256 of the sorted query without ``hmac``, keyed with the app secret).
``POST /<shop>/admin/oauth/access_token`` exchanges the code (``expiring=1`` for an expiring
offline token plus a rotating refresh token) or a refresh token (``grant_type=refresh_token``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, request

from sandbox.shopify import token_exchange
from sandbox.shopify.state import AuthCode
from sandbox.shopify.store import KNOWN_SCOPES, split_scopes

if TYPE_CHECKING:
    from sandbox.shopify.store import Sandbox


def _encoded_pairs(params: Mapping[str, Any]) -> list[str]:
    pairs = []
    for key, value in params.items():
        if key in ("hmac", "signature"):
            continue
        if key.endswith("[]"):
            key, value = key[:-2], json.dumps([str(v) for v in value])
        k = str(key).replace("%", "%25").replace("=", "%3D")
        v = str(value).replace("%", "%25")
        pairs.append(f"{k}={v}".replace("&", "%26"))
    return sorted(pairs)


def query_hmac(params: Mapping[str, Any], secret: str) -> str:
    """Shopify's callback signature: hex HMAC-SHA256 of the sorted ``key=value`` pairs without ``hmac``."""
    message = "&".join(_encoded_pairs(params))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _oauth_page(status: int, error: str, description: str) -> Response:
    body = f"<html><body><h1>Oauth error {error}</h1><p>{description}</p></body></html>"
    return Response(body, status=status, mimetype="text/html")


def _token_error(status: int, error: str, description: str) -> Response:
    return Response(
        json.dumps({"error": error, "error_description": description}),
        status=status,
        mimetype="application/json",
    )


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _form() -> dict[str, str]:
    if request.is_json:
        data = request.get_json(silent=True) or {}
        return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    merged = dict(request.args.items())
    merged.update(request.form.items())
    return merged


def oauth_blueprint(sb: Sandbox) -> Blueprint:
    bp = Blueprint("shopify_oauth", __name__)

    @bp.get("/<shop_name>/admin/oauth/authorize")
    def authorize(shop_name: str) -> Response:
        shop = sb.state.shop(shop_name)
        if shop is None:
            return Response("There's no page at this address", status=404, mimetype="text/plain")
        client_id = request.args.get("client_id", "")
        app = sb.app(client_id)
        if app is None:
            return _oauth_page(
                400, "invalid_request", f"Could not find Shopify API application with api_key {client_id}"
            )
        redirect_uri = request.args.get("redirect_uri", "")
        if not redirect_uri or urlsplit(redirect_uri).scheme not in ("http", "https"):
            return _oauth_page(400, "invalid_request", "The redirect_uri is missing or invalid")
        if app.redirect_urls and not any(redirect_uri.startswith(allowed) for allowed in app.redirect_urls):
            return _oauth_page(400, "invalid_request", "The redirect_uri is not whitelisted")
        scopes = split_scopes(request.args.get("scope", ""))
        unknown = [s for s in scopes if s not in KNOWN_SCOPES]
        if unknown:
            return _oauth_page(
                400,
                "invalid_scope",
                f"Scope undefined for API access: {', '.join(unknown)}. Valid scopes: "
                + ", ".join(sorted(KNOWN_SCOPES)),
            )
        code = secrets.token_hex(16)
        with sb.state.lock:
            sb.state.codes[code] = AuthCode(
                code, shop.domain, app.api_key, frozenset(scopes), time.time() + sb.config.auth_code_ttl
            )
        params: dict[str, str] = {
            "code": code,
            "host": base64.b64encode(f"admin.shopify.com/store/{shop.handle}".encode()).decode().rstrip("="),
            "shop": shop.domain,
            "timestamp": str(int(time.time())),
        }
        if "state" in request.args:
            params["state"] = request.args["state"]
        params["hmac"] = query_hmac(params, app.api_secret)
        location = _with_query(redirect_uri, dict(sorted(params.items())))
        return Response(status=302, headers={"Location": location})

    @bp.post("/<shop_name>/admin/oauth/access_token")
    def access_token(shop_name: str) -> Response:
        shop = sb.state.shop(shop_name)
        if shop is None:
            return Response("Not Found", status=404, mimetype="text/plain")
        form = _form()
        app = sb.app(form.get("client_id", ""))
        if app is None or not hmac.compare_digest(form.get("client_secret", ""), app.api_secret):
            return _token_error(
                401,
                "invalid_client",
                "Client authentication failed: unknown client_id or wrong client_secret",
            )
        if form.get("grant_type") == token_exchange.GRANT_TYPE:
            return token_exchange.exchange(sb, shop, app, form)
        now = time.time()
        with sb.state.lock:
            if form.get("grant_type") == "refresh_token":
                token = sb.state.tokens.get(form.get("refresh_token", ""))
                if (
                    token is None
                    or token.kind != "refresh"
                    or token.shop != shop.domain
                    or token.app_key != app.api_key
                    or not token.alive(now)
                    or app.api_key not in shop.installations
                ):
                    return _token_error(
                        400, "invalid_grant", "The refresh token is invalid, expired or already used"
                    )
                token.revoked = True  # refresh tokens rotate: the used one dies
                body = sb.issue_tokens(shop, app.api_key, token.scopes, expiring=True)
                body["scope"] = ",".join(sorted(token.scopes))
                return Response(json.dumps(body), status=200, mimetype="application/json")
            code = sb.state.codes.get(form.get("code", ""))
            if (
                code is None
                or code.used
                or code.shop != shop.domain
                or code.app_key != app.api_key
                or now > code.expires_at
            ):
                return _token_error(
                    400, "invalid_request", "The authorization code was not found or was already used"
                )
            code.used = True
            sb.install(shop, app.api_key, code.scopes)
            expiring = form.get("expiring", "") in ("1", "true", "True")
            body = sb.issue_tokens(shop, app.api_key, code.scopes, expiring=expiring)
        return Response(json.dumps(body), status=200, mimetype="application/json")

    return bp
