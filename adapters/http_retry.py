"""Retrying transient HTTP failures, shared by the platform adapters.

Platform-neutral: a bounded number of attempts with exponential backoff and jitter, a server's
``Retry-After`` honoured, and network failures turned into :class:`TransientError`.  What a status
or an error body means for one platform (and the hint the user gets) stays in that adapter.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import requests

from connector.errors import ConnectorError, RateLimited, TransientError
from connector.port_events import platform_events

T = TypeVar("T")

#: How a platform reads an HTTP answer: the connector error it means, None for a 2xx.
ErrorMapper = Callable[[requests.Response, str], ConnectorError | None]


@dataclass
class RetryPolicy:
    """How often and how long to wait between attempts of a transient failure.

    ``max_wait`` bounds one wait, a server's ``Retry-After`` included (None: ``cap``).
    """

    attempts: int = 5
    base: float = 0.5
    cap: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    rng: Callable[[], float] = field(default=random.random)
    max_wait: float | None = None
    platform: str = ""  # the label retries and throttles are reported under (connector.port_events)

    def backoff(self, attempt: int) -> float:
        """Exponential delay for a zero-based attempt, with jitter in [50 %, 100 %]."""
        return min(self.cap, self.base * (2**attempt)) * (0.5 + 0.5 * self.rng())

    def run(self, action: Callable[[], T], before_retry: Callable[[], T | None] | None = None) -> T:
        """Call ``action`` until it returns, retrying TransientError up to ``attempts`` times in all.

        ``before_retry`` runs before each retry; when it returns a value, that is the result
        (used to find an upload that did arrive although its answer was lost).
        """
        longest = self.cap if self.max_wait is None else self.max_wait
        for attempt in range(max(1, self.attempts)):
            try:
                return action()
            except TransientError as exc:
                if attempt >= self.attempts - 1:
                    raise
                wait = min(exc.retry_after if exc.retry_after is not None else self.backoff(attempt), longest)
                _report_retry(self.platform, exc, wait)
                self.sleep(wait)
                if before_retry is not None:
                    found = before_retry()
                    if found is not None:
                        return found
        raise AssertionError("unreachable")  # pragma: no cover


def _report_retry(platform: str, exc: TransientError, wait: float) -> None:
    platform_events.retry(platform, exc.code)
    if isinstance(exc, RateLimited):
        platform_events.throttle(platform, wait)


def retry_after_seconds(response: requests.Response) -> float | None:
    """The ``Retry-After`` header in seconds, when it is a number."""
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def transport_error(exc: requests.RequestException, what: str, hint: str) -> TransientError:
    """A connection reset, timeout or broken stream, as a retryable error."""
    kind = "timed out" if isinstance(exc, requests.Timeout) else "failed"
    return TransientError(f"{what} {kind}: {type(exc).__name__}", hint=hint)


def checked(
    call: Callable[[], requests.Response],
    what: str,
    error_for: ErrorMapper,
    unsteady_hint: str,
    platform: str = "",
) -> requests.Response:
    """Run one request; network failures and non-2xx answers (per ``error_for``) raise connector errors.

    Each request is reported to :data:`connector.port_events.platform_events` under ``platform``.
    """
    try:
        response = call()
    except requests.RequestException as exc:
        platform_events.call(platform, None)
        raise transport_error(exc, what, unsteady_hint) from exc
    platform_events.call(platform, response.status_code)
    error = error_for(response, what)
    if error is not None:
        raise error
    return response
