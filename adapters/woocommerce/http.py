"""HTTP for the WooCommerce adapter: one place that maps answers to connector errors and retries.

``wc/v3`` goes through the ``woocommerce`` package's API class (OAuth 1.0a query signatures over
http, HTTP Basic over https); ``wp/v2`` and file downloads through a requests session with the
Application Password.  Resets, timeouts, 429 and 5xx are :class:`TransientError` and retried with
exponential backoff and jitter (honouring ``Retry-After``); everything else is permanent.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests

from connector.errors import (
    AuthError,
    ConnectorError,
    NotFound,
    PlatformError,
    RateLimited,
    TransientError,
)

T = TypeVar("T")

#: WordPress answers 500 for uploads it refuses by type: permanent, not a server fault.
PERMANENT_500_CODES = frozenset({"rest_upload_sideload_error", "rest_upload_unknown_error"})


@dataclass
class RetryPolicy:
    """How often and how long to wait between attempts of a transient failure."""

    attempts: int = 5
    base: float = 0.5
    cap: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    rng: Callable[[], float] = field(default=random.random)

    def backoff(self, attempt: int) -> float:
        """Exponential delay for a zero-based attempt, with jitter in [50 %, 100 %]."""
        return min(self.cap, self.base * (2**attempt)) * (0.5 + 0.5 * self.rng())

    def run(self, action: Callable[[], T], before_retry: Callable[[], T | None] | None = None) -> T:
        """Call ``action`` until it returns, retrying TransientError up to ``attempts`` times in all.

        ``before_retry`` runs before each retry; when it returns a value, that is the result
        (used to find an upload that did arrive although its answer was lost).
        """
        for attempt in range(max(1, self.attempts)):
            try:
                return action()
            except TransientError as exc:
                if attempt >= self.attempts - 1:
                    raise
                wait = exc.retry_after if exc.retry_after is not None else self.backoff(attempt)
                self.sleep(min(wait, self.cap))
                if before_retry is not None:
                    found = before_retry()
                    if found is not None:
                        return found
        raise AssertionError("unreachable")  # pragma: no cover


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _wp_error(response: requests.Response) -> tuple[str, str]:
    """WordPress's ``code`` and ``message`` from an error body (or the start of a non-JSON body)."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:200].strip()
    if isinstance(body, dict):
        return str(body.get("code") or ""), str(body.get("message") or "")
    return "", str(body)[:200]


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
        return RateLimited(detail, retry_after=_retry_after(response), hint="the store asked to slow down")
    if status >= 500 and code not in PERMANENT_500_CODES:
        return TransientError(
            detail, retry_after=_retry_after(response), hint="the store is unsteady; retried later"
        )
    return PlatformError(detail, hint="the store refused the request as sent", status=status)


def transport_error(exc: requests.RequestException, what: str) -> TransientError:
    """A reset, timeout or broken stream, as a retryable error."""
    kind = "timed out" if isinstance(exc, requests.Timeout) else "failed"
    return TransientError(f"{what} {kind}: {type(exc).__name__}", hint="the network or the store is unsteady")


def checked(call: Callable[[], requests.Response], what: str) -> requests.Response:
    """Run one request; network failures and non-2xx answers raise connector errors."""
    try:
        response = call()
    except requests.RequestException as exc:
        raise transport_error(exc, what) from exc
    error = error_for(response, what)
    if error is not None:
        raise error
    return response


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
