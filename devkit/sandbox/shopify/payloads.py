"""Webhook bodies in Shopify's REST format (what ``products/update`` & co. POST to apps)."""

from __future__ import annotations

from typing import Any

from sandbox.shopify.gids import gid, iso_offset
from sandbox.shopify.media import seed_dimensions
from sandbox.shopify.state import READY, MediaFile, Product, ShopState


def cdn_url(base_url: str, shop: ShopState, f: MediaFile) -> str:
    """Where the CDN serves a file's bytes (changes ``?v=`` whenever the content is replaced)."""
    return f"{base_url}/{shop.domain}/cdn/files/{f.num}/{f.filename}?v={f.version}"


def dimensions(f: MediaFile) -> tuple[int | None, int | None]:
    """Pixel size of a READY file (predicted for seeded images that were never rendered)."""
    if f.width is None and f.seed is not None:
        size = seed_dimensions(f.seed)
        if size is not None:
            f.width, f.height = size
    return f.width, f.height


def _variant_ids(product: Product, f: MediaFile) -> list[int]:
    return [v.num for v in product.variants if v.media_num == f.num]


def product_payload(base_url: str, shop: ShopState, product: Product) -> dict[str, Any]:
    """The REST-format product webhooks carry (products/create, products/update)."""
    files = [shop.files[n] for n in product.media if n in shop.files]
    images: list[dict[str, Any]] = []
    media: list[dict[str, Any]] = []
    for position, f in enumerate(files, start=1):
        width, height = dimensions(f) if f.status == READY else (None, None)
        src = cdn_url(base_url, shop, f) if f.status == READY else None
        common = {
            "product_id": product.num,
            "position": position,
            "created_at": iso_offset(f.created_at),
            "updated_at": iso_offset(f.updated_at),
            "alt": f.alt or None,
            "variant_ids": _variant_ids(product, f),
        }
        media.append(
            {
                "id": f.num,
                "admin_graphql_api_id": gid("MediaImage", f.num),
                **common,
                "status": f.status,
                "media_content_type": "IMAGE",
                "preview_image": {"width": width, "height": height, "src": src, "status": f.status}
                if f.status == READY
                else None,
            }
        )
        if f.status == READY:
            images.append(
                {
                    "id": f.image_num,
                    "admin_graphql_api_id": gid("ProductImage", f.image_num),
                    **common,
                    "position": len(images) + 1,
                    "width": width,
                    "height": height,
                    "src": src,
                }
            )
    variants = [
        {
            "admin_graphql_api_id": gid("ProductVariant", v.num),
            "id": v.num,
            "product_id": product.num,
            "title": v.title,
            "sku": v.sku or "",
            "position": v.position,
            "price": v.price,
            "image_id": shop.files[v.media_num].image_num if v.media_num in shop.files else None,
            "created_at": iso_offset(v.created_at),
            "updated_at": iso_offset(v.updated_at),
            "option1": v.title,
        }
        for v in product.variants
    ]
    return {
        "admin_graphql_api_id": gid("Product", product.num),
        "id": product.num,
        "title": product.title,
        "handle": product.handle,
        "body_html": "",
        "vendor": product.vendor,
        "product_type": product.product_type,
        "status": product.status.lower(),
        "published_scope": "global",
        "tags": "",
        "template_suffix": None,
        "created_at": iso_offset(product.created_at),
        "updated_at": iso_offset(product.updated_at),
        "published_at": iso_offset(product.created_at),
        "variants": variants,
        "options": [{"name": "Title", "position": 1, "values": [v.title for v in product.variants]}],
        "images": images,
        "image": images[0] if images else None,
        "media": media,
        "variant_gids": [
            {"admin_graphql_api_id": gid("ProductVariant", v.num), "updated_at": iso_offset(v.updated_at)}
            for v in product.variants
        ],
    }


def product_deleted_payload(product_num: int) -> dict[str, Any]:
    return {"id": product_num}


def shop_payload(shop: ShopState) -> dict[str, Any]:
    """The shop object (app/uninstalled)."""
    return {
        "id": shop.num,
        "name": shop.name,
        "email": f"owner@{shop.domain}",
        "domain": shop.domain,
        "myshopify_domain": shop.domain,
        "country_code": "US",
        "currency": "USD",
        "plan_name": "basic",
        "created_at": iso_offset(shop.created_at),
    }


def compliance_payload(shop: ShopState, topic: str, customer_id: int | None) -> dict[str, Any]:
    """Bodies of customers/data_request, customers/redact and shop/redact."""
    base: dict[str, Any] = {"shop_id": shop.num, "shop_domain": shop.domain}
    customer = {"id": customer_id or 1, "email": "customer@example.com", "phone": "555-625-1199"}
    if topic == "customers/data_request":
        return {**base, "orders_requested": [], "customer": customer, "data_request": {"id": 9999}}
    if topic == "customers/redact":
        return {**base, "customer": customer, "orders_to_redact": []}
    return base
