"""``wp-admin/authorize-application.php``: WordPress's page for handing an application a password.

``GET /<site>/wp-admin/authorize-application.php?app_name&app_id&success_url&reject_url`` shows the
approval form (the merchant is taken to be logged in as the administrator).  Submitting it with
"approve" creates an Application Password for that user and redirects to ``success_url`` with
``site_url``, ``user_login`` and ``password`` added to its query; "reject" redirects to
``reject_url`` (by default ``success_url`` with ``success=false``).  Without a ``success_url`` the
new password is shown on the page.

Validation is WordPress 6.1.4's (the 2023 security release backported
``wp_is_authorize_application_redirect_url_valid``): redirect URLs need a scheme and a host, never
``javascript:``/``data:``, and ``http`` only on a site whose environment type is "local" (6.1.0 to
6.1.3 refused ``http`` everywhere); ``app_id`` must be a lower-case UUID.
A bad request ends in ``wp_die`` (500), unavailable passwords in a 501, a stale form nonce in a 403.
"""

from __future__ import annotations

import html
import re
import secrets
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, redirect, request
from werkzeug.wrappers import Response

from sandbox.woocommerce.context import get_site
from sandbox.woocommerce.errors import WPError
from sandbox.woocommerce.site import Site

bp = Blueprint("wp_authorize_application", __name__)
PAGE = "/<site>/wp-admin/authorize-application.php"
ACTION = "authorize_application_password"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")  # wp_is_uuid()
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
BAD_PROTOCOLS = ("javascript", "data")


class Denied(Exception):
    """A ``wp_die`` page: message, title and HTTP status."""

    def __init__(self, message: str, title: str = "Cannot Authorize Application", status: int = 500) -> None:
        super().__init__(message)
        self.message, self.title, self.status = message, title, status

    def page(self) -> Response:
        """The error page WordPress renders."""
        body = (
            f"<!DOCTYPE html><html><head><title>{html.escape(self.title)}</title></head>"
            '<body id="error-page"><div class="wp-die-message">'
            f"{html.escape(self.message)}</div></body></html>"
        )
        return Response(body, status=self.status, mimetype="text/html")


def add_query_arg(url: str, **params: str) -> str:
    """WordPress's ``add_query_arg`` for new names: appended to the query, before any fragment."""
    base, hash_mark, fragment = url.partition("#")
    joined = f"{base}{'&' if '?' in base else '?'}{urlencode(params)}"
    return joined + (hash_mark + fragment if hash_mark else "")


def redirect_url_problem(url: str, local: bool) -> str | None:
    """``wp_is_authorize_application_redirect_url_valid``: what is wrong with a redirect URL, or None."""
    if not url:
        return None
    if not _SCHEME.match(url):
        return "Invalid URL format."
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname or parts.scheme.lower() in BAD_PROTOCOLS:
        return "Invalid URL format."
    if parts.scheme == "http" and not local:
        return "The URL must be served over a secure connection."
    return None


def _request_fields() -> dict[str, str]:
    """``$_REQUEST`` (query, then form fields over it) for the four parameters, ``reject_url`` defaulted."""
    fields = {name: (request.values.get(name) or "") for name in ("app_name", "app_id", "success_url")}
    reject = request.values.get("reject_url") or ""
    if not reject and fields["success_url"]:
        reject = add_query_arg(fields["success_url"], success="false")
    fields["reject_url"] = reject
    return fields


def _validate(site: Site, fields: dict[str, str]) -> None:
    local = site.config.environment_type == "local"
    problems = [
        p
        for p in (
            redirect_url_problem(fields["success_url"], local),
            redirect_url_problem(fields["reject_url"], local),
        )
        if p
    ]
    if fields["app_id"] and not _UUID.match(fields["app_id"]):
        problems.append("The application ID must be a UUID.")
    if problems:
        raise Denied(" ".join(["The Authorize Application request is not allowed.", *problems]))
    if not site.app_passwords_available(request.scheme == "https"):
        raise Denied("Application passwords are not available.", status=501)


