"""WordPress core routes besides media: the REST index (discovery) and ``wp/v2/users/me``.

The index is trimmed to what clients read: site description, namespaces and ``authentication``,
which names the Application Password authorization page when the site offers them (over https,
or on a "local" site) and is an empty list (PHP's ``array()``) when it does not.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from sandbox.woocommerce.context import caller, get_site
from sandbox.woocommerce.errors import WPError
from sandbox.woocommerce.models import User

bp = Blueprint("wp_core", __name__)

NAMESPACES = ["oembed/1.0", "wc/v3", "wc-auth/v1", "wp/v2", "wp-site-health/v1"]
#: a few of each role's capabilities (WordPress lists them all); enough to tell who may upload
ROLE_CAPABILITIES: dict[str, dict[str, bool]] = {
    "administrator": {
        "switch_themes": True,
        "manage_options": True,
        "upload_files": True,
        "edit_posts": True,
        "edit_others_posts": True,
        "edit_products": True,
        "manage_woocommerce": True,
        "read": True,
    },
    "shop_manager": {"upload_files": True, "edit_posts": True, "edit_products": True, "read": True},
    "customer": {"read": True},
}


@bp.get("/<site>/wp-json/")
def index(site: str) -> Response:
    """``GET /wp-json/``: what the site is and how to authenticate."""
    s = get_site(site)
    authentication: dict[str, Any] | list[Any] = []
    if s.app_passwords_available(request.scheme == "https"):
        authentication = {
            "application-passwords": {
                "endpoints": {"authorization": f"{s.home_url}/wp-admin/authorize-application.php"}
            }
        }
    offset = s.config.utc_offset_minutes / 60
    return jsonify(
        {
            "name": s.name,
            "description": "Just another WordPress site",
            "url": s.home_url,
            "home": s.home_url,
            "gmt_offset": int(offset) if offset.is_integer() else offset,
            "timezone_string": "",
            "namespaces": NAMESPACES,
            "authentication": authentication,
            "_links": {"help": [{"href": "https://developer.wordpress.org/rest-api/"}]},
        }
    )


def user_json(s_url: str, user: User, context: str) -> dict[str, Any]:
    """``WP_REST_Users_Controller::prepare_item_for_response`` for the view or edit context."""
    out: dict[str, Any] = {
        "id": user.id,
        "name": user.login,
        "url": "",
        "description": "",
        "link": f"{s_url}/author/{user.login}/",
        "slug": user.login,
        "avatar_urls": {},
        "meta": [],
    }
    if context == "edit":
        capabilities: dict[str, bool] = {}
        for role in user.roles:
            capabilities.update(ROLE_CAPABILITIES.get(role, {}))
            capabilities[role] = True
        out.update(
            username=user.login,
            email=user.email,
            first_name="",
            last_name="",
            nickname=user.login,
            locale="en_US",
            roles=list(user.roles),
            registered_date="2024-01-01T00:00:00+00:00",
            capabilities=capabilities,
            extra_capabilities={role: True for role in user.roles},
        )
    return out


@bp.get("/<site>/wp-json/wp/v2/users/me")
def users_me(site: str) -> Response:
    """The user the request authenticates as (an Application Password), 401 when anonymous."""
    s = get_site(site)
    who = caller(s, woocommerce_route=False)
    if who is None:
        raise WPError("rest_not_logged_in", "You are not currently logged in.", 401)
    context = request.args.get("context", "view")
    if context not in ("view", "embed", "edit"):
        raise WPError(
            "rest_invalid_param",
            "Invalid parameter(s): context",
            400,
            params={"context": "context is not one of view, embed, and edit."},
        )
    return jsonify(user_json(s.home_url, who.user, context))
