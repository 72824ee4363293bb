"""Turning Shopify product data (paged GraphQL nodes or bulk JSONL rows) into port dataclasses."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson

from adapters.shopify.ids import gid_type
from connector.port import MediaState, RemoteImage, RemoteProduct


def filename_from_url(url: str | None) -> str | None:
    """The last path segment of a CDN or staged URL, without its query."""
    if not url:
        return None
    scheme, sep, rest = url.partition("://")
    if sep and scheme.isalpha() and "#" not in url:  # the usual absolute URL, without urlsplit's cost
        path = rest.partition("?")[0]
        path = path[path.find("/") :] if "/" in path else ""
    else:
        path = urlsplit(url).path
    name = unquote(path.rsplit("/", 1)[-1])
    return name or None


def parse_datetime(value: str | None) -> datetime | None:
    """An ISO 8601 timestamp from Shopify, as an aware datetime."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def search_updated_since(updated_since: datetime | None) -> str | None:
    """The products search for an incremental sync (naive datetimes are taken as UTC)."""
    if updated_since is None:
        return None
    moment = updated_since if updated_since.tzinfo else updated_since.replace(tzinfo=UTC)
    return f"updated_at:>'{moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'"


def _state(value: str | None) -> MediaState:
    try:
        return MediaState(value or MediaState.READY.value)
    except ValueError:
        return MediaState.PROCESSING


@dataclass
class ProductDraft:
    """A product as read from Shopify: every media item in order and each variant's media."""

    product_id: str
    title: str
    handle: str | None
    updated_at: datetime | None
    media: list[Mapping[str, Any]] = field(default_factory=list)
    variants: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_node(cls, node: Mapping[str, Any]) -> ProductDraft:
        """The scalar fields of a product node (media and variants are added separately)."""
        return cls(
            product_id=str(node["id"]),
            title=str(node.get("title") or ""),
            handle=node.get("handle"),
            updated_at=parse_datetime(node.get("updatedAt")),
        )

    @property
    def media_ids(self) -> list[str]:
        """Every media id on the product, in display order (images, videos, 3D models)."""
        return [str(m["id"]) for m in self.media]

    def show_variant_media(self, shown: Mapping[str, list[str]]) -> None:
        """Set the media each variant shows (bulk exports read them in a second export)."""
        for variant_id in self.variants:
            self.variants[variant_id] = list(shown.get(variant_id, ()))

    def add_variant(self, node: Mapping[str, Any]) -> None:
        """Record one variant node and the media it shows."""
        media = (node.get("media") or {}).get("nodes") or []
        self.variants[str(node["id"])] = [str(m["id"]) for m in media]

    def to_remote(self) -> RemoteProduct:
        """The port's view: images only, each with its position among all media."""
        return self.with_variant_media(self.prepared())

    def prepared(self) -> RemoteProduct:
        """The port's view as far as this product's own rows tell: no variant shows media yet."""
        images = []
        for position, media in enumerate(self.media):
            media_id = str(media["id"])
            if gid_type(media_id) != "MediaImage" and media.get("mediaContentType") != "IMAGE":
                continue
            url = (media.get("image") or {}).get("url") or ""
            images.append(
                RemoteImage(
                    media_id=media_id,
                    position=position,
                    src=url,
                    alt=media.get("alt") or None,
                    state=_state(media.get("status")),
                    filename=filename_from_url(url),
                )
            )
        return RemoteProduct(
            product_id=self.product_id,
            title=self.title,
            updated_at=self.updated_at,
            images=tuple(images),
            variant_ids=tuple(self.variants),
            handle=self.handle,
        )

    def with_variant_media(self, prepared: RemoteProduct) -> RemoteProduct:
        """``prepared`` (from :meth:`prepared`) with the variants that show each image."""
        shown_by: dict[str, list[str]] = {}
        for variant_id, media_ids in self.variants.items():
            for media_id in media_ids:
                shown_by.setdefault(media_id, []).append(variant_id)
        if not shown_by:
            return prepared

        def shown(image: RemoteImage) -> RemoteImage:
            variants = shown_by.get(image.media_id)
            return replace(image, variant_ids=tuple(variants)) if variants else image

        return replace(prepared, images=tuple(shown(image) for image in prepared.images))


