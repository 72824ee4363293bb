"""``wc-auth/v1``: the key grant an app sends the merchant through.

``GET /<site>/wc-auth/v1/authorize?app_name&scope&user_id&return_url&callback_url`` shows the
approval page (the merchant is taken to be logged in as the administrator).  Approving
(``GET wc-auth/v1/access_granted`` with the page's nonce) creates a key, POSTs
``{key_id, user_id, consumer_key, consumer_secret, key_permissions}`` as JSON to ``callback_url``
— which must answer exactly 200, else the key is deleted and an error page shown — and then
redirects to ``return_url`` with ``success=1&user_id=…``.  Denying redirects with ``success=0``.
"""

from __future__ import annotations

import html
import json
import secrets
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from flask import Blueprint, redirect
from werkzeug.wrappers import Response

from sandbox.woocommerce.context import get_site, query_args, sandbox
from sandbox.woocommerce.media import validate_url
from sandbox.woocommerce.models import now_utc
from sandbox.woocommerce.site import Site
from sandbox.woocommerce.webhooks import user_agent

REQUIRED = ("app_name", "user_id", "return_url", "callback_url", "scope")
SCOPES = {"read": "read", "write": "write", "read_write": "read_write"}

bp = Blueprint("wc_auth", __name__)


class GrantError(Exception):
    """Shown to the merchant as WooCommerce's ``wp_die`` page."""


def _error_page(message: str) -> Response:
    body = (
        "<!DOCTYPE html><html><head><title>Access denied</title></head>"
        f"<body><p>Error: {html.escape(message)}.</p></body></html>"
    )
    return Response(body, status=401, mimetype="text/html")


@bp.errorhandler(GrantError)
def grant_refused(exc: GrantError) -> Response:
    """A refused grant, as WooCommerce's error page."""
    return _error_page(str(exc))


def _validated(site: Site, data: dict[str, str]) -> dict[str, str]:
    for name in REQUIRED:
        if not data.get(name):
            raise GrantError(f"Missing parameter {name}")
    if data["scope"] not in SCOPES:
        raise GrantError(f"Invalid scope {data['scope']}")
    for name in ("return_url", "callback_url"):
        parts = urlsplit(data[name])
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise GrantError(f"The {data[name]} is not a valid URL")
    if not data["callback_url"].lower().startswith("https://") and not site.config.allow_http_callback:
        raise GrantError("The callback_url needs to be over SSL")
    return data


def _with_query(url: str, extra: dict[str, Any]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(extra)}"


@bp.get("/<site>/wc-auth/v1/authorize")
def authorize(site: str) -> Response:
    """The approval page with "Approve" and "Deny" links."""
    s = get_site(site)
    data = _validated(s, query_args())
    nonce = secrets.token_hex(10)
    with s.lock:
        s.grant_nonces.add(nonce)
    approve = _with_query(f"{s.home_url}/wc-auth/v1/access_granted", {**data, "wc_auth_nonce": nonce})
    deny = _with_query(data["return_url"], {"success": 0, "user_id": data["user_id"]})
    scope = {"read": "Read", "write": "Write", "read_write": "Read/Write"}[data["scope"]]
    page = (
        "<!DOCTYPE html><html><head><title>Application authentication request</title></head><body>"
        f"<h1>{html.escape(data['app_name'])} would like to connect to your store</h1>"
        f"<p>This will give &quot;{html.escape(data['app_name'])}&quot; <strong>{scope}</strong> access.</p>"
        f"<p>Logged in as {html.escape(s.users[1].login)}</p>"
        f'<a class="button-primary wc-auth-approve" id="approve" href="{html.escape(approve)}">Approve</a> '
        f'<a class="button wc-auth-deny" id="deny" href="{html.escape(deny)}">Deny</a>'
        "</body></html>"
    )
    return Response(page, mimetype="text/html")


@bp.get("/<site>/wc-auth/v1/access_granted")
def access_granted(site: str) -> Response:
    """Create the key, post it to ``callback_url`` and send the merchant back to ``return_url``."""
    s = get_site(site)
    data = _validated(s, query_args())
    nonce = data.get("wc_auth_nonce", "")
    with s.lock:
        if nonce not in s.grant_nonces:
            raise GrantError("Invalid nonce verification")
        s.grant_nonces.discard(nonce)
    description = f"{data['app_name'][:170]} - API ({now_utc():%Y-%m-%d %H:%M:%S})"
    key = s.create_key(1, description, SCOPES[data["scope"]])
    consumer_data = {
        "key_id": key.key_id,
        "user_id": data["user_id"],
        "consumer_key": key.consumer_key,
        "consumer_secret": key.consumer_secret,
        "key_permissions": key.permissions,
    }
    try:
        _post_keys(s, data["callback_url"], consumer_data)
    except GrantError:
        s.revoke_key(key.key_id)
        raise
    return redirect(_with_query(data["return_url"], {"success": 1, "user_id": data["user_id"]}), code=302)


def _post_keys(s: Site, url: str, consumer_data: dict[str, Any]) -> None:
    config = sandbox().config
    if not validate_url(url, s.home_url, config.allow_private_callbacks):
        raise GrantError("A valid URL was not provided.")
    try:
        resp = requests.post(
            url,
            data=json.dumps(consumer_data, separators=(",", ":")).replace("/", "\\/"),
            headers={"Content-Type": "application/json;charset=UTF-8", "User-Agent": user_agent(config)},
            timeout=config.callback_timeout,
        )
    except requests.RequestException as exc:
        raise GrantError(f"{type(exc).__name__}: {exc}") from None
    with s.lock:
        s.grants.append({"callback_url": url, "status": resp.status_code, "key_id": consumer_data["key_id"]})
    if resp.status_code != 200:
        raise GrantError(
            "An error occurred in the request and at the time were unable to send the consumer data"
        )
