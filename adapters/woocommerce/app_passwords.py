"""WordPress Application Passwords: asking the merchant for one, and checking what comes back.

WooCommerce's key grant gives consumer keys, which WordPress's own routes (``wp/v2/media``) do not
accept; uploading media needs an Application Password.  The site's REST index (``GET /wp-json/``)
names the page that hands one out under ``authentication["application-passwords"]`` — only when the
site offers them (https, or a site marked local).  The merchant approves there and WordPress
redirects to our ``success_url`` with ``site_url``, ``user_login`` and ``password`` in the query (or
to ``reject_url``).  We carry our own ``state`` in both URLs and check the password on the store
itself (``wp/v2/users/me``) before keeping it.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from adapters.woocommerce.http import RetryPolicy, checked, json_of
from adapters.woocommerce.urls import normalize_shop, with_query
from connector.errors import AuthError, ConnectorError, TransientError

NOT_OFFERED_HINT = (
    "WordPress offers Application Passwords only over https (or on a site marked local): serve the store "
    "over https and install again, or create one in Users → Profile → Application Passwords and add it "
    "to the store's credentials as app_user and app_password"
)
INSTALL_AGAIN = "install the connector again from its install link and approve both steps"


def password_name(app_name: str, now: datetime | None = None) -> str:
    """A name for the new password; dated, because WordPress 5.7 to 6.6 refuse a name already in use."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{app_name} ({moment:%Y-%m-%d %H:%M:%S} UTC)"


def authorization_endpoint(session: requests.Session, shop: str, timeout: float, retry: RetryPolicy) -> str:
    """The site's ``authorize-application.php`` as its REST index names it; AuthError when not offered."""
    what = f"reading the REST API index of {shop}"
    index: Any = json_of(
        retry.run(lambda: checked(lambda: session.get(f"{shop}/wp-json/", timeout=timeout), what)), what
    )
    auth = index.get("authentication") if isinstance(index, dict) else None
    offered = auth.get("application-passwords") if isinstance(auth, dict) else None
    endpoint = (
        (offered or {}).get("endpoints", {}).get("authorization") if isinstance(offered, dict) else None
    )
    if not endpoint:
        raise AuthError(f"{shop} does not offer WordPress Application Passwords", hint=NOT_OFFERED_HINT)
    if not isinstance(endpoint, str) or _origin(endpoint) != _origin(shop):
        raise AuthError(
            f"{shop} names an Application Password page on another site",
            hint="the merchant is sent only to the store being installed; check the WordPress address",
        )
    return endpoint


def _origin(url: str) -> tuple[str, str]:
    try:
        parts = urlsplit(url)
        return parts.scheme.lower(), parts.netloc.lower()
    except ValueError:
        return "", ""


def authorize_application_url(endpoint: str, *, name: str, app_id: str, callback: str, state: str) -> str:
    """The approval page, returning to ``callback`` with our state (and ``success=false`` on reject)."""
    query = {
        "app_name": name,
        "app_id": app_id,
        "success_url": with_query(callback, state=state),
        "reject_url": with_query(callback, state=state, success="false"),
    }
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"


def login_from_callback(shop: str, params: Mapping[str, str], state: str) -> tuple[str, str]:
    """``(user_login, password)`` from WordPress's redirect; AuthError when refused, forged or foreign."""
    if not hmac.compare_digest(str(params.get("state") or ""), state):
        raise AuthError(
            "the Application Password callback does not belong to this install (state mismatch)",
            hint=INSTALL_AGAIN,
        )
    if str(params.get("success") or "").lower() == "false":
        raise AuthError(
            f"the Application Password for {shop} was not approved; without it the connector cannot "
            "upload photos (the store keeps its REST key)",
            hint=INSTALL_AGAIN,
        )
    user, password, site = (str(params.get(k) or "") for k in ("user_login", "password", "site_url"))
    if not (user and password and site):
        raise AuthError(
            "the Application Password callback lacks site_url, user_login or password", hint=INSTALL_AGAIN
        )
    if urlsplit(normalize_shop(site)).netloc != urlsplit(shop).netloc:
        raise AuthError(
            f"the Application Password was issued by {site}, not by {shop}",
            hint="approve the connection on the store being installed; " + INSTALL_AGAIN,
        )
    return user, password


def check_password(
    session: requests.Session, shop: str, user: str, password: str, timeout: float, retry: RetryPolicy
) -> None:
    """Prove the password on the store (``wp/v2/users/me``) and that its user may upload files."""
    what = f"checking the Application Password of {user} on {shop}"

    def call() -> requests.Response:
        return session.get(
            f"{shop}/wp-json/wp/v2/users/me",
            params={"context": "edit"},
            auth=(user, password),
            timeout=timeout,
        )

    try:
        me: Any = json_of(retry.run(lambda: checked(call, what)), what)
    except TransientError:
        raise
    except ConnectorError as exc:
        raise AuthError(
            f"the Application Password handed over for {user} does not work on {shop}: {exc.message}",
            hint=INSTALL_AGAIN,
        ) from exc
    capabilities = me.get("capabilities") if isinstance(me, dict) else None
    if not isinstance(capabilities, dict) or not capabilities.get("upload_files"):
        raise AuthError(
            f"the WordPress user {user} on {shop} may not upload files",
            hint="approve the connection while logged in as an administrator or shop manager; "
            + INSTALL_AGAIN,
        )


def revoke_replaced(
    session: requests.Session,
    shop: str,
    user: str,
    password: str,
    app_id: str,
    timeout: float,
    retry: RetryPolicy,
) -> list[str]:
    """Revoke the connector's other Application Passwords of this user (earlier installs'); their uuids.

    The password in hand is found by ``introspect`` and kept; passwords of other applications are
    never touched.  A site without these routes, or unsteady now, keeps them (the install still succeeds).
    """
    base = f"{shop}/wp-json/wp/v2/users/me/application-passwords"
    what = f"revoking replaced Application Passwords of {user} on {shop}"

    def call(method: str, url: str) -> Any:
        return json_of(
            retry.run(
                lambda: checked(
                    lambda: session.request(method, url, auth=(user, password), timeout=timeout), what
                )
            ),
            what,
        )

    try:
        current = str(call("GET", f"{base}/introspect").get("uuid") or "")
        listed = call("GET", base)
        replaced = [
            str(p["uuid"])
            for p in listed
            if isinstance(p, dict) and p.get("app_id") == app_id and p.get("uuid") and p["uuid"] != current
        ]
        for uuid in replaced if current else []:
            call("DELETE", f"{base}/{uuid}")
    except ConnectorError:  # best effort: a cleanup that fails never fails the install
        return []
    return replaced if current else []
