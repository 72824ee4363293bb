"""The sandbox's own admin routes under ``/__sandbox`` — never part of the Shopify API surface.

Tests and the demo use them to create shops, issue tokens as if installed, look at what a
store shows now and at every upload and webhook delivery, play the merchant (edit products and
images so drift can happen), inject faults and finish delayed work at once.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, jsonify, request

from sandbox.seeds import photos
from sandbox.shopify import files
from sandbox.shopify.config import DEFAULT_SCOPES, AppConfig
from sandbox.shopify.gids import gid, iso, parse_gid
from sandbox.shopify.media import file_bytes, guess_mime
from sandbox.shopify.payloads import cdn_url, compliance_payload, dimensions, product_payload, shop_payload
from sandbox.shopify.state import BulkOperation, MediaFile, Product, ShopState, Variant, WebhookSubscription
from sandbox.shopify.uploads import staged_summary
from sandbox.shopify.webhooks import COMPLIANCE_TOPICS

if TYPE_CHECKING:
    from sandbox.shopify.store import Sandbox


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _num(value: str) -> int:
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


def _app_record(
    type_name: str, record: BulkOperation | WebhookSubscription, **details: Any
) -> dict[str, Any]:
    """Admin view of something an app made: its gid, the app's key, then ``details``."""
    return {"id": gid(type_name, record.num), "app": record.app_key, **details}


def bulk_summary(op: BulkOperation) -> dict[str, Any]:
    """Admin view of a bulk operation."""
    return _app_record(
        "BulkOperation",
        op,
        status=op.status,
        objects=op.object_count,
        error_code=op.error_code,
        query=op.query,
    )


def subscription_summary(sub: WebhookSubscription) -> dict[str, Any]:
    """Admin view of a webhook subscription."""
    return _app_record(
        "WebhookSubscription", sub, topic=sub.topic, callback_url=sub.callback_url, failures=sub.failures
    )


def _image_bytes(spec: dict[str, Any]) -> tuple[bytes, str]:
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


