"""Rebuilding products from bulk JSONL rows and reading Shopify's timestamps and URLs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import unquote, urlsplit

import pytest

from adapters.shopify.catalog import (
    filename_from_url,
    parse_datetime,
    products_from_jsonl,
    search_updated_since,
    variant_media_from_jsonl,
)

pytestmark = pytest.mark.unit

P = "gid://shopify/Product/1"
V = "gid://shopify/ProductVariant/7"


def media(n: int) -> dict[str, object]:
    return {
        "id": f"gid://shopify/MediaImage/{n}",
        "alt": f"alt {n}",
        "status": "READY",
        "mediaContentType": "IMAGE",
        "image": {"url": f"https://cdn.shopify.com/files/img%20{n}.png?v=1"},
    }


def test_children_are_attached_to_parents_in_any_file_order() -> None:
    rows = [
        {**media(1), "__parentId": P},
        {"id": V, "__parentId": P},
        {**media(2), "__parentId": P},
        {"id": P, "title": "Lamp", "handle": "lamp", "updatedAt": "2025-02-03T04:05:06Z"},
        {"id": "gid://shopify/Product/2", "title": "Empty", "handle": "empty", "updatedAt": None},
    ]
    variant_rows = [
        {"id": "gid://shopify/MediaImage/2", "__parentId": V},
        {"id": V, "product": {"id": P}},
        {"id": "gid://shopify/ProductVariant/8", "product": {"id": P}},
    ]
    shown = variant_media_from_jsonl(json.dumps(r) for r in variant_rows)
    assert shown == {V: ["gid://shopify/MediaImage/2"], "gid://shopify/ProductVariant/8": []}
    lamp, empty = list(products_from_jsonl((json.dumps(r) + "\n" for r in rows), shown))
    assert [(i.media_id, i.position, i.alt, i.filename) for i in lamp.images] == [
        ("gid://shopify/MediaImage/1", 0, "alt 1", "img 1.png"),
        ("gid://shopify/MediaImage/2", 1, "alt 2", "img 2.png"),
    ]
    assert lamp.variant_ids == (V,)
    assert lamp.images[1].variant_ids == (V,)
    assert lamp.images[0].variant_ids == ()
    assert (empty.images, empty.updated_at) == ((), None)


def test_blank_lines_and_bytes_are_accepted() -> None:
    lines = [json.dumps({"id": P, "title": "A", "handle": "a", "updatedAt": None}).encode() + b"\n", b"\n"]
    assert [p.title for p in products_from_jsonl(lines)] == ["A"]


def test_incremental_search_is_utc_iso() -> None:
    paris = timezone(timedelta(hours=1))
    assert (
        search_updated_since(datetime(2025, 1, 1, 12, 0, tzinfo=paris))
        == "updated_at:>'2025-01-01T11:00:00Z'"
    )
    assert search_updated_since(datetime(2025, 1, 1, 12, 0)) == "updated_at:>'2025-01-01T12:00:00Z'"
    assert search_updated_since(None) is None


def test_timestamps_and_filenames() -> None:
    assert parse_datetime("2025-01-01T00:00:00Z") == datetime(2025, 1, 1, tzinfo=UTC)
    assert filename_from_url("https://cdn.shopify.com/s/files/1/files/a-b.jpg?v=123") == "a-b.jpg"
    assert filename_from_url(None) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.shopify.com/s/files/1/files/a%20b.jpg?v=123",
        "https://cdn.shopify.com",
        "https://cdn.shopify.com?x=/y.jpg",
        "https://cdn.shopify.com/dir/",
        "http://127.0.0.1:8080/files/x.png",
        "https://cdn.shopify.com/a.jpg#frag/b.jpg",
        "/relative/c.webp?v=1",
        "c.jpg",
    ],
)
def test_filenames_match_the_url_path(url: str) -> None:
    expected = unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or None
    assert filename_from_url(url) == expected
