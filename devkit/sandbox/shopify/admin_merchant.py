"""The merchant's hand in the sandbox (``/__sandbox``): add, edit, replace, remove and reorder products
and their images, so drift and three-way rollbacks can happen in tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, jsonify, request

from sandbox.shopify import files
from sandbox.shopify.admin_support import (
    AdminError,
    admin_routes,
    file_of,
    image_bytes,
    json_body,
    media_summary,
    number,
    product_of,
    product_summary,
)
from sandbox.shopify.gids import gid
from sandbox.shopify.media import guess_mime
from sandbox.shopify.state import MediaFile, Product, ShopState, Variant

if TYPE_CHECKING:
    from sandbox.shopify.store import Sandbox


def merchant_blueprint(sb: Sandbox) -> Blueprint:
    """Routes that change a shop as its merchant would (each tells the apps, like the real admin)."""
    bp = admin_routes("shopify_merchant")
    shop_of = sb.shop_or_error

    def add_image(shop: ShopState, product: Product, spec: dict[str, Any]) -> MediaFile:
        data, filename = image_bytes(spec)
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
        shop, body = shop_of(shop_name), json_body()
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
        body = json_body()

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
        shop, body = shop_of(shop_name), json_body()
        with sb.state.lock:
            product = product_of(shop, pid)
            f = add_image(shop, product, body)
        sb.product_changed(shop, product)
        with sb.state.lock:
            return jsonify(media_summary(sb, shop, f, product)), 201

    @bp.put("/shops/<shop_name>/products/<pid>/media/<mid>")
    def merchant_replace(shop_name: str, pid: str, mid: str) -> Response:
        """Replace a file's bytes as Shopify's Files page does: same id and references, new content."""
        shop, body = shop_of(shop_name), json_body()
        data, filename = image_bytes(body)
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
        body = json_body()

        def reorder(product: Product) -> None:
            wanted = [number(m) for m in body.get("media_ids") or []]
            if sorted(wanted) != sorted(product.media):
                raise AdminError(400, "media_ids must list every media of the product exactly once")
            product.media = wanted

        return merchant_edit(shop_of(shop_name), pid, reorder)

    @bp.patch("/shops/<shop_name>/media/<mid>")
    def merchant_alt(shop_name: str, mid: str) -> Response:
        shop, body = shop_of(shop_name), json_body()
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
        body = json_body()

        def show(product: Product) -> None:
            variant = next((v for v in product.variants if v.num == number(vid)), None)
            if variant is None:
                raise AdminError(404, f"no variant {vid} on product {pid}")
            media_id = body.get("media_id")
            if media_id is not None and number(media_id) not in product.media:
                raise AdminError(400, f"{media_id} is not shown on product {pid}")
            variant.media_num = number(media_id) if media_id is not None else None
            variant.updated_at = time.time()

        return merchant_edit(shop_of(shop_name), pid, show)

    return bp
