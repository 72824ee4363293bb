"""JSON shapes of the REST API: WooCommerce v3 products, variations, webhooks; WordPress media."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.woocommerce.media import image_size
from sandbox.woocommerce.models import Attachment, Product, Variation, Webhook
from sandbox.woocommerce.site import Site, gmt


def wc_date(dt: datetime | None) -> str | None:
    """``wc_rest_prepare_date_response``: ISO 8601 without a zone."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S") if dt is not None else None


def _dates(site: Site, prefix: str, dt: datetime) -> dict[str, str | None]:
    return {prefix: wc_date(site.local(dt)), f"{prefix}_gmt": wc_date(gmt(dt))}


def wc_url(site: Site, route: str) -> str:
    """Absolute URL of a ``wc/v3`` route."""
    return f"{site.home_url}/wp-json/wc/v3/{route}"


def image_json(site: Site, att: Attachment) -> dict[str, Any]:
    """One entry of a product's ``images`` (or a variation's ``image``)."""
    return {
        "id": att.id,
        **_dates(site, "date_created", att.created),
        **_dates(site, "date_modified", att.modified),
        "src": site.attachment_url(att),
        "name": att.title,
        "alt": att.alt,
    }


def product_json(site: Site, p: Product) -> dict[str, Any]:
    """A product as ``GET wc/v3/products/<id>`` shows it."""
    return {
        "id": p.id,
        "name": p.name,
        "slug": p.slug,
        "permalink": f"{site.home_url}/product/{p.slug}/",
        **_dates(site, "date_created", p.created),
        **_dates(site, "date_modified", p.modified),
        "type": p.type,
        "status": p.status,
        "featured": False,
        "catalog_visibility": "visible",
        "description": p.description,
        "short_description": p.short_description,
        "sku": p.sku,
        "price": p.regular_price,
        "regular_price": p.regular_price,
        "sale_price": "",
        "on_sale": False,
        "purchasable": bool(p.regular_price) or p.type == "variable",
        "virtual": False,
        "downloadable": False,
        "manage_stock": False,
        "stock_quantity": None,
        "stock_status": "instock",
        "parent_id": 0,
        "categories": [{"id": 15, "name": "Uncategorized", "slug": "uncategorized"}],
        "tags": [],
        "images": [image_json(site, a) for a in site.product_images(p)],
        "attributes": p.attributes,
        "default_attributes": [],
        "variations": list(p.variation_ids),
        "grouped_products": [],
        "menu_order": p.menu_order,
        "meta_data": [],
        "_links": {
            "self": [{"href": wc_url(site, f"products/{p.id}")}],
            "collection": [{"href": wc_url(site, "products")}],
        },
    }


def variation_image(site: Site, v: Variation, context: str = "view") -> dict[str, Any] | None:
    """A variation's ``image`` (null when it has none or the attachment is gone).

    ``WC_Product_Variation::get_image_id('view')`` falls back to the parent's featured image, so
    in the ``view`` context a variation without its own image shows the parent's; ``edit`` does not.
    """
    image_id = v.image_id
    if not image_id and context == "view":
        parent = site.products.get(v.parent_id)
        image_id = parent.image_id if parent else 0
    att = site.attachments.get(image_id) if image_id else None
    return image_json(site, att) if att else None


def variation_json(site: Site, v: Variation, context: str = "view") -> dict[str, Any]:
    """A variation as ``GET wc/v3/products/<pid>/variations/<id>`` shows it."""
    parent = site.products.get(v.parent_id)
    return {
        "id": v.id,
        **_dates(site, "date_created", v.created),
        **_dates(site, "date_modified", v.modified),
        "description": v.description,
        "permalink": f"{site.home_url}/product/{parent.slug if parent else ''}/?attribute_option=",
        "sku": v.sku,
        "price": v.regular_price,
        "regular_price": v.regular_price,
        "sale_price": "",
        "on_sale": False,
        "status": v.status,
        "purchasable": bool(v.regular_price),
        "virtual": False,
        "downloadable": False,
        "manage_stock": False,
        "stock_quantity": None,
        "stock_status": "instock",
        "image": variation_image(site, v, context),
        "attributes": v.attributes,
        "menu_order": v.menu_order,
        "meta_data": [],
        "_links": {
            "self": [{"href": wc_url(site, f"products/{v.parent_id}/variations/{v.id}")}],
            "collection": [{"href": wc_url(site, f"products/{v.parent_id}/variations")}],
            "up": [{"href": wc_url(site, f"products/{v.parent_id}")}],
        },
    }


