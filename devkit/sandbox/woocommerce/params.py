"""Argument validation the WordPress REST server performs before a handler runs.

Problems are collected per argument and raised together as one ``rest_invalid_param`` (400),
with WordPress's messages ("per_page must be between 1 (inclusive) and 100 (inclusive)").
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from flask import Response

from sandbox.woocommerce.errors import invalid_params

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?$")


def _list_phrase(options: tuple[str, ...]) -> str:
    return options[0] if len(options) == 1 else f"{', '.join(options[:-1])} and {options[-1]}"


class Args:
    """Typed access to request arguments; call :meth:`check` after reading them all."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values
        self.problems: dict[str, str] = {}

    def has(self, name: str) -> bool:
        """Whether the argument was given."""
        return name in self.values

    def integer(self, name: str, default: int, minimum: int | None = None, maximum: int | None = None) -> int:
        """An integer argument within bounds."""
        if name not in self.values:
            return default
        raw = self.values[name]
        try:
            value = int(str(raw).strip())
        except ValueError:
            self.problems[name] = f"{name} is not of type integer."
            return default
        if minimum is not None and maximum is not None and not minimum <= value <= maximum:
            self.problems[name] = f"{name} must be between {minimum} (inclusive) and {maximum} (inclusive)"
        elif minimum is not None and value < minimum:
            self.problems[name] = f"{name} must be greater than or equal to {minimum}"
        return value

    def boolean(self, name: str, default: bool = False) -> bool:
        """``rest_sanitize_boolean`` after ``rest_is_boolean``."""
        if name not in self.values:
            return default
        raw = self.values[name]
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text not in ("true", "false", "1", "0"):
            self.problems[name] = f"{name} is not of type boolean."
            return default
        return text in ("true", "1")

    def choice(self, name: str, default: str, options: tuple[str, ...]) -> str:
        """An enum argument."""
        value = str(self.values.get(name, default))
        if value not in options:
            self.problems[name] = f"{name} is not one of {_list_phrase(options)}."
            return default
        return value

    def date(self, name: str, tz: timezone) -> datetime | None:
        """A ``date-time`` argument as WP_Date_Query reads it: wall-clock time in the site's zone."""
        if name not in self.values:
            return None
        raw = str(self.values[name]).strip()
        if not _DATE.match(raw):
            self.problems[name] = "Invalid date."
            return None
        text = raw.replace(" ", "T").replace("t", "T")
        if text[-1] in "Zz":
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text).replace(microsecond=0)
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(tz)
        return parsed.replace(tzinfo=None)

    def id_list(self, name: str) -> list[int]:
        """A list of integers, given as ``1,2,3`` or repeated."""
        if name not in self.values:
            return []
        raw = self.values[name]
        items = raw if isinstance(raw, list) else re.split(r"[,\s]+", str(raw).strip())
        try:
            return [int(i) for i in items if str(i) != ""]
        except ValueError:
            self.problems[name] = f"{name}[0] is not of type integer."
            return []

    def text(self, name: str, default: str = "") -> str:
        """A string argument."""
        return str(self.values.get(name, default))

    def check(self) -> None:
        """Raise ``rest_invalid_param`` for everything found wrong."""
        if self.problems:
            raise invalid_params(self.problems)


@dataclass
class Page:
    """A page of a collection with WordPress's pagination headers."""

    items: list[Any]
    total: int
    page: int
    per_page: int
    base_url: str
    query: dict[str, str] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        """``X-WP-TotalPages``."""
        return math.ceil(self.total / self.per_page) if self.per_page else 0

    def headers(self, resp: Response) -> Response:
        """Add ``X-WP-Total``, ``X-WP-TotalPages`` and ``Link`` (prev/next) to ``resp``."""
        resp.headers["X-WP-Total"] = str(self.total)
        resp.headers["X-WP-TotalPages"] = str(self.pages)
        links = []
        if self.page > 1:
            links.append(f'<{self._url(min(self.page - 1, max(self.pages, 1)))}>; rel="prev"')
        if self.pages > self.page:
            links.append(f'<{self._url(self.page + 1)}>; rel="next"')
        if links:
            resp.headers["Link"] = ", ".join(links)
        return resp

    def _url(self, page: int) -> str:
        return f"{self.base_url}?{urlencode({**self.query, 'page': str(page)})}"


def paginate(rows: list[Any], page: int, per_page: int, base_url: str, query: dict[str, str]) -> Page:
    """Slice ``rows`` for ``page``."""
    start = (page - 1) * per_page
    return Page(rows[start : start + per_page], len(rows), page, per_page, base_url, query)


def after(dt: datetime, bound: datetime | None) -> bool:
    """``column > bound`` (WP_Date_Query ``after`` is exclusive)."""
    return bound is None or dt > bound


def before(dt: datetime, bound: datetime | None) -> bool:
    """``column < bound``."""
    return bound is None or dt < bound
