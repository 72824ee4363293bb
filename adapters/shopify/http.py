"""HTTP plumbing shared by the GraphQL client, the OAuth calls and uploads.

Failures become :mod:`connector.errors` classes: resets, timeouts, 429 and 5xx are
:class:`TransientError` (retried here with exponential backoff and jitter, a bounded number
of times), everything else is permanent.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from adapters import http_retry
from adapters.http_retry import RetryPolicy, retry_after_seconds
from adapters.outbound import OutboundPolicy, guarded_session
from adapters.shopify.config import ShopifyConfig
from connector.errors import AuthError, ConnectorError, NotFound, PlatformError, RateLimited, TransientError

__all__ = [
    "RetryPolicy",
    "Runtime",
    "error_for_response",
    "retry_after_seconds",
    "retry_policy",
    "send",
    "transport_error",
]

UNSTEADY_HINT = "the network or Shopify is unsteady"

#: Refusals a retry will not change: status → (error class, what it means, what to do).
_REFUSALS: dict[int, tuple[type[PlatformError], str, str]] = {
    401: (AuthError, "access token rejected", "reinstall the app on the store"),
    402: (PlatformError, "shop is frozen", "the shop must settle its Shopify bill"),
    403: (AuthError, "permission denied", "reinstall the app to grant the scopes it asks for"),
    404: (NotFound, "not found", "check the shop domain and that the app is installed"),
    423: (PlatformError, "shop is locked", "contact Shopify support for the shop"),
}


@dataclass
class Runtime:
    """The outside world a client touches: HTTP session, clocks, sleeping, randomness.

    Production uses the defaults; tests pass a fake clock whose ``sleep`` advances time.
    """

    session: requests.Session | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time  # wall clock, for token expiry (epoch seconds)
    monotonic: Callable[[], float] = time.monotonic  # for throttling and polling deadlines
    rng: Callable[[], float] = random.random

    def new_session(self, policy: OutboundPolicy | None = None) -> requests.Session:
        """The given session, or a new one obeying the outbound ``policy``."""
        return self.session if self.session is not None else guarded_session(policy)


def retry_policy(config: ShopifyConfig, runtime: Runtime) -> RetryPolicy:
    """The retry policy a config asks for, sleeping and drawing jitter through ``runtime``.

    A server's ``Retry-After`` is honoured up to four times the backoff cap.
    """
    return RetryPolicy(
        attempts=config.max_attempts,
        base=config.backoff_base,
        cap=config.backoff_max,
        sleep=runtime.sleep,
        rng=runtime.rng,
        max_wait=config.backoff_max * 4,
        platform="shopify",
    )


def error_for_response(response: requests.Response, what: str) -> ConnectorError | None:
    """The connector error an HTTP answer means (None for a 2xx)."""
    status = response.status_code
    if status < 300:
        return None
    detail = f"{what}: HTTP {status}"
    refusal = _REFUSALS.get(status)
    if refusal is not None:
        error_class, meaning, hint = refusal
        return error_class(f"{detail} ({meaning})", hint=hint, status=status)
    if status == 429:
        return RateLimited(f"{detail} (too many requests)", retry_after=retry_after_seconds(response))
    if status >= 500:
        return TransientError(f"{detail} (server error)", retry_after=retry_after_seconds(response))
    return PlatformError(
        f"{detail}: {response.text[:200]}", hint="the request was refused as sent", status=status
    )


def transport_error(exc: requests.RequestException, what: str) -> TransientError:
    """A connection reset, timeout or broken stream, as a retryable error."""
    return http_retry.transport_error(exc, what, UNSTEADY_HINT)


def send(
    session: requests.Session, method: str, url: str, what: str, timeout: float, **kw: object
) -> requests.Response:
    """One request; network failures and non-2xx answers raise connector errors."""
    return http_retry.checked(
        lambda: session.request(method, url, timeout=timeout, **kw),  # type: ignore[arg-type]
        what,
        error_for_response,
        UNSTEADY_HINT,
        platform="shopify",
    )
