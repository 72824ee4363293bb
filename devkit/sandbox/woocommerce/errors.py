"""WordPress REST errors: ``{"code", "message", "data": {"status", ...}}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, jsonify


class WPError(Exception):
    """An error answer in the shape WordPress and WooCommerce use (``WP_Error``)."""

    def __init__(self, code: str, message: str, status: int = 400, **data: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.data = data

    def as_dict(self) -> dict[str, Any]:
        """The JSON body."""
        return {"code": self.code, "message": self.message, "data": {"status": self.status, **self.data}}

    def response(self) -> Response:
        """A Flask response carrying this error."""
        resp = jsonify(self.as_dict())
        resp.status_code = self.status
        return resp


def error_response(status: int, code: str, message: str) -> Response:
    """Build an error answer (signature used by the fault injector)."""
    return WPError(code, message, status).response()


def invalid_params(problems: Mapping[str, str]) -> WPError:
    """WordPress's ``rest_invalid_param`` for argument validation failures."""
    names = ", ".join(problems)
    return WPError(
        "rest_invalid_param",
        f"Invalid parameter(s): {names}",
        400,
        params=dict(problems),
        details={k: {"code": "rest_invalid_param", "message": v, "data": None} for k, v in problems.items()},
    )


def no_route() -> WPError:
    """The answer for an unknown REST route."""
    return WPError("rest_no_route", "No route was found matching the URL and request method.", 404)


def invalid_id(post_type: str) -> WPError:
    """WooCommerce's 404 for an unknown object id."""
    return WPError(f"woocommerce_rest_{post_type}_invalid_id", "Invalid ID.", 404)


def cannot(action: str, authenticated: bool) -> WPError:
    """WooCommerce's permission error; 401 when nobody is logged in, 403 otherwise."""
    messages = {
        "view": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
        "read": ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
        "create": ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
        "edit": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
        "delete": ("woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource."),
        "batch": (
            "woocommerce_rest_cannot_batch",
            "Sorry, you are not allowed to batch manipulate this resource.",
        ),
    }
    code, message = messages[action]
    return WPError(code, message, 403 if authenticated else 401)
