"""Webhook signatures both platforms use: base64 HMAC-SHA256 of the raw body, read from a header."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, case-insensitively, from any mapping of headers."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def body_signature(body: bytes, secret: str) -> str:
    """The base64 HMAC-SHA256 of ``body`` under ``secret``."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signature_matches(received: str, body: bytes, secret: str) -> bool:
    """Whether a received signature (surrounding white space ignored) is the body's, in constant time."""
    return hmac.compare_digest(received.strip().encode(), body_signature(body, secret).encode())
