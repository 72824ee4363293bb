"""Helpers shared by the end-to-end tests: the sandbox stores' admin routes."""

from __future__ import annotations

from typing import Any

import requests
from sandbox.devstack import DevStack


def sandbox_admin(stack: DevStack, method: str, path: str, **kw: Any) -> Any:
    """Call the Shopify sandbox's admin routes (``/__sandbox``...); the decoded JSON answer."""
    answer = requests.request(method, f"{stack.shopify.url}/__sandbox{path}", timeout=60, **kw)
    assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text[:300]}"
    return answer.json()


def num(gid: str) -> str:
    """The numeric tail of a Shopify global id (what the sandbox admin paths take)."""
    return gid.rsplit("/", 1)[-1]
