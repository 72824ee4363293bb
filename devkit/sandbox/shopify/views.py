"""GraphQL object views over the sandbox state.

A view's public methods are named after the schema's fields and receive the field's arguments;
the executor's field resolver (see :mod:`sandbox.shopify.executor`) looks them up by name, so a
field a view lacks is reported as not emulated instead of being answered wrongly.  Internal
attributes start with an underscore and are never reachable from a query.
"""

from __future__ import annotations

from typing import Any

from sandbox.shopify.context import Ctx, unsupported
from sandbox.shopify.gids import gid, iso
from sandbox.shopify.media import file_error_message
from sandbox.shopify.paging import build_connection
from sandbox.shopify.payloads import cdn_url, dimensions
from sandbox.shopify.search import SearchField, matcher, parse_query, search_extension
from sandbox.shopify.state import (
    READY,
    MediaFile,
    Product,
    Variant,
)

#: marker returned for fields of type QueryRoot (Job.query): resolved by the root resolvers
ROOT = object()


def reject_extra(args: dict[str, Any], supported: set[str], where: str) -> None:
    for name, value in args.items():
        if value is not None and name not in supported:
            raise unsupported(f"The '{name}' argument of {where}")


def sorted_by(
    items: list[Any], sort_key: str | None, keys: dict[str, Any], where: str, num: Any = None
) -> tuple[list[Any], Any]:
    """Items in ``sort_key`` order (ties by id) and the key function; ``num`` gives an item's id."""
    chosen = sort_key or "ID"
    if chosen == "RELEVANCE":
        chosen = "ID"
    if chosen not in keys:
        raise unsupported(f"sortKey {chosen} of {where}")
    key = keys[chosen]
    ident = num or (lambda item: item._num)
    if chosen == "ID":
        return sorted(items, key=ident), key
    return sorted(items, key=lambda item: (key(item), ident(item))), key


def sorted_connection(
    ctx: Ctx,
    items: list[Any],
    sort_key: str | None,
    keys: dict[str, Any],
    where: str,
    args: dict[str, Any],
    *,
    num: Any = None,
    wrap: Any = None,
) -> dict[str, Any]:
    """A connection over ``items`` in ``sort_key`` order (see :func:`sorted_by`), paged by ``args``."""
    ident = num or (lambda item: item._num)
    ordered, key = sorted_by(items, sort_key, keys, where, num=ident)
    return build_connection(ordered, key, ident, args, max_page=ctx.max_page, bulk=ctx.bulk, wrap=wrap)


PAGE_ARGS = {"first", "after", "last", "before", "reverse"}


class ImageView:
    graphql_type = "Image"

    def __init__(self, ctx: Ctx, f: MediaFile) -> None:
        self._ctx, self._f = ctx, f

    def id(self) -> str:
        return gid("ProductImage", self._f.image_num)

    def url(self, transform: dict[str, Any] | None = None) -> str:
        base = cdn_url(self._ctx.base_url, self._ctx.shop, self._f)
        if transform:
            extra = "&".join(
                f"{k}={v}" for k, v in transform.items() if v is not None and not isinstance(v, dict)
            )
            return f"{base}&{extra}" if extra else base
        return base

    def src(self) -> str:
        return self.url()

    def originalSrc(self) -> str:
        return self.url()

    def transformedSrc(self, **transform: Any) -> str:
        return self.url(transform)

    def width(self) -> int | None:
        return dimensions(self._f)[0]

    def height(self) -> int | None:
        return dimensions(self._f)[1]

    def altText(self) -> str | None:
        return self._f.alt or None


class MediaImageView:
    """A file of the Files library (``MediaImage``: both ``File`` and ``Media``)."""

    graphql_type = "MediaImage"

    def __init__(self, ctx: Ctx, f: MediaFile, position: int = 0) -> None:
        self._ctx, self._f, self._num, self._position = ctx, f, f.num, position

    def id(self) -> str:
        return gid("MediaImage", self._f.num)

    def alt(self) -> str:
        return self._f.alt

    def status(self) -> str:
        return self._f.status

    def fileStatus(self) -> str:
        return self._f.status

    def mediaContentType(self) -> str:
        return "IMAGE"

    def mimeType(self) -> str | None:
        return self._f.mime

    def createdAt(self) -> str | None:
        return iso(self._f.created_at)

    def updatedAt(self) -> str | None:
        return iso(self._f.updated_at)

    def image(self) -> ImageView | None:
        return ImageView(self._ctx, self._f) if self._f.status == READY else None

    def preview(self) -> dict[str, Any]:
        return {"status": self._f.status, "image": self.image()}

    def originalSource(self) -> dict[str, Any] | None:
        if self._f.status != READY:
            return None
        return {"url": cdn_url(self._ctx.base_url, self._ctx.shop, self._f), "fileSize": self._f.byte_size}

    def mediaErrors(self) -> list[dict[str, Any]]:
        return [{"code": e.code, "message": e.message, "details": e.details} for e in self._f.errors]

    def fileErrors(self) -> list[dict[str, Any]]:
        return [
            {"code": e.code, "message": file_error_message(e), "details": e.details} for e in self._f.errors
        ]

    def mediaWarnings(self) -> list[dict[str, Any]]:
        return []