def variation_as_product_json(site: Site, v: Variation) -> dict[str, Any]:
    """A variation read through ``products/<id>`` (and in product.* webhook payloads): type "variation"."""
    parent = site.products.get(v.parent_id)
    image = variation_image(site, v)
    return {
        "id": v.id,
        "name": f"{parent.name if parent else ''} - {', '.join(a['option'] for a in v.attributes)}",
        "slug": "",
        **_dates(site, "date_created", v.created),
        **_dates(site, "date_modified", v.modified),
        "type": "variation",
        "status": v.status,
        "sku": v.sku,
        "price": v.regular_price,
        "regular_price": v.regular_price,
        "parent_id": v.parent_id,
        "images": [image] if image else [],
        "attributes": v.attributes,
        "variations": [],
        "_links": {
            "self": [{"href": wc_url(site, f"products/{v.id}")}],
            "collection": [{"href": wc_url(site, "products")}],
            "up": [{"href": wc_url(site, f"products/{v.parent_id}")}],
        },
    }


def webhook_json(site: Site, w: Webhook) -> dict[str, Any]:
    """A webhook as ``GET wc/v3/webhooks/<id>`` shows it (the secret is never shown)."""
    return {
        "id": w.id,
        "name": w.name,
        "status": w.status,
        "topic": w.topic,
        "resource": w.resource,
        "event": w.event,
        "hooks": _hooks(w.topic),
        "delivery_url": w.delivery_url,
        **_dates(site, "date_created", w.created),
        **_dates(site, "date_modified", w.modified),
        "_links": {
            "self": [{"href": wc_url(site, f"webhooks/{w.id}")}],
            "collection": [{"href": wc_url(site, "webhooks")}],
        },
    }


def _hooks(topic: str) -> list[str]:
    return {
        "product.created": ["woocommerce_process_product_meta", "woocommerce_new_product"],
        "product.updated": ["woocommerce_process_product_meta", "woocommerce_update_product"],
        "product.deleted": ["wp_trash_post"],
        "product.restored": ["untrashed_post"],
    }.get(topic, [])


def media_json(site: Site, a: Attachment) -> dict[str, Any]:
    """An attachment as ``GET wp/v2/media/<id>`` shows it (context view)."""
    url = site.attachment_url(a)
    name = a.file.rsplit("/", 1)[-1]
    data = a.bytes()
    if a.width is None:
        a.width, a.height = image_size(data) or (None, None)
    details: dict[str, Any] = {
        "width": a.width,
        "height": a.height,
        "file": a.file,
        "filesize": len(data),
        "sizes": {
            "full": {
                "file": name,
                "width": a.width,
                "height": a.height,
                "mime_type": a.mime,
                "source_url": url,
            }
        },
        "image_meta": {},
    }
    if a.original_file:
        details["original_image"] = a.original_file.rsplit("/", 1)[-1]
    return {
        "id": a.id,
        "date": wc_date(site.local(a.created)),
        "date_gmt": wc_date(gmt(a.created)),
        "guid": {"rendered": url},
        "modified": wc_date(site.local(a.modified)),
        "modified_gmt": wc_date(gmt(a.modified)),
        "slug": name.rsplit(".", 1)[0].lower(),
        "status": "inherit",
        "type": "attachment",
        "link": f"{site.home_url}/?attachment_id={a.id}",
        "title": {"rendered": a.title},
        "author": a.author,
        "comment_status": "open",
        "ping_status": "closed",
        "template": "",
        "meta": [],
        "description": {"rendered": ""},
        "caption": {"rendered": f"<p>{a.caption}</p>\n" if a.caption else ""},
        "alt_text": a.alt,
        "media_type": "image" if a.mime.startswith("image/") else "file",
        "mime_type": a.mime,
        "media_details": details,
        "post": a.parent or None,
        "source_url": url,
        "_links": {
            "self": [{"href": f"{site.home_url}/wp-json/wp/v2/media/{a.id}"}],
            "collection": [{"href": f"{site.home_url}/wp-json/wp/v2/media"}],
        },
    }
