"""``wp/v2/users/me/application-passwords``: list, create, introspect and revoke the caller's passwords."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from sandbox.woocommerce.auth import Principal
from sandbox.woocommerce.context import caller, get_site
from sandbox.woocommerce.errors import WPError
from sandbox.woocommerce.models import AppPassword
from sandbox.woocommerce.site import Site

bp = Blueprint("wp_app_passwords", __name__)
ROUTE = "/<site>/wp-json/wp/v2/users/me/application-passwords"


def _item(p: AppPassword) -> dict[str, Any]:
    return {
        "uuid": p.uuid,
        "app_id": p.app_id,
        "name": p.name,
        "created": p.created.strftime("%Y-%m-%dT%H:%M:%S"),
        "last_used": p.last_used.strftime("%Y-%m-%dT%H:%M:%S") if p.last_used else None,
        "last_ip": "127.0.0.1" if p.last_used else None,
    }


def _me(s: Site) -> Principal:
    who = caller(s, woocommerce_route=False)
    if who is None:
        raise WPError("rest_not_logged_in", "You are not currently logged in.", 401)
    return who


def _mine(s: Site, who: Principal) -> list[AppPassword]:
    return [p for p in s.app_passwords if p.user_id == who.user.id]


@bp.get(ROUTE)
def list_passwords(site: str) -> Response:
    """The caller's Application Passwords (never the passwords themselves)."""
    s = get_site(site)
    who = _me(s)
    with s.lock:
        return jsonify([_item(p) for p in _mine(s, who)])


@bp.post(ROUTE)
def create_password(site: str) -> tuple[Response, int]:
    """A new Application Password {name, app_id}; the only answer that shows the password."""
    s = get_site(site)
    who = _me(s)
    data = request.get_json(silent=True) or request.form.to_dict()
    raw = s.add_app_password(who.user.id, str(data.get("name") or ""), str(data.get("app_id") or ""))
    with s.lock:
        item = next(p for p in _mine(s, who) if p.password == raw)
        return jsonify({**_item(item), "password": " ".join(raw[i : i + 4] for i in range(0, 24, 4))}), 201


@bp.get(ROUTE + "/introspect")
def introspect(site: str) -> Response:
    """The Application Password this request authenticated with."""
    s = get_site(site)
    who = _me(s)
    with s.lock:
        item = next((p for p in _mine(s, who) if p.uuid == who.app_password), None)
        if item is None:
            raise WPError("application_password_not_found", "Application password not found.", 404)
        return jsonify(_item(item))


@bp.delete(ROUTE + "/<uuid>")
def revoke(site: str, uuid: str) -> Response:
    """Revoke one of the caller's Application Passwords."""
    s = get_site(site)
    who = _me(s)
    with s.lock:
        item = next((p for p in _mine(s, who) if p.uuid == uuid), None)
        if item is None:
            raise WPError("application_password_not_found", "Application password not found.", 404)
        s.app_passwords.remove(item)
        return jsonify({"deleted": True, "previous": _item(item)})
