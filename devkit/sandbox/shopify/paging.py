"""Relay connections with Shopify's cursor pagination rules (first/after, last/before, max 250)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from graphql import GraphQLError

from sandbox.shopify.gids import decode_cursor, encode_cursor


def connection_error(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_REQUEST"})


def check_page_args(args: dict[str, Any], max_page: int, bulk: bool) -> None:
    """Raise Shopify's errors for missing, negative or too large page sizes."""
    if bulk:
        return
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise connection_error("you must provide one of first or last")
    if first is not None and last is not None:
        raise connection_error("providing both first and last is not supported")
    if last is not None and args.get("before") is None and args.get("after") is None:
        # Shopify supports last on its own only together with a cursor
        raise connection_error("using last without before is not supported")
    size = first if first is not None else last
    if size is not None and size < 0:
        raise connection_error(f"Invalid value for {'first' if first is not None else 'last'}: must be >= 0")
    if size is not None and size > max_page:
        name = "first" if first is not None else "last"
        raise connection_error(f"The {name} argument must be less than or equal to {max_page}")


def build_connection(
    items: Sequence[Any],
    sort_key: Callable[[Any], Any],
    item_id: Callable[[Any], int],
    args: dict[str, Any],
    *,
    max_page: int,
    bulk: bool = False,
    wrap: Callable[[Any], Any] | None = None,
) -> dict[str, Any]:
    """A connection over ``items`` (already in ascending sort order) for ``first/after/last/before/reverse``.

    Cursors carry ``(last_id, last_value)`` so paging stays stable when items are added or removed.
    ``wrap`` turns the items of the returned page into GraphQL views (only those are built).
    """
    check_page_args(args, max_page, bulk)
    reverse = bool(args.get("reverse"))
    ordered = list(reversed(items)) if reverse else list(items)

    def position(entry: Any) -> tuple[Any, int]:
        return (sort_key(entry), item_id(entry))

    def beyond(entry: Any, cursor: tuple[Any, int]) -> bool:
        try:
            return position(entry) < cursor if reverse else position(entry) > cursor
        except TypeError as exc:
            raise connection_error("Invalid cursor for current pagination sort") from exc

    def parse(cursor: Any, name: str) -> tuple[Any, int]:
        decoded = decode_cursor(cursor) if isinstance(cursor, str) else None
        if decoded is None:
            raise connection_error(f"Invalid cursor for current pagination sort: '{name}' is not valid")
        last_id, last_value = decoded
        return (last_value, last_id)

    if args.get("after") is not None:
        after = parse(args["after"], "after")
        ordered = [e for e in ordered if beyond(e, after)]
        has_previous_by_cursor = True
    else:
        has_previous_by_cursor = False
    has_next_by_cursor = False
    if args.get("before") is not None:
        before = parse(args["before"], "before")
        ordered = [e for e in ordered if not beyond(e, before) and position(e) != before]
        has_next_by_cursor = True

    first, last = args.get("first"), args.get("last")
    window = ordered
    has_next = has_next_by_cursor
    has_previous = has_previous_by_cursor
    if not bulk and first is not None:
        window = ordered[:first]
        has_next = len(ordered) > first
    elif not bulk and last is not None:
        window = ordered[-last:] if last else []
        has_previous = len(ordered) > last

    def cursor_of(entry: Any) -> str:
        return encode_cursor(item_id(entry), sort_key(entry))

    nodes = [wrap(e) for e in window] if wrap is not None else list(window)
    edges = [{"cursor": cursor_of(e), "node": n} for e, n in zip(window, nodes, strict=True)]
    return {
        "edges": edges,
        "nodes": nodes,
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }
