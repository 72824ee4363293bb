"""HTTP plumbing shared by the GraphQL client, the OAuth calls and uploads.

Failures become :mod:`connector.errors` classes: resets, timeouts, 429 and 5xx are
:class:`TransientError` (retried here with exponential backoff and jitter, a bounded number
of times), everything else is permanent.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import requests

from adapters.shopify.config import ShopifyConfig
from connector.errors import (
    AuthError,
    ConnectorError,
    NotFound,
    PlatformError,
    RateLimited,
    TransientError,
)

T = TypeVar("T")


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

    def new_session(self) -> requests.Session:
        """The given session, or a new one."""
        return self.session if self.session is not None else requests.Session()


@dataclass
class RetryPolicy:
    """How often and how long to wait between attempts of a transient failure."""

    attempts: int = 6
    base: float = 0.5
    cap: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    rng: Callable[[], float] = field(default=random.random)

    def backoff(self, attempt: int) -> float:
        """Exponential delay for a zero-based attempt, with jitter in [50 %, 100 %]."""
        delay = min(self.cap, self.base * (2**attempt))
        return delay * (0.5 + 0.5 * self.rng())

    def run(self, action: Callable[[], T]) -> T:
        """Call ``action`` until it returns, retrying TransientError at most ``attempts`` times."""
        for attempt in range(max(1, self.attempts)):
            try:
                return action()
            except TransientError as exc:
                if attempt >= self.attempts - 1:
                    raise
                wait = exc.retry_after if exc.retry_after is not None else self.backoff(attempt)
                self.sleep(min(wait, self.cap * 4))
        raise AssertionError("unreachable")  # pragma: no cover


def retry_policy(config: ShopifyConfig, runtime: Runtime) -> RetryPolicy:
    """The retry policy a config asks for, sleeping and drawing jitter through ``runtime``."""
    return RetryPolicy(
        attempts=config.max_attempts,
        base=config.backoff_base,
        cap=config.backoff_max,
        sleep=runtime.sleep,
        rng=runtime.rng,
    )


def retry_after_seconds(response: requests.Response) -> float | None:
    """The ``Retry-After`` header in seconds, when it is a number."""
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def error_for_response(response: requests.Response, what: str) -> ConnectorError | None:
    """The connector error an HTTP answer means (None for a 2xx)."""
    status = response.status_code
    if status < 300:
        return None
    detail = f"{what}: HTTP {status}"
    if status == 401:
        return AuthError(
            f"{detail} (access token rejected)", hint="reinstall the app on the store", status=401
        )
    if status == 402:
        return PlatformError(
            f"{detail} (shop is frozen)", hint="the shop must settle its Shopify bill", status=402
        )
    if status == 403:
        return AuthError(
            f"{detail} (permission denied)",
            hint="reinstall the app to grant the scopes it asks for",
            status=403,
        )
    if status == 404:
        return NotFound(
            f"{detail} (not found)", hint="check the shop domain and that the app is installed", status=404
        )
    if status == 423:
        return PlatformError(
            f"{detail} (shop is locked)", hint="contact Shopify support for the shop", status=423
        )
    if status == 429:
        return RateLimited(f"{detail} (too many requests)", retry_after=retry_after_seconds(response))
    if status >= 500:
        return TransientError(f"{detail} (server error)", retry_after=retry_after_seconds(response))
    return PlatformError(
        f"{detail}: {response.text[:200]}", hint="the request was refused as sent", status=status
    )


def transport_error(exc: requests.RequestException, what: str) -> TransientError:
    """A connection reset, timeout or broken stream, as a retryable error."""
    kind = "timed out" if isinstance(exc, requests.Timeout) else "failed"
    return TransientError(
        f"{what} {kind}: {exc.__class__.__name__}", hint="the network or Shopify is unsteady"
    )


def send(
    session: requests.Session, method: str, url: str, what: str, timeout: float, **kw: object
) -> requests.Response:
    """One request; network failures and non-2xx answers raise connector errors."""
    try:
        response = session.request(method, url, timeout=timeout, **kw)  # type: ignore[arg-type]
    except requests.RequestException as exc:
        raise transport_error(exc, what) from exc
    error = error_for_response(response, what)
    if error is not None:
        raise error
    return response
