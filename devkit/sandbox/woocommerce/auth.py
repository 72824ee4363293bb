"""Who is calling: WooCommerce's REST authentication and WordPress Application Passwords.

Over plain http WooCommerce accepts consumer keys only as OAuth 1.0a one-legged signatures
(``WC_REST_Authentication::perform_oauth_authentication``); HTTP Basic with a key is ignored,
so the request stays anonymous and the endpoint answers ``woocommerce_rest_cannot_view``.
WordPress core accepts an Application Password as HTTP Basic on every namespace (the site is
treated as local, so they are available over http).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from flask import Request

from sandbox.woocommerce.errors import WPError
from sandbox.woocommerce.models import ApiKey, User, now_utc
from sandbox.woocommerce.site import Site

OAUTH_PARAMS = (
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
)
NONCE_WINDOW = 15 * 60


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    user: User
    key: ApiKey | None = None  # set when authenticated with a consumer key
    method: str = "oauth"  # "oauth" | "basic" | "application_password"
    app_password: str | None = None  # uuid of the Application Password the request authenticated with


def _auth_error(message: str, code: str = "woocommerce_rest_authentication_error") -> WPError:
    return WPError(code, message, 401)


def rawurlencode(value: str) -> str:
    """PHP's ``rawurlencode`` (RFC 3986)."""
    return quote(value, safe="-_.~")


def request_params(req: Request) -> dict[str, str]:
    """``array_merge($_GET, $_POST)``: query then form fields; a repeated name keeps its last value."""
    params = dict(parse_qsl(req.query_string.decode("latin-1"), keep_blank_values=True))
    if req.mimetype == "application/x-www-form-urlencoded":
        params.update(dict(parse_qsl(req.get_data(as_text=True), keep_blank_values=True)))
    header = req.headers.get("Authorization", "")
    if header[:6].lower() == "oauth ":
        for name, value in re.findall(r'(\w+)="([^"]*)"', header):
            params[name] = unquote(value)
    return params


def signature_base(method: str, base_uri: str, params: dict[str, str]) -> str:
    """The string WooCommerce signs (``check_oauth_signature``)."""
    pairs = sorted((k, v) for k, v in params.items() if k != "oauth_signature")
    joined = "%26".join(rawurlencode(f"{rawurlencode(k)}={rawurlencode(v)}") for k, v in pairs)
    return f"{method.upper()}&{rawurlencode(base_uri)}&{joined}"


def sign(
    method: str, base_uri: str, params: dict[str, str], secret: str, algorithm: str = "HMAC-SHA256"
) -> str:
    """A signature WooCommerce accepts for these parameters."""
    digest = hashlib.sha1 if algorithm == "HMAC-SHA1" else hashlib.sha256
    base = signature_base(method, base_uri, params)
    return base64.b64encode(hmac.new(f"{secret}&".encode(), base.encode(), digest).digest()).decode()


def _oauth(site: Site, req: Request, params: dict[str, str]) -> Principal:
    missing = [p for p in OAUTH_PARAMS if not params.get(p)]
    if missing:
        raise _auth_error(
            f"Missing OAuth parameter {', '.join(missing)}",
            "woocommerce_rest_authentication_missing_parameter",
        )
    key = site.keys.get(params["oauth_consumer_key"])
    if key is None:
        raise _auth_error("Consumer key is invalid.")
    method = params["oauth_signature_method"]
    if method not in ("HMAC-SHA1", "HMAC-SHA256"):
        raise _auth_error("Invalid signature - signature method is invalid.")
    home = urlsplit(site.home_url)  # get_home_url() + the raw request path, as WooCommerce builds it
    base_uri = f"{home.scheme}://{home.netloc}{urlsplit(req.environ.get('REQUEST_URI', req.path)).path}"
    expected = sign(req.method, base_uri, params, key.consumer_secret, method)
    provided = unquote(params["oauth_signature"].replace(" ", "+"))
    if not hmac.compare_digest(expected, provided):
        raise _auth_error("Invalid signature - provided signature does not match.")
    try:
        timestamp = int(params["oauth_timestamp"])
    except ValueError:
        raise _auth_error("Invalid timestamp.") from None
    now = int(time.time())
    if abs(timestamp - now) > NONCE_WINDOW:
        raise _auth_error("Invalid timestamp.")
    nonce = params["oauth_nonce"]
    with site.lock:
        if nonce in key.nonces:
            raise _auth_error("Invalid nonce - nonce has already been used.")
        key.nonces = {n: t for n, t in key.nonces.items() if t >= now - NONCE_WINDOW}
        key.nonces[nonce] = timestamp
    _check_key_permissions(key, req.method)
    key.last_access = now_utc()
    return Principal(site.users[key.user_id], key, "oauth")


def _check_key_permissions(key: ApiKey, method: str) -> None:
    if method in ("GET", "HEAD") and key.permissions not in ("read", "read_write"):
        raise _auth_error("The API key provided does not have read permissions.")
    if method in ("POST", "PUT", "PATCH", "DELETE") and key.permissions not in ("write", "read_write"):
        raise _auth_error("The API key provided does not have write permissions.")


def _basic(req: Request) -> tuple[str, str] | None:
    header = req.headers.get("Authorization", "")
    if header[:6].lower() != "basic ":
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


def _application_password(site: Site, login: str, password: str) -> Principal | None:
    user = site.user_by_login(login)
    if user is None:
        return None  # not a user (e.g. a consumer key): stays anonymous
    given = re.sub(r"[^a-zA-Z0-9]", "", password)
    for item in site.app_passwords:
        if item.user_id == user.id and hmac.compare_digest(item.password, given):
            item.last_used = now_utc()
            return Principal(user, None, "application_password", item.uuid)
    raise WPError("incorrect_password", "The provided password is an invalid application password.", 401)


def authenticate(site: Site, req: Request, woocommerce_route: bool) -> Principal | None:
    """The caller of ``req``, None when anonymous; WPError when an attempt to authenticate failed."""
    if woocommerce_route:
        params = request_params(req)
        if any(params.get(p) for p in OAUTH_PARAMS):
            return _oauth(site, req, params)
    basic = _basic(req)
    if basic is None:
        return None
    if woocommerce_route and req.scheme == "https":
        key = site.keys.get(basic[0])
        if key is not None and hmac.compare_digest(key.consumer_secret, basic[1]):
            _check_key_permissions(key, req.method)
            return Principal(site.users[key.user_id], key, "basic")
    return _application_password(site, *basic)