def _form(site: Site, fields: dict[str, str], error: str | None = None) -> Response:
    nonce = secrets.token_hex(5)
    with site.lock:
        site.admin_nonces.add(nonce)
    user = site.users[1]
    esc = {k: html.escape(v, quote=True) for k, v in fields.items()}
    notice = f'<div class="notice notice-error"><p>{html.escape(error)}</p></div>' if error else ""
    reject = fields["reject_url"] or f"{site.home_url}/wp-admin/"
    where = (
        add_query_arg(
            fields["success_url"], site_url=site.home_url, user_login=user.login, password="[------]"
        )
        if fields["success_url"]
        else "a page showing the new password"
    )
    page = (
        "<!DOCTYPE html><html><head><title>Authorize Application &lsaquo; WordPress</title></head>"
        '<body class="wp-admin"><div class="wrap"><h1>Authorize Application</h1>'
        f'{notice}<div class="card auth-app-card"><h2 class="title">An application would like to connect '
        "to your account.</h2>"
        "<p>Would you like to give the application identifying itself as "
        f"<strong>{esc['app_name'] or 'an unnamed application'}</strong> access to your account? "
        "You should only do this if you trust the application in question.</p>"
        f"<p>Logged in as {html.escape(user.login)}</p>"
        f'<form action="{html.escape(site.home_url)}/wp-admin/authorize-application.php" method="post">'
        f'<input type="hidden" id="_wpnonce" name="_wpnonce" value="{nonce}">'
        f'<input type="hidden" name="action" value="{ACTION}">'
        f'<input type="hidden" name="app_id" value="{esc["app_id"]}">'
        f'<input type="hidden" name="success_url" value="{esc["success_url"]}">'
        f'<input type="hidden" name="reject_url" value="{esc["reject_url"]}">'
        '<label for="app_name">New Application Password Name</label>'
        f'<input type="text" id="app_name" name="app_name" value="{esc["app_name"]}" required>'
        '<input type="submit" name="approve" id="approve" class="button button-primary" '
        'value="Yes, I approve of this connection">'
        f"<p>You will be sent to <kbd>{html.escape(where)}</kbd></p>"
        '<input type="submit" name="reject" id="reject" class="button" '
        'value="No, I do not approve of this connection">'
        f"<p>You will be sent to <kbd>{html.escape(reject)}</kbd></p>"
        "</form></div></div></body></html>"
    )
    return Response(page, mimetype="text/html")


def _password_page(name: str, password: str) -> Response:
    chunked = " ".join(password[i : i + 4] for i in range(0, len(password), 4))
    page = (
        "<!DOCTYPE html><html><head><title>Authorize Application &lsaquo; WordPress</title></head><body>"
        f"<p>Your new password for {html.escape(name)} is:</p>"
        f'<p><input type="text" class="code" readonly="readonly" value="{chunked}"></p>'
        "<p>Be sure to save this in a safe location. You will not be able to retrieve it.</p></body></html>"
    )
    return Response(page, mimetype="text/html")


def _decide(site: Site, fields: dict[str, str]) -> Response:
    """The form was submitted: reject, or create the password and hand it over."""
    if request.form.get("_wpnonce", "") not in site.admin_nonces:
        raise Denied("The link you followed has expired.", "Something went wrong.", 403)
    if "reject" in request.form:
        return redirect(fields["reject_url"] or f"{site.home_url}/wp-admin/", code=302)
    if "approve" not in request.form:
        return _form(site, fields)
    user = site.users[1]
    try:
        password = site.add_app_password(user.id, fields["app_name"], fields["app_id"])
    except WPError as exc:
        return _form(site, fields, exc.message)
    if not fields["success_url"]:
        return _password_page(fields["app_name"], password)
    back = add_query_arg(
        fields["success_url"], site_url=site.home_url, user_login=user.login, password=password
    )
    return redirect(back, code=302)


@bp.route(PAGE, methods=["GET", "POST"])
def authorize_application(site: str) -> Response:
    """The approval form, or (POST) the merchant's answer to it."""
    s = get_site(site)
    fields = _request_fields()
    try:
        _validate(s, fields)
        if request.method == "POST" and request.form.get("action") == ACTION:
            return _decide(s, fields)
    except Denied as exc:
        return exc.page()
    return _form(s, fields)
