"""Shopify global ids, opaque cursors and timestamps."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from typing import Any

_GID = re.compile(r"^gid://shopify/(?P<type>[A-Za-z0-9]+)/(?P<num>\d+)(?:\?.*)?$")


def gid(type_name: str, num: int) -> str:
    """``gid://shopify/<Type>/<num>``."""
    return f"gid://shopify/{type_name}/{num}"


def parse_gid(value: Any) -> tuple[str, int] | None:
    """(type, number) of a well-formed global id, else None."""
    if not isinstance(value, str):
        return None
    match = _GID.match(value)
    if match is None:
        return None
    return match["type"], int(match["num"])


def gid_num(value: Any, type_name: str) -> int | None:
    """The number of a global id of exactly ``type_name``, else None."""
    parsed = parse_gid(value)
    if parsed is None or parsed[0] != type_name:
        return None
    return parsed[1]


def encode_cursor(last_id: int, last_value: Any) -> str:
    """An opaque cursor the way Shopify builds them (base64 of ``{"last_id", "last_value"}``)."""
    raw = json.dumps({"last_id": last_id, "last_value": last_value}, separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, Any] | None:
    """(last_id, last_value) of a cursor made by :func:`encode_cursor`, or None when it is not one."""
    try:
        data = json.loads(base64.b64decode(cursor.encode(), validate=True))
        return int(data["last_id"]), data.get("last_value")
    except (ValueError, KeyError, TypeError):
        return None


def iso(ts: float | None) -> str | None:
    """Seconds since the epoch as Shopify's ISO 8601 UTC timestamp (``2025-01-31T12:00:00Z``)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_precise(ts: float) -> str:
    """An ISO 8601 UTC timestamp with microseconds (webhook ``X-Shopify-Triggered-At``)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_offset(ts: float | None) -> str | None:
    """The REST/webhook timestamp style (``2025-01-31T12:00:00+00:00``)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def parse_time(text: str) -> float | None:
    """Seconds since the epoch of an ISO 8601 date or date-time (naive values are UTC), or None."""
    text = text.strip().strip("'\"")
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
