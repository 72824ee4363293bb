"""Shopify's search syntax for the ``query`` argument of connections.

Supported: ``field:value``, comparators ``field:>value`` ``>=`` ``<`` ``<=``, quoted values, ``*``
prefix wildcards, negation (``-field:value`` / ``NOT``), implicit or explicit ``AND`` and top-level
``OR``; bare words match the title/filename.  Unknown fields are ignored and reported as search
warnings, as Shopify does.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.shopify.gids import parse_time

_TERM = re.compile(r"^(?P<neg>-)?(?P<field>[a-z_\.]+):(?P<op><=|>=|<|>|=)?(?P<value>.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class Term:
    field: str | None  # None: free text
    op: str
    value: str
    negate: bool = False


@dataclass
class Query:
    """A parsed query: OR of AND-groups."""

    groups: list[list[Term]]
    warnings: list[dict[str, str]] = field(default_factory=list)


def parse_query(text: str | None) -> Query:
    """Parse Shopify's search syntax."""
    if not text or not text.strip():
        return Query(groups=[])
    try:
        tokens = shlex.split(text, posix=True)
    except ValueError:
        tokens = text.split()
    groups: list[list[Term]] = [[]]
    negate_next = False
    for token in tokens:
        upper = token.upper()
        if upper == "AND":
            continue
        if upper == "OR":
            groups.append([])
            continue
        if upper == "NOT":
            negate_next = True
            continue
        match = _TERM.match(token)
        if match:
            term = Term(
                match["field"].lower(),
                match["op"] or ":",
                match["value"].strip("'\""),
                bool(match["neg"]) or negate_next,
            )
        else:
            term = Term(None, ":", token.lstrip("-"), token.startswith("-") or negate_next)
        negate_next = False
        groups[-1].append(term)
    return Query(groups=[g for g in groups if g])


FieldGetter = Callable[[Any], Any]


def _compare(actual: Any, op: str, wanted: str, kind: str) -> bool:
    if actual is None:
        return False
    if kind == "time":
        wanted_t = parse_time(wanted)
        if wanted_t is None:
            return False
        a, w = float(int(actual)), wanted_t  # stored times have whole seconds, as shown
    elif kind == "number":
        try:
            a, w = float(actual), float(wanted)
        except ValueError:
            return False
    else:
        text, pattern = str(actual).lower(), wanted.lower()
        if op in (":", "="):
            return text.startswith(pattern[:-1]) if pattern.endswith("*") else text == pattern
        a_s, w_s = text, pattern
        return {"<": a_s < w_s, "<=": a_s <= w_s, ">": a_s > w_s, ">=": a_s >= w_s}[op]
    return {":": a == w, "=": a == w, "<": a < w, "<=": a <= w, ">": a > w, ">=": a >= w}[op]


@dataclass(frozen=True)
class SearchField:
    getter: FieldGetter
    kind: str = "text"  # "text" | "time" | "number" | "any" (matches any of a list)


def matcher(query: Query, fields: Mapping[str, SearchField], free_text: FieldGetter) -> Callable[[Any], bool]:
    """A predicate for items; unknown fields become warnings and match everything."""
    for group in query.groups:
        for term in group:
            if term.field is not None and term.field not in fields:
                query.warnings.append(
                    {"field": term.field, "message": "Invalid search field for this query."}
                )

    def test(item: Any, term: Term) -> bool:
        if term.field is None:
            hit = term.value.lower().rstrip("*") in str(free_text(item) or "").lower()
        elif term.field not in fields:
            return True
        else:
            spec = fields[term.field]
            actual = spec.getter(item)
            if spec.kind == "any":
                hit = any(_compare(v, term.op, term.value, "text") for v in (actual or ()))
            else:
                hit = _compare(actual, term.op, term.value, spec.kind)
        return not hit if term.negate else hit

    def predicate(item: Any) -> bool:
        if not query.groups:
            return True
        return any(all(test(item, term) for term in group) for group in query.groups)

    return predicate


def search_extension(path: str, text: str | None, query: Query) -> dict[str, Any] | None:
    """The ``extensions.search`` entry Shopify adds when a query had warnings."""
    if not query.warnings:
        return None
    return {"path": [path], "query": text, "warnings": query.warnings}
