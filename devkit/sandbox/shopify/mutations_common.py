"""Helpers shared by the mutation resolvers: Shopify's userErrors and id lookups."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sandbox.shopify.context import Ctx
from sandbox.shopify.gids import gid_num, parse_gid
from sandbox.shopify.state import MediaFile, Product

FILE_TYPES = ("MediaImage", "GenericFile", "Video", "Model3d", "ExternalVideo")
WRITE_FILES = ("write_files",)
WRITE_PRODUCTS = ("write_products",)
MAX_ALT = 512
MAX_VARIANT_MEDIA_PAIRS = 100


def user_error(field: list[str] | None, message: str, code: str | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"field": field, "message": message}
    if code is not None:
        err["code"] = code
    return err


def is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def file_for(ctx: Ctx, value: str) -> MediaFile | None:
    """The live file behind a file/media gid, or None."""
    parsed = parse_gid(value)
    if parsed is None or parsed[0] not in FILE_TYPES:
        return None
    return ctx.shop.live_file(parsed[1])


def product_ref(ctx: Ctx, value: str) -> Product | None:
    """The product behind a Product gid, or None."""
    num = gid_num(value, "Product")
    return ctx.shop.products.get(num) if num is not None else None
