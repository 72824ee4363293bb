"""HTTP for the WooCommerce adapter: what WordPress answers mean, as connector errors, and their retries.

``wc/v3`` goes through the ``woocommerce`` package's API class (OAuth 1.0a query signatures over
http, HTTP Basic over https); ``wp/v2`` and file downloads through a requests session with the
Application Password.  Resets, timeouts, 429 and 5xx are :class:`TransientError` and retried with
exponential backoff and jitter (honouring ``Retry-After``, see :mod:`adapters.http_retry`); everything
else is permanent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from adapters import http_retry
from adapters.http_retry import RetryPolicy, retry_after_seconds
from connector.errors import AuthError, ConnectorError, NotFound, PlatformError, RateLimited, TransientError

__all__ = ["RetryPolicy", "checked", "error_for", "json_of", "transport_error"]

UNSTEADY_HINT = "the network or the store is unsteady"

#: WordPress answers 500 for uploads it refuses by type: permanent, not a server fault.
PERMANENT_500_CODES = frozenset({"rest_upload_sideload_error", "rest_upload_unknown_error"})


def _wp_error(response: requests.Response) -> tuple[str, str]:
    """WordPress's ``code`` and ``message`` from a JSON error body.

    Anything else is described, never quoted: what a host answered must not reach an error
    message (an install link naming some other server would otherwise read it back).
    """
    try:
        body = response.json()
    except ValueError:
        return "", f"not a WordPress answer ({response.headers.get('Content-Type', 'no content type')})"
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        return body["code"][:100], str(body.get("message") or "")[:200]
    return "", "not a WordPress error"


def error_for(response: requests.Response, what: str) -> ConnectorError | None:
    """The connector error an answer means (None for 2xx)."""
    status = response.status_code
    if status < 300:
        return None
    code, message = _wp_error(response)
    detail = f"{what}: HTTP {status} {code}: {message}".rstrip(": ")
    if status in (401, 403):
        return AuthError(
            detail,
            hint="grant the connector read/write access again (WooCommerce → Settings → Advanced → REST API)"
            if code.startswith("woocommerce_rest")
            else "check the WordPress user and Application Password the connector uses",
            status=status,
            code="auth",
        )
    if status == 404:
        return NotFound(
            detail, hint="the item was deleted on the store, or the site URL is wrong", status=404
        )
    if status == 429:
        return RateLimited(
            detail, retry_after=retry_after_seconds(response), hint="the store asked to slow down"
        )
    if status >= 500 and code not in PERMANENT_500_CODES:
        return TransientError(
            detail, retry_after=retry_after_seconds(response), hint="the store is unsteady; retried later"
        )
    return PlatformError(detail, hint="the store refused the request as sent", status=status)


def transport_error(exc: requests.RequestException, what: str) -> TransientError:
    """A reset, timeout or broken stream, as a retryable error."""
    return http_retry.transport_error(exc, what, UNSTEADY_HINT)


def checked(call: Callable[[], requests.Response], what: str) -> requests.Response:
    """Run one request; network failures and non-2xx answers raise connector errors."""
    return http_retry.checked(call, what, error_for, UNSTEADY_HINT, platform="woocommerce")


def json_of(response: requests.Response, what: str) -> Any:
    """The JSON body of a 2xx answer; PlatformError when the site answered something else."""
    try:
        return response.json()
    except ValueError:
        raise PlatformError(
            f"{what}: the answer is not JSON ({response.headers.get('Content-Type', 'no content type')})",
            hint="check the store URL and that WordPress permalinks are not 'Plain'",
            status=response.status_code,
        ) from None
