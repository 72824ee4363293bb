"""Root ``QueryRoot`` fields the sandbox answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.shopify.context import Ctx, invalid_id, unsupported
from sandbox.shopify.gids import gid, gid_num, parse_gid
from sandbox.shopify.search import SearchField, matcher, parse_query, search_extension
from sandbox.shopify.state import MediaFile, Product
from sandbox.shopify.views import (
    PAGE_ARGS,
    ROOT,
    MediaImageView,
    ProductView,
    VariantView,
    reject_extra,
    sorted_connection,
)
from sandbox.shopify.views_shop import (
    AppInstallationView,
    BulkOperationView,
    ShopView,
    WebhookSubscriptionView,
)

READ_PRODUCTS = ("read_products", "write_products")
READ_FILES = ("read_files", "write_files", "read_products", "write_products")


def _note_search(ctx: Ctx, path: str, text: str | None, parsed: Any) -> None:
    ext = search_extension(path, text, parsed)
    if ext is not None:
        ctx.search.append(ext)


PRODUCT_SEARCH = {
    "updated_at": SearchField(lambda p: p.updated_at, "time"),
    "created_at": SearchField(lambda p: p.created_at, "time"),
    "title": SearchField(lambda p: p.title),
    "handle": SearchField(lambda p: p.handle),
    "status": SearchField(lambda p: p.status),
    "vendor": SearchField(lambda p: p.vendor),
    "product_type": SearchField(lambda p: p.product_type),
    "id": SearchField(lambda p: p.num, "number"),
    "sku": SearchField(lambda p: [var.sku for var in p.variants if var.sku], "any"),
}


def _matching_products(ctx: Ctx, query: str | None, path: str) -> list[Product]:
    items: list[Product] = list(ctx.shop.products.values())
    if query:
        parsed = parse_query(query)
        keep = matcher(parsed, PRODUCT_SEARCH, lambda p: p.title)
        items = [p for p in items if keep(p)]
        _note_search(ctx, path, query, parsed)
    return items


def products(ctx: Ctx, sortKey: str | None = None, query: str | None = None, **args: Any) -> dict[str, Any]:
    ctx.require("products", *READ_PRODUCTS)
    reject_extra(args, PAGE_ARGS, "products")
    items = _matching_products(ctx, query, "products")
    keys = {
        "ID": lambda p: p.num,
        "UPDATED_AT": lambda p: p.updated_at,
        "CREATED_AT": lambda p: p.created_at,
        "TITLE": lambda p: p.title.lower(),
    }
    return sorted_connection(
        ctx, items, sortKey, keys, "products", args, num=lambda p: p.num, wrap=lambda p: ProductView(ctx, p)
    )


def products_count(
    ctx: Ctx, query: str | None = None, savedSearchId: str | None = None, **args: Any
) -> dict[str, Any]:
    """``productsCount``: exact up to ``limit`` (default 10 000, ``null`` for no limit)."""
    ctx.require("productsCount", *READ_PRODUCTS)
    if savedSearchId is not None:
        raise unsupported("The 'savedSearchId' argument of productsCount")
    count = len(_matching_products(ctx, query, "productsCount"))
    limit = args.get("limit", 10_000)  # an explicit null means no limit
    if limit is not None and count > limit:
        return {"count": limit, "precision": "AT_LEAST"}
    return {"count": count, "precision": "EXACT"}


def product_variants(
    ctx: Ctx, sortKey: str | None = None, query: str | None = None, **args: Any
) -> dict[str, Any]:
    ctx.require("productVariants", *READ_PRODUCTS)
    reject_extra(args, PAGE_ARGS, "productVariants")
    pairs = [(p, v) for p in ctx.shop.products.values() for v in p.variants]
    if query:
        parsed = parse_query(query)
        keep = matcher(
            parsed,
            {
                "product_id": SearchField(lambda pv: pv[0].num, "number"),
                "sku": SearchField(lambda pv: pv[1].sku),
                "title": SearchField(lambda pv: pv[1].title),
                "id": SearchField(lambda pv: pv[1].num, "number"),
                "updated_at": SearchField(lambda pv: pv[1].updated_at, "time"),
            },
            lambda pv: pv[1].title,
        )
        pairs = [pv for pv in pairs if keep(pv)]
        _note_search(ctx, "productVariants", query, parsed)
    keys = {
        "ID": lambda pv: pv[1].num,
        "POSITION": lambda pv: pv[1].position,
        "TITLE": lambda pv: pv[1].title.lower(),
        "SKU": lambda pv: pv[1].sku or "",
    }
    return sorted_connection(
        ctx,
        pairs,
        sortKey,
        keys,
        "productVariants",
        args,
        num=lambda pv: pv[1].num,
        wrap=lambda pv: VariantView(ctx, pv[0], pv[1]),
    )


def product(ctx: Ctx, id: str) -> ProductView | None:
    ctx.require("product", *READ_PRODUCTS)
    num = _num_or_error(id, "Product")
    p = ctx.shop.products.get(num) if num is not None else None
    return ProductView(ctx, p) if p is not None else None


def product_variant(ctx: Ctx, id: str) -> VariantView | None:
    ctx.require("productVariant", *READ_PRODUCTS)
    num = _num_or_error(id, "ProductVariant")
    p = ctx.shop.product_of_variant(num) if num is not None else None
    v = ctx.shop.variant(num) if num is not None else None
    return VariantView(ctx, p, v) if p is not None and v is not None else None


def _num_or_error(value: str, type_name: str) -> int | None:
    if parse_gid(value) is None:
        raise invalid_id(value)
    return gid_num(value, type_name)


def resolve_node(ctx: Ctx, value: str) -> Any:
    """The object behind any global id this sandbox knows (None when absent or foreign)."""
    parsed = parse_gid(value)
    if parsed is None:
        raise invalid_id(value)
    type_name, num = parsed
    shop = ctx.shop
    if type_name == "Product":
        ctx.require("node", *READ_PRODUCTS)
        p = shop.products.get(num)
        return ProductView(ctx, p) if p else None
    if type_name == "ProductVariant":
        ctx.require("node", *READ_PRODUCTS)
        p, v = shop.product_of_variant(num), shop.variant(num)
        return VariantView(ctx, p, v) if p and v else None
    if type_name == "MediaImage":
        ctx.require("node", *READ_FILES)
        f = shop.live_file(num)
        return MediaImageView(ctx, f) if f else None
    if type_name == "Job":
        return job(ctx, value)
    if type_name == "BulkOperation":
        op = shop.bulk_operations.get(num)
        return BulkOperationView(ctx, op) if op and op.app_key == ctx.app_key else None
    if type_name == "WebhookSubscription":
        sub = shop.subscriptions.get(num)
        return WebhookSubscriptionView(ctx, sub) if sub and sub.app_key == ctx.app_key else None
    if type_name == "Shop":
        return ShopView(ctx) if num == shop.num else None
    if type_name == "AppInstallation":
        return AppInstallationView(ctx) if num == shop.num else None
    return None


def node(ctx: Ctx, id: str) -> Any:
    return resolve_node(ctx, id)


def nodes(ctx: Ctx, ids: list[str]) -> list[Any]:
    return [resolve_node(ctx, i) for i in ids]


def files(ctx: Ctx, sortKey: str | None = None, query: str | None = None, **args: Any) -> dict[str, Any]:
    ctx.require("files", "read_files", "write_files")
    reject_extra(args, PAGE_ARGS, "files")
    items: list[MediaFile] = [f for f in ctx.shop.files.values() if not f.deleted]
    if query:
        parsed = parse_query(query)
        keep = matcher(
            parsed,
            {
                "filename": SearchField(lambda f: f.filename),
                "media_type": SearchField(lambda f: "IMAGE"),
                "status": SearchField(lambda f: f.status),
                "id": SearchField(lambda f: f.num, "number"),
                "product_id": SearchField(lambda f: [str(n) for n in f.products], "any"),
                "used_in": SearchField(lambda f: ["product"] if f.products else ["none"], "any"),
                "created_at": SearchField(lambda f: f.created_at, "time"),
                "updated_at": SearchField(lambda f: f.updated_at, "time"),
            },
            lambda f: f.filename,
        )
        items = [f for f in items if keep(f)]
        _note_search(ctx, "files", query, parsed)
    keys = {
        "ID": lambda f: f.num,
        "CREATED_AT": lambda f: f.created_at,
        "UPDATED_AT": lambda f: f.updated_at,
        "FILENAME": lambda f: f.filename.lower(),
        "ORIGINAL_UPLOAD_SIZE": lambda f: f.byte_size or 0,
    }
    return sorted_connection(
        ctx, items, sortKey, keys, "files", args, num=lambda f: f.num, wrap=lambda f: MediaImageView(ctx, f)
    )


def job(ctx: Ctx, id: str) -> dict[str, Any] | None:
    num = _num_or_error(id, "Job")
    found = ctx.shop.jobs.get(num) if num is not None else None
    if found is None:
        return None
    return {"id": gid("Job", found.num), "done": found.done, "query": ROOT}


def current_bulk_operation(ctx: Ctx, type: str | None = None) -> BulkOperationView | None:
    if type not in (None, "QUERY"):
        raise unsupported("Bulk mutation operations (currentBulkOperation(type: MUTATION))")
    mine = [op for op in ctx.shop.bulk_operations.values() if op.app_key == ctx.app_key]
    return BulkOperationView(ctx, mine[-1]) if mine else None


def webhook_subscriptions(
    ctx: Ctx,
    sortKey: str | None = None,
    topics: list[str] | None = None,
    callbackUrl: str | None = None,
    format: str | None = None,
    query: str | None = None,
    **args: Any,
) -> dict[str, Any]:
    reject_extra({**args, "query": query}, PAGE_ARGS, "webhookSubscriptions")
    subs = [s for s in ctx.shop.subscriptions.values() if s.app_key == ctx.app_key]
    if topics:
        subs = [s for s in subs if s.topic in topics]
    if callbackUrl:
        subs = [s for s in subs if s.callback_url == callbackUrl]
    if format:
        subs = [s for s in subs if s.format == format]
    views = [WebhookSubscriptionView(ctx, s) for s in subs]
    keys = {"ID": lambda v: v._num, "CREATED_AT": lambda v: v._s.created_at}
    return sorted_connection(ctx, views, sortKey, keys, "webhookSubscriptions", args)


def webhook_subscription(ctx: Ctx, id: str) -> WebhookSubscriptionView | None:
    num = _num_or_error(id, "WebhookSubscription")
    sub = ctx.shop.subscriptions.get(num) if num is not None else None
    return WebhookSubscriptionView(ctx, sub) if sub and sub.app_key == ctx.app_key else None


def shop(ctx: Ctx) -> ShopView:
    return ShopView(ctx)


def app_installation(ctx: Ctx, id: str | None = None) -> AppInstallationView | None:
    if id is not None and gid_num(id, "AppInstallation") != ctx.shop.num:
        return None
    return AppInstallationView(ctx)


def current_app_installation(ctx: Ctx) -> AppInstallationView:
    return AppInstallationView(ctx)


QUERY_FIELDS: dict[str, Callable[..., Any]] = {
    "products": products,
    "product": product,
    "productVariant": product_variant,
    "productVariants": product_variants,
    "productsCount": products_count,
    "node": node,
    "nodes": nodes,
    "files": files,
    "job": job,
    "currentBulkOperation": current_bulk_operation,
    "webhookSubscriptions": webhook_subscriptions,
    "webhookSubscription": webhook_subscription,
    "shop": shop,
    "appInstallation": app_installation,
    "currentAppInstallation": current_app_installation,
}