def _rows(lines: Iterable[bytes | str]) -> Iterator[dict[str, Any]]:
    """The JSON objects of a JSONL stream, one at a time (the file is never held as a list)."""
    for raw in lines:
        if raw.strip():
            yield orjson.loads(raw)


def variant_media_from_jsonl(lines: Iterable[bytes | str]) -> dict[str, list[str]]:
    """Variant id → the media ids it shows, from a ``productVariants`` bulk export."""
    shown: dict[str, list[str]] = {}
    for row in _rows(lines):
        parent = row.get("__parentId")
        if parent is None:
            shown.setdefault(str(row["id"]), [])
        else:
            shown.setdefault(str(parent), []).append(str(row["id"]))
    return shown


def _attach(draft: ProductDraft, row: dict[str, Any]) -> None:
    row_id = str(row["id"])
    if gid_type(row_id) == "ProductVariant":
        draft.variants[row_id] = []  # the media it shows come from the variant export
    else:
        row.pop("__parentId", None)
        draft.media.append(row)


def drafts_from_jsonl(lines: Iterable[bytes | str]) -> dict[str, ProductDraft]:
    """Rebuild products from a bulk export: product rows and child rows with ``__parentId``.

    The file is read in one pass, line by line.  Children are attached by parent id wherever
    they appear (Shopify does not promise that a parent comes first: a child seen before its
    parent waits for it) and kept in file order, which is the connection's order (so media
    positions survive).  Variants show no media yet (:meth:`ProductDraft.show_variant_media`).
    """
    products: dict[str, ProductDraft] = {}
    waiting: dict[str, list[dict[str, Any]]] = {}
    for row in _rows(lines):
        parent = row.get("__parentId")
        if parent is None:
            draft = ProductDraft.from_node(row)
            products[draft.product_id] = draft
            for child in waiting.pop(draft.product_id, ()):
                _attach(draft, child)
        elif parent in products:
            _attach(products[parent], row)
        else:
            waiting.setdefault(str(parent), []).append(row)
    return products


def remote_products(
    products: dict[str, ProductDraft], variant_media: Mapping[str, list[str]] | None = None
) -> Iterator[RemoteProduct]:
    """The port's products from drafts, each handed out once and dropped from memory then.

    ``variant_media`` (from :func:`variant_media_from_jsonl`) says which media each variant shows.
    """
    yield from with_variant_media(prepare(products), variant_media)


def prepare(products: dict[str, ProductDraft]) -> list[tuple[ProductDraft, RemoteProduct]]:
    """Every draft with its port view so far (the drafts are emptied): built while a bulk export of
    the variants' media still runs, so only that media is left to add when it arrives."""
    prepared = [(draft, draft.prepared()) for draft in products.values()]
    products.clear()
    return prepared


def with_variant_media(
    prepared: list[tuple[ProductDraft, RemoteProduct]], variant_media: Mapping[str, list[str]] | None
) -> Iterator[RemoteProduct]:
    """The prepared products with the media each variant shows, each handed out once."""
    shown = variant_media or {}
    prepared.reverse()  # handed out from the end: each is dropped once handed out
    while prepared:
        draft, product = prepared.pop()
        draft.show_variant_media(shown)
        yield draft.with_variant_media(product)


def products_from_jsonl(
    lines: Iterable[bytes | str], variant_media: Mapping[str, list[str]] | None = None
) -> Iterator[RemoteProduct]:
    """Products of a bulk export (:func:`drafts_from_jsonl`) with the media each variant shows."""
    yield from remote_products(drafts_from_jsonl(lines), variant_media)
