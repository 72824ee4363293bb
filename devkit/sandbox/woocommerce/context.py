"""Per-request plumbing shared by the route modules: the site, the caller, the body."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from flask import current_app, request

from sandbox.woocommerce.auth import Principal, authenticate
from sandbox.woocommerce.errors import WPError, cannot, no_route
from sandbox.woocommerce.params import Args
from sandbox.woocommerce.site import Site

if TYPE_CHECKING:
    from sandbox.woocommerce.app import WooSandbox


def sandbox() -> WooSandbox:
    """The sandbox behind the current app."""
    found: WooSandbox = current_app.extensions["woo_sandbox"]
    return found


def get_site(name: str) -> Site:
    """The site under ``/<name>``; a REST 404 when there is none."""
    site = sandbox().sites.get(name)
    if site is None:
        raise no_route()
    return site


def caller(site: Site, woocommerce_route: bool = True) -> Principal | None:
    """Authenticate the current request (auth failures raise before routing, as in WordPress)."""
    return authenticate(site, request, woocommerce_route)


def require(principal: Principal | None, action: str) -> Principal:
    """WooCommerce's permission callbacks: the administrator may do everything, nobody else anything."""
    if principal is None or "administrator" not in principal.user.roles:
        raise cannot(action, principal is not None)
    return principal


def query_args() -> dict[str, str]:
    """Query arguments, last value of a repeated name winning (PHP's ``$_GET``)."""
    return {k: v[-1] for k, v in request.args.lists()}


def body_params() -> dict[str, Any]:
    """JSON body (or form fields) merged over the query, as ``WP_REST_Request`` orders them."""
    params: dict[str, Any] = dict(query_args())
    if request.form:
        params.update({k: v[-1] for k, v in request.form.lists()})
    if request.is_json or (request.mimetype or "").endswith("+json"):
        raw = request.get_data(as_text=True)
        if raw.strip():
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise WPError(
                    "rest_invalid_json",
                    "Invalid JSON body passed.",
                    400,
                    json_error_code=4,
                    json_error_message=f"Syntax error ({exc.msg})",
                ) from None
            if isinstance(data, dict):
                params.update(data)
    return params


def write_request(site: str, action: str) -> tuple[Site, dict[str, Any]]:
    """A ``wc/v3`` write: the site and the body params, once the caller may ``action`` there.

    In WordPress's order: authentication, then the body (invalid JSON is a 400), then permission.
    """
    s = get_site(site)
    who = caller(s)
    data = body_params()
    require(who, action)
    return s, data


def force_param() -> bool:
    """The ``force`` query flag of a DELETE (a 400 when it is not a boolean)."""
    args = Args(query_args())
    force = args.boolean("force")
    args.check()
    return force


def delete_request(site: str) -> tuple[Site, bool]:
    """A ``wc/v3`` DELETE: the site and its ``force`` flag, once the caller may delete there."""
    s = get_site(site)
    who = caller(s)
    force = force_param()
    require(who, "delete")
    return s, force
