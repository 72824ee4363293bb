"""The GraphQL Admin API client of one shop: cost-aware throttling, retries, error mapping.

Before each request it reserves the request's requested cost in the shop's cost bucket
(:mod:`adapters.shopify.throttle`; in-process, or shared by every worker), waiting until the
bucket holds it, and settles the reservation with the answer's report.  A THROTTLED answer,
a 429, a 5xx, a reset or a timeout is retried with exponential backoff and jitter a bounded
number of times; a 401 refreshes the token once.  GraphQL errors become
:mod:`connector.errors` classes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from adapters.shopify.auth import REINSTALL_HINT, TokenKeeper
from adapters.shopify.cost import estimate_cost
from adapters.shopify.http import RetryPolicy, error_for_response, transport_error
from adapters.shopify.throttle import Bucket, CostBucket, CostReport, Reservation
from connector.errors import (
    AuthError,
    ConnectorError,
    NotFound,
    PlatformError,
    RateLimited,
    TransientError,
)
from connector.port_events import platform_events

_TRANSIENT_CODES = {"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT", "BAD_GATEWAY"}
_NOT_FOUND_CODES = {"NOT_FOUND", "RESOURCE_NOT_FOUND"}


def _cost_key(document: str, variables: Mapping[str, Any] | None) -> tuple[str, tuple[object, ...]]:
    """What a query's requested cost depends on: the document and its page sizes (int variables)."""
    sizes = tuple(sorted((k, v) for k, v in (variables or {}).items() if isinstance(v, int)))
    return document, sizes


@dataclass
class GraphQLStats:
    """Counters of one client, for tests, logs and benchmarks."""

    requests: int = 0
    throttled: int = 0
    retries: int = 0
    waited: float = 0.0
    refreshes: int = 0
    #: points the answered queries asked for, and what Shopify really charged for them
    requested_points: float = 0.0
    actual_points: float = 0.0
    #: the bucket's restore rate (points/s) in the last answer, 0 before any
    restore_rate: float = 0.0


class AdminGraphQL:
    """Sends documents to one shop's GraphQL Admin endpoint."""

    def __init__(
        self,
        url: str,
        tokens: TokenKeeper,
        session: requests.Session,
        retry: RetryPolicy,
        timeout: float,
        monotonic: Callable[[], float] = time.monotonic,
        bucket: Bucket | None = None,
    ) -> None:
        self.url = url
        self.tokens = tokens
        self.session = session
        self.retry = retry
        self.timeout = timeout
        self.monotonic = monotonic
        self.bucket: Bucket = bucket if bucket is not None else CostBucket(monotonic)
        self.stats = GraphQLStats()
        self._requested: dict[tuple[str, tuple[object, ...]], float] = {}

    def expected_cost(self, document: str, variables: Mapping[str, Any] | None) -> float:
        """The requested cost to wait for: the server's last figure, else our static estimate."""
        estimate = float(estimate_cost(document, variables))
        return max(estimate, self._requested.get(_cost_key(document, variables), 0.0))

    def execute(self, document: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run one document and return its ``data``; raise connector errors."""
        cost = self.expected_cost(document, variables)
        payload = {"query": document, "variables": dict(variables or {})}
        attempts = 0

        def attempt() -> dict[str, Any]:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                self.stats.retries += 1
            return self._send(document, payload, cost)

        return self.retry.run(attempt)

    def _reserve(self, cost: float) -> Reservation:
        """Wait until the bucket grants ``cost`` points; the granted reservation."""
        while True:
            reservation = self.bucket.reserve(cost)
            if reservation.granted:
                return reservation
            wait = max(reservation.wait, 0.001)
            self.stats.waited += wait
            platform_events.throttle("shopify", wait)
            self.retry.sleep(wait)

    def _post(self, payload: Mapping[str, Any], token: str) -> requests.Response:
        self.stats.requests += 1
        try:
            response = self.session.post(
                self.url,
                json=payload,
                headers={"X-Shopify-Access-Token": token, "Accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            platform_events.call("shopify", None)
            raise transport_error(exc, "Shopify GraphQL request") from exc
        platform_events.call("shopify", response.status_code)
        return response

    def _send(self, document: str, payload: Mapping[str, Any], cost: float) -> dict[str, Any]:
        token = self.tokens.access_token()
        reservation = self._reserve(cost)
        report: CostReport | None = None
        try:
            body = self._exchange(payload, token)
            extensions = body.get("extensions") or {}
            report = CostReport.from_extensions(extensions)
        finally:
            self.bucket.settle(reservation, report)
        requested = (extensions.get("cost") or {}).get("requestedQueryCost")
        if isinstance(requested, int | float):
            self._requested[_cost_key(document, payload["variables"])] = float(requested)
            self.stats.requested_points += float(requested)
        if report is not None:
            self.stats.actual_points += report.actual
            self.stats.restore_rate = report.status.restore_rate
        if body.get("errors"):
            raise self._error(body["errors"], float(requested or cost))
        data = body.get("data")
        if not isinstance(data, dict):
            raise PlatformError("Shopify answered without data", hint="check the API version")
        return data

    def _exchange(self, payload: Mapping[str, Any], token: str) -> dict[str, Any]:
        """POST the document (refreshing a rejected token once); the decoded JSON body."""
        response = self._post(payload, token)
        if response.status_code == 401:
            self.stats.refreshes += 1
            token = self.tokens.refresh_rejected(token)
            response = self._post(payload, token)
            if response.status_code == 401:
                raise AuthError(
                    "Shopify rejects the access token even after a refresh", hint=REINSTALL_HINT, status=401
                )
        error = error_for_response(response, "Shopify GraphQL request")
        if error is not None:
            if isinstance(error, RateLimited):
                self.stats.throttled += 1
            raise error
        try:
            body = response.json()
        except ValueError as exc:
            raise TransientError(
                "Shopify answered with something that is not JSON", hint="try again"
            ) from exc
        if not isinstance(body, dict):
            raise TransientError("Shopify answered with an unexpected JSON shape", hint="try again")
        return body

    def _error(self, errors: list[dict[str, Any]], cost: float) -> ConnectorError:
        codes = {((e.get("extensions") or {}).get("code") or "") for e in errors if isinstance(e, dict)}
        messages = "; ".join(str(e.get("message", e)) for e in errors if isinstance(e, dict)) or str(errors)
        if "THROTTLED" in codes:
            self.stats.throttled += 1
            wait = self.bucket.delay_for(cost)
            return RateLimited(f"Shopify throttled the request: {messages}", retry_after=wait or None)
        if "ACCESS_DENIED" in codes:
            return AuthError(
                f"Shopify denied access: {messages}", hint="reinstall the app to grant its scopes"
            )
        if "MAX_COST_EXCEEDED" in codes:
            return PlatformError(
                f"query too expensive: {messages}", hint="lower the page sizes", code="max_cost_exceeded"
            )
        if codes & _TRANSIENT_CODES:
            return TransientError(f"Shopify failed the request: {messages}", hint="try again shortly")
        if (
            codes & _NOT_FOUND_CODES
            or "invalid id" in messages.lower()
            or "invalid global id" in messages.lower()
        ):
            return NotFound(f"not found on Shopify: {messages}", hint="re-sync; it was deleted on the store")
        return PlatformError(
            f"Shopify refused the request: {messages}", hint="see the message for what to change"
        )
