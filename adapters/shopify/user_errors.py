"""Mutation ``userErrors`` turned into connector errors (not found, worth a retry, or refused)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from connector.errors import ConnectorError, NotFound, PlatformError, TransientError

NOT_FOUND_CODES = frozenset(
    {
        "NOT_FOUND",
        "FILE_DOES_NOT_EXIST",
        "PRODUCT_DOES_NOT_EXIST",
        "MEDIA_DOES_NOT_EXIST",
        "MEDIA_DOES_NOT_EXIST_ON_PRODUCT",
        "REFERENCE_TARGET_DOES_NOT_EXIST",
        "PRODUCT_VARIANT_DOES_NOT_EXIST_ON_PRODUCT",
    }
)
TRANSIENT_CODES = frozenset(
    {
        "FILE_LOCKED",
        "NON_READY_STATE",
        "NON_READY_MEDIA",
        "VIDEO_THROTTLE_EXCEEDED",
        "MODEL3D_THROTTLE_EXCEEDED",
        "OPERATION_IN_PROGRESS",
    }
)


def error_codes(errors: Iterable[Mapping[str, Any]]) -> set[str]:
    """The ``code`` of each user error that has one."""
    return {str(e["code"]) for e in errors if e.get("code")}


def user_error(errors: list[Mapping[str, Any]], action: str) -> ConnectorError | None:
    """The error a non-empty ``userErrors`` list means (None when it is empty)."""
    if not errors:
        return None
    codes = error_codes(errors)
    text = "; ".join(
        f"{'.'.join(e.get('field') or []) or 'input'}: {e.get('message', '')}"
        + (f" [{e['code']}]" if e.get("code") else "")
        for e in errors
    )
    message = f"Shopify refused {action}: {text}"
    if codes & NOT_FOUND_CODES or (not codes and "does not exist" in text.lower()):
        return NotFound(message, hint="re-sync the product; it or its media changed on the store")
    if codes & TRANSIENT_CODES:
        return TransientError(
            message, hint="the media is still being processed or is busy; try again shortly"
        )
    return PlatformError(message, hint="see the message for what Shopify wants changed")


def raise_for_user_errors(errors: list[Mapping[str, Any]] | None, action: str) -> None:
    """Raise the matching connector error when a mutation reported user errors."""
    error = user_error(list(errors or []), action)
    if error is not None:
        raise error
