"""What the sandbox's admin routes share: JSON errors, id parsing, look-ups and summaries."""

from __future__ import annotations

import base64
import binascii
import dataclasses
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, jsonify, request

from sandbox.seeds import photos
from sandbox.shopify.gids import gid, iso, parse_gid
from sandbox.shopify.media import file_bytes
from sandbox.shopify.payloads import cdn_url, dimensions
from sandbox.shopify.state import BulkOperation, MediaFile, Product, ShopState, WebhookSubscription

if TYPE_CHECKING:
    from sandbox.shopify.store import Sandbox


class AdminError(Exception):
    """An admin request that cannot be served: answered as JSON with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def number(value: str) -> int:
    parsed = parse_gid(value)
    if parsed is not None:
        return parsed[1]
    if value.isdigit():
        return int(value)
    raise AdminError(400, f"not an id: {value!r} (use a number or a gid://shopify/... id)")


def media_summary(
    sb: Sandbox, shop: ShopState, f: MediaFile, product: Product | None = None, render: bool = True
) -> dict[str, Any]:
    """What one file is now: status, bytes hash, size, where it is shown."""
    if render and (f.data is not None or f.seed is not None):
        file_bytes(f)
    width, height = dimensions(f)
    out: dict[str, Any] = {
        "id": gid("MediaImage", f.num),
        "image_id": gid("ProductImage", f.image_num),
        "filename": f.filename,
        "alt": f.alt,
        "status": f.status,
        "origin": f.origin,
        "app": f.app_key,
        "url": cdn_url(sb.base_url, shop, f),
        "sha256": f.sha256,
        "size": f.byte_size,
        "width": width,
        "height": height,
        "mime": f.mime,
        "version": f.version,
        "errors": [dataclasses.asdict(e) for e in f.errors],
        "products": [gid("Product", n) for n in f.products],
        "deleted": f.deleted,
        "created_at": iso(f.created_at),
        "updated_at": iso(f.updated_at),
    }
    if f.seed is not None:
        out["seed_kind"] = f.seed.kind
    if product is not None:
        out["position"] = product.media.index(f.num) if f.num in product.media else None
        out["variant_ids"] = [gid("ProductVariant", v.num) for v in product.variants if v.media_num == f.num]
    return out


def product_summary(sb: Sandbox, shop: ShopState, product: Product, render: bool = True) -> dict[str, Any]:
    return {
        "id": gid("Product", product.num),
        "key": product.key,
        "title": product.title,
        "handle": product.handle,
        "updated_at": iso(product.updated_at),
        "variants": [
            {
                "id": gid("ProductVariant", v.num),
                "title": v.title,
                "sku": v.sku,
                "media_id": gid("MediaImage", v.media_num) if v.media_num is not None else None,
            }
            for v in product.variants
        ],
        "media": [
            media_summary(sb, shop, shop.files[n], product, render) for n in product.media if n in shop.files
        ],
    }


def app_record(type_name: str, record: BulkOperation | WebhookSubscription, **details: Any) -> dict[str, Any]:
    """Admin view of something an app made: its gid, the app's key, then ``details``."""
    return {"id": gid(type_name, record.num), "app": record.app_key, **details}


def bulk_summary(op: BulkOperation) -> dict[str, Any]:
    """Admin view of a bulk operation."""
    return app_record(
        "BulkOperation",
        op,
        status=op.status,
        objects=op.object_count,
        error_code=op.error_code,
        query=op.query,
    )


def subscription_summary(sub: WebhookSubscription) -> dict[str, Any]:
    """Admin view of a webhook subscription."""
    return app_record(
        "WebhookSubscription", sub, topic=sub.topic, callback_url=sub.callback_url, failures=sub.failures
    )


def image_bytes(spec: dict[str, Any]) -> tuple[bytes, str]:
    """Bytes and filename of a merchant image: ``data`` (base64) or a synthetic ``kind`` + ``seed``."""
    if spec.get("data") is not None:
        try:
            data = base64.b64decode(spec["data"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise AdminError(400, f"data is not valid base64: {exc}") from exc
        return data, spec.get("filename") or "merchant-upload.jpg"
    kind = spec.get("kind", "on-white")
    try:
        photo = photos.render(kind, int(spec.get("seed", 0)))
    except ValueError as exc:
        raise AdminError(400, str(exc)) from exc
    return photo.data, spec.get("filename") or photo.filename


def admin_routes(name: str) -> Blueprint:
    """A blueprint under ``/__sandbox`` whose refusals answer as JSON."""
    bp = Blueprint(name, __name__, url_prefix="/__sandbox")

    @bp.errorhandler(AdminError)
    def admin_error(exc: AdminError) -> tuple[Response, int]:
        return jsonify({"error": str(exc)}), exc.status

    @bp.errorhandler(KeyError)
    def missing(exc: KeyError) -> tuple[Response, int]:
        return jsonify({"error": str(exc.args[0]) if exc.args else "not found"}), 404

    @bp.errorhandler(ValueError)
    def bad_value(exc: ValueError) -> tuple[Response, int]:
        return jsonify({"error": str(exc)}), 400

    return bp


def product_of(shop: ShopState, pid: str) -> Product:
    """The shop's product with that id (number or gid), or a 404."""
    product = shop.products.get(number(pid))
    if product is None:
        raise AdminError(404, f"no product {pid} in {shop.domain}")
    return product


def file_of(shop: ShopState, mid: str) -> MediaFile:
    """The shop's live file with that id (number or gid), or a 404."""
    f = shop.live_file(number(mid))
    if f is None:
        raise AdminError(404, f"no file {mid} in {shop.domain}")
    return f
