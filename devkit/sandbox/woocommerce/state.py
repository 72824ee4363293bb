"""What a store holds, for tests and the demo (served under ``/__sandbox``, never the API)."""

from __future__ import annotations

import hashlib
from typing import Any

from sandbox.woocommerce.models import Attachment, Product
from sandbox.woocommerce.serialize import wc_date
from sandbox.woocommerce.site import Site, gmt


def sha256(data: bytes) -> str:
    """Hex digest."""
    return hashlib.sha256(data).hexdigest()


def attachment_state(site: Site, att: Attachment, hashes: bool = True) -> dict[str, Any]:
    """One library item: ids, file names, where it came from and (optionally) the hash of its bytes."""
    out: dict[str, Any] = {
        "id": att.id,
        "file": att.file,
        "original_file": att.original_file,
        "src": site.attachment_url(att),
        "mime": att.mime,
        "title": att.title,
        "alt": att.alt,
        "parent": att.parent,
        "via": att.via,
        "kind": att.seed.kind if att.seed else None,
        "date_created_gmt": wc_date(gmt(att.created)),
    }
    if hashes:
        out["sha256"] = sha256(att.bytes())
        out["original_sha256"] = sha256(att.original_data) if att.original_data is not None else out["sha256"]
    return out


def product_state(site: Site, product: Product, hashes: bool = True) -> dict[str, Any]:
    """What the product shows: images in order (with positions) and each variation's image."""
    with site.lock:
        ids = product.image_ids()
        atts = {i: site.attachments.get(i) for i in ids}
        variations = [site.variations[v] for v in product.variation_ids if v in site.variations]
        images = []
        shown = [a for a in (atts[i] for i in ids) if a is not None]
        for position, shown_att in enumerate(shown):
            images.append({"position": position, **attachment_state(site, shown_att, hashes=False)})
        missing = [i for i in ids if atts[i] is None]
        var_rows = [
            {
                "id": v.id,
                "sku": v.sku,
                "attributes": v.attributes,
                "image_id": v.image_id or None,
                "image_exists": v.image_id in site.attachments if v.image_id else None,
            }
            for v in variations
        ]
        out: dict[str, Any] = {
            "id": product.id,
            "name": product.name,
            "type": product.type,
            "status": product.status,
            "date_modified_gmt": wc_date(gmt(product.modified)),
            "image_ids": [img["id"] for img in images],
            "missing_image_ids": missing,
            "images": images,
            "variations": var_rows,
        }
    if hashes:
        by_id = {img["id"]: img for img in images}
        for img in images:
            att = atts[img["id"]]
            if att is not None:
                img["sha256"] = sha256(att.bytes())
        for row in var_rows:
            if row["image_id"] in by_id:
                row["image_sha256"] = by_id[row["image_id"]]["sha256"]
    return out


def site_summary(site: Site) -> dict[str, Any]:
    """Counts and URLs of a site."""
    with site.lock:
        return {
            "site": site.name,
            "url": site.home_url,
            "api_url": f"{site.home_url}/wp-json/wc/v3",
            "products": sum(1 for p in site.products.values() if p.status != "trash"),
            "variations": len(site.variations),
            "attachments": len(site.attachments),
            "uploads": len(site.uploads),
            "webhooks": len(site.webhooks),
        }


def webhooks_state(site: Site) -> list[dict[str, Any]]:
    """Webhooks with what the API hides: secret and failure count, plus the pings sent."""
    with site.lock:
        return [
            {
                "id": h.id,
                "name": h.name,
                "topic": h.topic,
                "status": h.status,
                "delivery_url": h.delivery_url,
                "secret": h.secret,
                "failure_count": h.failure_count,
                "pings": [p for p in site.pings if p["webhook_id"] == h.id],
            }
            for h in site.webhooks.values()
        ]
