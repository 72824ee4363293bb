"""Test doubles for the Shopify adapter's unit tests: a manual clock and a scripted GraphQL endpoint."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import responses

from adapters.shopify import ShopifyConfig
from adapters.shopify.http import Runtime

SHOP = "demo-shop.myshopify.com"
CONFIG = ShopifyConfig(
    api_key="key-123",
    api_secret="secret-456",
    base_url_template="https://{shop}",
    backoff_base=0.5,
    backoff_max=8.0,
    max_attempts=4,
)
GRAPHQL_URL = CONFIG.graphql_url(SHOP)
TOKEN_URL = CONFIG.token_url(SHOP)
NOW = 1_750_000_000.0


class FakeClock:
    """Wall and monotonic time that only move when the code under test sleeps."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def time(self) -> float:
        return self.now

    def runtime(self) -> Runtime:
        """A Runtime on this clock, with jitter fixed at its midpoint."""
        return Runtime(sleep=self.sleep, clock=self.time, monotonic=self.time, rng=lambda: 0.5)


def credentials(expires_in: float = 3600.0, **extra: Any) -> dict[str, Any]:
    """Valid expiring-token credentials as of NOW."""
    return {
        "access_token": "tok-1",
        "access_token_expires_at": NOW + expires_in,
        "refresh_token": "ref-1",
        "refresh_token_expires_at": NOW + 86400 * 30,
        "scope": "read_products,write_products,read_files,write_files",
        **extra,
    }


def cost(
    requested: float = 10, available: float = 990, maximum: float = 1000, rate: float = 50
) -> dict[str, Any]:
    """An ``extensions`` block as Shopify sends it."""
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": requested,
            "throttleStatus": {
                "maximumAvailable": maximum,
                "currentlyAvailable": available,
                "restoreRate": rate,
            },
        }
    }


_OPERATION = re.compile(r"^\s*(?:query|mutation)\s+(\w+)")

Handler = Callable[[dict[str, Any]], Any]


class ScriptedGraphQL:
    """Answers GraphQL requests by operation name; records what was sent (documents, variables, tokens)."""

    def __init__(self, rsps: responses.RequestsMock, url: str = GRAPHQL_URL) -> None:
        self.handlers: dict[str, Handler] = {}
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.documents: list[str] = []
        self.tokens: list[str | None] = []
        rsps.add_callback(responses.POST, url, callback=self._answer)

    def on(self, name: str, handler: Handler | dict[str, Any]) -> None:
        """Answer ``name`` with a function of the variables (or fixed data)."""
        if callable(handler):
            self.handlers[name] = handler
        else:
            fixed = handler
            self.handlers[name] = lambda _variables: fixed

    def names(self) -> list[str]:
        return [name for name, _ in self.sent]

    def variables(self, name: str) -> list[dict[str, Any]]:
        return [v for n, v in self.sent if n == name]

    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = json.loads(request.body)
        match = _OPERATION.match(body["query"])
        name = match.group(1) if match else "?"
        self.sent.append((name, body.get("variables") or {}))
        self.documents.append(body["query"])
        self.tokens.append(request.headers.get("X-Shopify-Access-Token"))
        handler = self.handlers.get(name)
        if handler is None:
            return 200, {}, json.dumps({"errors": [{"message": f"unscripted operation {name}"}]})
        result = handler(body.get("variables") or {})
        if isinstance(result, tuple):
            status, payload = result
            return status, {}, json.dumps(payload)
        return 200, {}, json.dumps({"data": result, "extensions": cost()})