def admin_blueprint(sb: Sandbox) -> Blueprint:
    bp = Blueprint("shopify_admin", __name__, url_prefix="/__sandbox")

    @bp.errorhandler(AdminError)
    def admin_error(exc: AdminError) -> tuple[Response, int]:
        return jsonify({"error": str(exc)}), exc.status

    @bp.errorhandler(KeyError)
    def missing(exc: KeyError) -> tuple[Response, int]:
        return jsonify({"error": str(exc.args[0]) if exc.args else "not found"}), 404

    @bp.errorhandler(ValueError)
    def bad_value(exc: ValueError) -> tuple[Response, int]:
        return jsonify({"error": str(exc)}), 400

    def shop_of(name: str) -> ShopState:
        return sb.shop_or_error(name)

    def product_of(shop: ShopState, pid: str) -> Product:
        product = shop.products.get(_num(pid))
        if product is None:
            raise AdminError(404, f"no product {pid} in {shop.domain}")
        return product

    def file_of(shop: ShopState, mid: str) -> MediaFile:
        f = shop.live_file(_num(mid))
        if f is None:
            raise AdminError(404, f"no file {mid} in {shop.domain}")
        return f

    def app_key_of(body: dict[str, Any]) -> str:
        key = body.get("api_key") or request.args.get("api_key") or sb.default_app().api_key
        if sb.app(key) is None:
            raise AdminError(404, f"no app with api_key {key!r}; register it with POST /__sandbox/apps")
        return key

    # --- sandbox-wide ------------------------------------------------------------------

    @bp.get("/health")
    def health() -> Response:
        return jsonify({"ok": True, "shops": len(sb.state.shops), "pending": sb.scheduler.pending()})

    @bp.get("/settings")
    def settings() -> Response:
        cfg = dataclasses.asdict(sb.config)
        cfg.pop("apps", None)
        cfg.pop("shops", None)
        cfg["faults"] = sb.faults.config.as_dict()
        return jsonify(cfg)

    @bp.patch("/settings")
    def update_settings() -> Response:
        sb.update_settings(**_body())
        return settings()

    @bp.get("/faults")
    def faults() -> Response:
        return jsonify({**sb.faults.config.as_dict(), "injected": dict(sb.faults.injected)})

    @bp.put("/faults")
    def set_faults() -> Response:
        sb.faults.update(**_body())
        return faults()

    @bp.post("/run-pending")
    def run_pending() -> Response:
        return jsonify(sb.run_pending())

    @bp.get("/apps")
    def apps() -> Response:
        return jsonify([{**dataclasses.asdict(a), "api_secret": "***"} for a in sb.apps.values()])

    @bp.post("/apps")
    def add_app() -> tuple[Response, int]:
        body = _body()
        if not body.get("api_key") or not body.get("api_secret"):
            raise AdminError(400, "api_key and api_secret are required")
        app = sb.register_app(
            AppConfig(
                body["api_key"],
                body["api_secret"],
                name=body.get("name", "Image Connector"),
                redirect_urls=tuple(body.get("redirect_urls") or ()),
                compliance_url=body.get("compliance_url"),
            )
        )
        return jsonify({**dataclasses.asdict(app), "api_secret": "***"}), 201

    @bp.post("/deliveries/<int:delivery_id>/redeliver")
    def redeliver(delivery_id: int) -> tuple[Response, int]:
        delivery = sb.webhooks.redeliver(delivery_id)
        if delivery is None:
            raise AdminError(404, f"no sent delivery {delivery_id} to repeat")
        return jsonify(delivery.as_dict()), 202

    # --- shops ---------------------------------------------------------------------------

    @bp.get("/shops")
    def shops() -> Response:
        return jsonify([shop_info(s) for s in sb.state.shops.values()])

    def shop_info(shop: ShopState) -> dict[str, Any]:
        return {
            "shop": shop.domain,
            "id": gid("Shop", shop.num),
            "seed": shop.seed,
            "profile": shop.profile,
            "products": len(shop.products),
            "files": sum(1 for f in shop.files.values() if not f.deleted),
            "installed_apps": {k: sorted(v.scopes) for k, v in shop.installations.items()},
            "base_url": f"{sb.base_url}/{shop.domain}",
            "graphql_url": f"{sb.base_url}/{shop.domain}/admin/api/{sb.config.api_versions[0]}/graphql.json",
        }

    @bp.post("/shops")
    def create_shop() -> tuple[Response, int]:
        sb.remember_base_url(request.host_url)
        body = _body()
        if not body.get("shop"):
            raise AdminError(400, "shop is required (e.g. 'demo' or 'demo.myshopify.com')")
        shop = sb.create_shop(
            body["shop"], int(body.get("seed", 1)), int(body.get("size", 20)), body.get("profile", "mixed")
        )
        return jsonify(shop_info(shop)), 201

    @bp.get("/shops/<shop_name>")
    def get_shop(shop_name: str) -> Response:
        return jsonify(shop_info(shop_of(shop_name)))

    @bp.delete("/shops/<shop_name>")
    def delete_shop(shop_name: str) -> Response:
        shop = shop_of(shop_name)
        with sb.state.lock:
            sb.state.shops.pop(shop.domain, None)
        return jsonify({"deleted": shop.domain})

    @bp.post("/shops/<shop_name>/tokens")
    def tokens(shop_name: str) -> tuple[Response, int]:
        shop, body = shop_of(shop_name), _body()
        key = app_key_of(body)
        scopes = frozenset(body.get("scopes") or DEFAULT_SCOPES)
        sb.install(shop, key, scopes)
        answer = sb.issue_tokens(
            shop,
            key,
            scopes,
            expiring=bool(body.get("expiring", True)),
            access_ttl=body.get("access_ttl"),
            refresh_ttl=body.get("refresh_ttl"),
        )
        return jsonify(answer), 201

    @bp.post("/shops/<shop_name>/tokens/expire")
    def expire(shop_name: str) -> Response:
        shop, body = shop_of(shop_name), _body()
        count = sb.expire_tokens(shop, body.get("api_key"), body.get("kind", "access"))
        return jsonify({"expired": count})

    @bp.post("/shops/<shop_name>/uninstall")
    def uninstall(shop_name: str) -> Response:
        shop, body = shop_of(shop_name), _body()
        return jsonify({"webhooks_sent": sb.uninstall(shop, app_key_of(body))})

    @bp.get("/shops/<shop_name>/throttle")
    def throttle(shop_name: str) -> Response:
        shop = shop_of(shop_name)
        return jsonify(sb.buckets.get(shop.domain, app_key_of({})).status().as_dict())

    @bp.put("/shops/<shop_name>/throttle")
    def set_throttle(shop_name: str) -> Response:
        shop, body = shop_of(shop_name), _body()
        bucket = sb.buckets.get(shop.domain, app_key_of(body))
        bucket.set_level(float(body.get("currently_available", 0)))
        return jsonify(bucket.status().as_dict())

    @bp.get("/shops/<shop_name>/api-log")
    def api_log(shop_name: str) -> Response:
        return jsonify(list(shop_of(shop_name).api_log))

    # --- inspection ----------------------------------------------------------------------

    @bp.get("/shops/<shop_name>/products")
    def products(shop_name: str) -> Response:
        shop = shop_of(shop_name)
        offset, limit = int(request.args.get("offset", 0)), int(request.args.get("limit", 100))
        with sb.state.lock:
            chosen = list(shop.products.values())[offset : offset + limit]
            render = request.args.get("render", "0") == "1"
            return jsonify([product_summary(sb, shop, p, render) for p in chosen])

    @bp.get("/shops/<shop_name>/products/<pid>")
    def product(shop_name: str, pid: str) -> Response:
        shop = shop_of(shop_name)
        with sb.state.lock:
            return jsonify(product_summary(sb, shop, product_of(shop, pid)))

    @bp.get("/shops/<shop_name>/files")
    def all_files(shop_name: str) -> Response:
        shop = shop_of(shop_name)
        render = request.args.get("render", "0") == "1"
        include_seeded = request.args.get("seeded", "0") == "1"
        with sb.state.lock:
            chosen = [f for f in shop.files.values() if include_seeded or f.origin != "seed"]
            return jsonify([media_summary(sb, shop, f, None, render) for f in chosen])

    @bp.get("/shops/<shop_name>/uploads")
    def uploads(shop_name: str) -> Response:
        return jsonify(list(shop_of(shop_name).uploads))

    @bp.get("/shops/<shop_name>/staged")
    def staged(shop_name: str) -> Response:
        return jsonify([staged_summary(t) for t in shop_of(shop_name).staged.values()])

    @bp.get("/shops/<shop_name>/bulk")
    def bulk_ops(shop_name: str) -> Response:
        return jsonify([bulk_summary(op) for op in shop_of(shop_name).bulk_operations.values()])

    @bp.get("/shops/<shop_name>/webhooks")
    def subscriptions(shop_name: str) -> Response:
        return jsonify([subscription_summary(sub) for sub in shop_of(shop_name).subscriptions.values()])

    @bp.get("/shops/<shop_name>/deliveries")
    def deliveries(shop_name: str) -> Response:
        shop = shop_of(shop_name)
        topic = request.args.get("topic")
        chosen = [
            d.as_dict()
            for d in sb.outbox.deliveries
            if d.meta.get("shop") == shop.domain and (topic is None or d.meta.get("topic") == topic)
        ]
        return jsonify(chosen)

    @bp.post("/shops/<shop_name>/webhooks/trigger")
    def trigger(shop_name: str) -> tuple[Response, int]:
        shop, body = shop_of(shop_name), _body()
        topic = body.get("topic", "")
        if topic in COMPLIANCE_TOPICS:
            key = app_key_of(body)
            payload = compliance_payload(shop, topic, body.get("customer_id"))
            if not sb.webhooks.emit_compliance(shop, topic, payload, key):
                raise AdminError(409, f"app {key} has no compliance_url configured")
            return jsonify({"sent": 1}), 202
        if topic.startswith("products/"):
            if not body.get("product_id"):
                raise AdminError(400, "product_id is required for product topics")
            with sb.state.lock:
                target = product_of(shop, str(body["product_id"]))
                payload = product_payload(sb.base_url, shop, target)
        elif topic == "app/uninstalled":
            payload = shop_payload(shop)
        else:
            raise AdminError(400, f"unsupported topic {topic!r}")
        return jsonify({"sent": sb.webhooks.emit(shop, topic, payload, body.get("api_key"))}), 202

    # --- the merchant ----------------------------------------------------------------------

    def add_image(shop: ShopState, product: Product, spec: dict[str, Any]) -> MediaFile:
        data, filename = _image_bytes(spec)
        f = files.create_file(
            sb,
            shop,
            f"admin://merchant/{filename}",
            files.unique_filename(shop, filename),
            spec.get("alt") or "",
            "merchant",
            None,
            data=data,
        )
        f.mime = guess_mime(filename)
        files.attach(shop, f, product)
        if spec.get("position") is not None:
            files.apply_moves(product, [(f.num, int(spec["position"]))])
        if spec.get("ready", True):
            files.process_now(sb, shop, f)
        return f

    def merchant_edit(
        shop: ShopState, pid: str, edit: Callable[[Product], None], render: bool = False
    ) -> Response:
        """Apply a merchant's ``edit`` to a product, tell the apps, and show the product as it is now."""
        with sb.state.lock:
            product = product_of(shop, pid)
            edit(product)
        sb.product_changed(shop, product)
        with sb.state.lock:
            return jsonify(product_summary(sb, shop, product, render))

    @bp.post("/shops/<shop_name>/products")
    def create_product(shop_name: str) -> tuple[Response, int]:
        shop, body = shop_of(shop_name), _body()
        now = time.time()
        with sb.state.lock:
            handle = body.get("handle") or "-".join(str(body.get("title", "product")).lower().split())
            product = Product(sb.state.next_id(), body.get("title", "New product"), handle, now, now)
            for position, title in enumerate(body.get("variants") or ["Default Title"], start=1):
                variant = Variant(sb.state.next_id(), title, None, position, now, now)
                product.variants.append(variant)
                shop.variants[variant.num] = product.num
            shop.products[product.num] = product
            for spec in body.get("images") or []:
                add_image(shop, product, {**spec, "ready": True})
        sb.product_changed(shop, product, "products/create")
        with sb.state.lock:
            return jsonify(product_summary(sb, shop, product)), 201

    @bp.patch("/shops/<shop_name>/products/<pid>")
    def edit_product(shop_name: str, pid: str) -> Response:
        body = _body()

        def retitle(product: Product) -> None:
            if "title" in body:
                product.title = body["title"]

        return merchant_edit(shop_of(shop_name), pid, retitle, render=True)

    @bp.delete("/shops/<shop_name>/products/<pid>")
    def delete_product(shop_name: str, pid: str) -> Response:
        shop = shop_of(shop_name)
        with sb.state.lock:
            product = product_of(shop, pid)
        sb.product_deleted(shop, product)
        return jsonify({"deleted": gid("Product", product.num)})

    @bp.post("/shops/<shop_name>/products/<pid>/media")
    def merchant_add(shop_name: str, pid: str) -> tuple[Response, int]:
        shop, body = shop_of(shop_name), _body()
        with sb.state.lock:
            product = product_of(shop, pid)
            f = add_image(shop, product, body)
        sb.product_changed(shop, product)
        with sb.state.lock:
            return jsonify(media_summary(sb, shop, f, product)), 201

    @bp.put("/shops/<shop_name>/products/<pid>/media/<mid>")
    def merchant_replace(shop_name: str, pid: str, mid: str) -> Response:
        """Replace a file's bytes as Shopify's Files page does: same id and references, new content."""
        shop, body = shop_of(shop_name), _body()
        data, filename = _image_bytes(body)
        with sb.state.lock:
            product = product_of(shop, pid)
            f = file_of(shop, mid)
            if f.num not in product.media:
                raise AdminError(404, f"{mid} is not shown on product {pid}")
            files.replace_content(sb, shop, f, f"admin://merchant/{filename}", data)
            if body.get("ready", True):
                files.process_now(sb, shop, f)
        sb.product_changed(shop, product)
        with sb.state.lock:
            return jsonify(media_summary(sb, shop, f, product))

    @bp.delete("/shops/<shop_name>/products/<pid>/media/<mid>")
    def merchant_remove(shop_name: str, pid: str, mid: str) -> Response:
        shop = shop_of(shop_name)
        keep = request.args.get("keep_file", "0") == "1"

        def remove(product: Product) -> None:
            f = file_of(shop, mid)
            if keep:
                files.detach(shop, f, product)
            else:
                files.delete_file(shop, f)

        return merchant_edit(shop, pid, remove)

    @bp.post("/shops/<shop_name>/products/<pid>/reorder")
    def merchant_reorder(shop_name: str, pid: str) -> Response:
        body = _body()

        def reorder(product: Product) -> None:
            wanted = [_num(m) for m in body.get("media_ids") or []]
            if sorted(wanted) != sorted(product.media):
                raise AdminError(400, "media_ids must list every media of the product exactly once")
            product.media = wanted

        return merchant_edit(shop_of(shop_name), pid, reorder)

    @bp.patch("/shops/<shop_name>/media/<mid>")
    def merchant_alt(shop_name: str, mid: str) -> Response:
        shop, body = shop_of(shop_name), _body()
        with sb.state.lock:
            f = file_of(shop, mid)
            f.alt = body.get("alt", f.alt)
            f.updated_at = time.time()
            shown = [shop.products[n] for n in f.products if n in shop.products]
        for product in shown:
            sb.product_changed(shop, product)
        with sb.state.lock:
            return jsonify(media_summary(sb, shop, f, None, render=False))

    @bp.put("/shops/<shop_name>/products/<pid>/variants/<vid>/media")
    def merchant_variant_media(shop_name: str, pid: str, vid: str) -> Response:
        body = _body()

        def show(product: Product) -> None:
            variant = next((v for v in product.variants if v.num == _num(vid)), None)
            if variant is None:
                raise AdminError(404, f"no variant {vid} on product {pid}")
            media_id = body.get("media_id")
            if media_id is not None and _num(media_id) not in product.media:
                raise AdminError(400, f"{media_id} is not shown on product {pid}")
            variant.media_num = _num(media_id) if media_id is not None else None
            variant.updated_at = time.time()

        return merchant_edit(shop_of(shop_name), pid, show)

    return bp