class VariantView:
    graphql_type = "ProductVariant"

    def __init__(self, ctx: Ctx, product: Product, variant: Variant) -> None:
        self._ctx, self._p, self._v, self._num = ctx, product, variant, variant.num

    def id(self) -> str:
        return gid("ProductVariant", self._v.num)

    def legacyResourceId(self) -> str:
        return str(self._v.num)

    def title(self) -> str:
        return self._v.title

    def displayName(self) -> str:
        return f"{self._p.title} - {self._v.title}"

    def sku(self) -> str | None:
        return self._v.sku

    def position(self) -> int:
        return self._v.position

    def price(self) -> str:
        return self._v.price

    def createdAt(self) -> str | None:
        return iso(self._v.created_at)

    def updatedAt(self) -> str | None:
        return iso(self._v.updated_at)

    def product(self) -> ProductView:
        return ProductView(self._ctx, self._p)

    def _file(self) -> MediaFile | None:
        return self._ctx.shop.live_file(self._v.media_num) if self._v.media_num is not None else None

    def media(self, **args: Any) -> dict[str, Any]:
        reject_extra(args, PAGE_ARGS, "ProductVariant.media")
        f = self._file()
        items = [MediaImageView(self._ctx, f)] if f is not None else []
        return build_connection(
            items, lambda v: v._num, lambda v: v._num, args, max_page=self._ctx.max_page, bulk=self._ctx.bulk
        )

    def image(self) -> ImageView | None:
        f = self._file()
        return ImageView(self._ctx, f) if f is not None and f.status == READY else None


class ProductView:
    graphql_type = "Product"

    def __init__(self, ctx: Ctx, product: Product) -> None:
        self._ctx, self._p, self._num = ctx, product, product.num

    def id(self) -> str:
        return gid("Product", self._p.num)

    def legacyResourceId(self) -> str:
        return str(self._p.num)

    def title(self) -> str:
        return self._p.title

    def handle(self) -> str:
        return self._p.handle

    def status(self) -> str:
        return self._p.status

    def vendor(self) -> str:
        return self._p.vendor

    def productType(self) -> str:
        return self._p.product_type

    def description(self, **_: Any) -> str:
        return ""

    def descriptionHtml(self) -> str:
        return ""

    def tags(self) -> list[str]:
        return []

    def createdAt(self) -> str | None:
        return iso(self._p.created_at)

    def updatedAt(self) -> str | None:
        return iso(self._p.updated_at)

    def publishedAt(self) -> str | None:
        return iso(self._p.created_at)

    def totalVariants(self) -> int:
        return len(self._p.variants)

    def hasOnlyDefaultVariant(self) -> bool:
        return self._p.has_only_default_variant

    def onlineStoreUrl(self) -> None:
        return None

    def _files(self) -> list[MediaFile]:
        shop = self._ctx.shop
        return [f for f in (shop.live_file(n) for n in self._p.media) if f is not None]

    def mediaCount(self) -> dict[str, Any]:
        return {"count": len(self._files()), "precision": "EXACT"}

    def featuredMedia(self) -> MediaImageView | None:
        files = self._files()
        return MediaImageView(self._ctx, files[0]) if files else None

    def featuredImage(self) -> ImageView | None:
        ready = [f for f in self._files() if f.status == READY]
        return ImageView(self._ctx, ready[0]) if ready else None

    def media(self, sortKey: str | None = None, query: str | None = None, **args: Any) -> dict[str, Any]:
        reject_extra(args, PAGE_ARGS, "Product.media")
        views = [MediaImageView(self._ctx, f, i) for i, f in enumerate(self._files())]
        if query:
            parsed = parse_query(query)
            keep = matcher(
                parsed,
                {
                    "media_type": SearchField(lambda v: "IMAGE"),
                    "status": SearchField(lambda v: v._f.status),
                    "id": SearchField(lambda v: v._f.num, "number"),
                },
                lambda v: v._f.alt,
            )
            views = [v for v in views if keep(v)]
            self._note_search("media", query, parsed)
        key = {"POSITION": lambda v: v._position, "ID": lambda v: v._num}.get(sortKey or "POSITION")
        if key is None:
            raise unsupported(f"sortKey {sortKey} of Product.media")
        views.sort(key=lambda v: (key(v), v._num))
        return build_connection(
            views, key, lambda v: v._num, args, max_page=self._ctx.max_page, bulk=self._ctx.bulk
        )

    def images(self, sortKey: str | None = None, **args: Any) -> dict[str, Any]:
        reject_extra(args, PAGE_ARGS, "Product.images")
        ready = [f for f in self._files() if f.status == READY]
        views = [(i, ImageView(self._ctx, f)) for i, f in enumerate(ready)]
        conn = build_connection(
            views,
            lambda pair: pair[0],
            lambda pair: pair[1]._f.image_num,
            args,
            max_page=self._ctx.max_page,
            bulk=self._ctx.bulk,
        )
        conn["nodes"] = [pair[1] for pair in conn["nodes"]]
        for edge in conn["edges"]:
            edge["node"] = edge["node"][1]
        return conn

    def variants(self, sortKey: str | None = None, **args: Any) -> dict[str, Any]:
        reject_extra(args, PAGE_ARGS, "Product.variants")
        views = [VariantView(self._ctx, self._p, v) for v in self._p.variants]
        keys = {"POSITION": lambda v: v._v.position, "ID": lambda v: v._num}
        return sorted_connection(self._ctx, views, sortKey or "POSITION", keys, "Product.variants", args)

    def _note_search(self, path: str, text: str, parsed: Any) -> None:
        ext = search_extension(path, text, parsed)
        if ext is not None:
            self._ctx.search.append(ext)
