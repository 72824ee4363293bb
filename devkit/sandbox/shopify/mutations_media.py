"""Product media mutations: reorder (an asynchronous Job), variant media links, deleting media.

Every mutation validates all of its input first and changes nothing when any user error is found.
"""

from __future__ import annotations

import time
from typing import Any

from sandbox.shopify import files
from sandbox.shopify.context import Ctx
from sandbox.shopify.gids import gid, gid_num
from sandbox.shopify.mutations_common import (
    MAX_VARIANT_MEDIA_PAIRS,
    WRITE_PRODUCTS,
    file_for,
    product_ref,
    user_error,
)
from sandbox.shopify.state import READY, Job, MediaFile, Product
from sandbox.shopify.views import ROOT, ProductView, VariantView


def _media_errors(payload: dict[str, Any], errors: list[dict[str, Any]]) -> dict[str, Any]:
    payload["mediaUserErrors"] = errors
    payload["userErrors"] = [{"field": e["field"], "message": e["message"]} for e in errors]
    return payload


def product_reorder_media(ctx: Ctx, id: str, moves: list[dict[str, Any]]) -> dict[str, Any]:
    ctx.require("productReorderMedia", *WRITE_PRODUCTS)
    product = product_ref(ctx, id)
    if product is None:
        return _media_errors(
            {"job": None}, [user_error(["id"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")]
        )
    errors = []
    planned: list[tuple[int, int]] = []
    for i, move in enumerate(moves):
        num = gid_num(move["id"], "MediaImage")
        if num is None or num not in product.media:
            errors.append(
                user_error(
                    ["moves", str(i), "id"],
                    f"Media id {move['id']} does not exist on the product.",
                    "MEDIA_DOES_NOT_EXIST_ON_PRODUCT",
                )
            )
            continue
        try:
            position = int(move["newPosition"])
        except (TypeError, ValueError):
            errors.append(user_error(["moves", str(i), "newPosition"], "Invalid position", "INVALID"))
            continue
        planned.append((num, max(position, 0)))
    if errors:
        return _media_errors({"job": None}, errors)
    job = Job(ctx.sb.state.next_id())
    ctx.shop.jobs[job.num] = job
    sb, shop = ctx.sb, ctx.shop

    def run() -> None:
        with sb.state.lock:
            target = shop.products.get(product.num)
            job.done = True
            if target is None:
                return
            files.apply_moves(target, planned)
        sb.product_changed(shop, target)

    sb.scheduler.call_later(sb.config.reorder_delay, f"job {job.num}: reorder media", run)
    return _media_errors({"job": {"id": gid("Job", job.num), "done": False, "query": ROOT}}, [])


def _variant_media_pairs(
    ctx: Ctx, product: Product, variant_media: list[dict[str, Any]], attaching: bool
) -> tuple[list[tuple[Any, MediaFile]], list[dict[str, Any]]]:
    errors: list[dict[str, Any]] = []
    pairs = []
    if len(variant_media) > MAX_VARIANT_MEDIA_PAIRS:
        return [], [
            user_error(
                ["variantMedia"],
                "Exceeded the maximum number of 100 variant-media pairs per mutation call.",
                "MAXIMUM_VARIANT_MEDIA_PAIRS_EXCEEDED",
            )
        ]
    seen: set[int] = set()
    for i, pair in enumerate(variant_media):
        where = ["variantMedia", str(i)]
        vnum = gid_num(pair["variantId"], "ProductVariant")
        variant = next((v for v in product.variants if v.num == vnum), None)
        if variant is None:
            errors.append(
                user_error(
                    [*where, "variantId"],
                    "Variant does not exist on the given product.",
                    "PRODUCT_VARIANT_DOES_NOT_EXIST_ON_PRODUCT",
                )
            )
            continue
        if variant.num in seen:
            errors.append(
                user_error(
                    [*where, "variantId"],
                    "Variant specified in more than one pair.",
                    "PRODUCT_VARIANT_SPECIFIED_MULTIPLE_TIMES",
                )
            )
            continue
        seen.add(variant.num)
        if len(pair["mediaIds"]) != 1:
            errors.append(
                user_error(
                    [*where, "mediaIds"],
                    "Only one mediaId is allowed per variant-media input pair.",
                    "TOO_MANY_MEDIA_PER_INPUT_PAIR",
                )
            )
            continue
        media_id = pair["mediaIds"][0]
        f = file_for(ctx, media_id)
        if f is None:
            errors.append(user_error([*where, "mediaIds"], "Media does not exist.", "MEDIA_DOES_NOT_EXIST"))
            continue
        if f.num not in product.media:
            errors.append(
                user_error(
                    [*where, "mediaIds"],
                    "Media does not exist on the given product.",
                    "MEDIA_DOES_NOT_EXIST_ON_PRODUCT",
                )
            )
            continue
        if attaching and f.status != READY:
            errors.append(
                user_error([*where, "mediaIds"], "Non-ready media are not supported.", "NON_READY_MEDIA")
            )
            continue
        if attaching and variant.media_num not in (None, f.num):
            errors.append(
                user_error(
                    [*where, "variantId"],
                    "Product variant already has attached media.",
                    "PRODUCT_VARIANT_ALREADY_HAS_MEDIA",
                )
            )
            continue
        if not attaching and variant.media_num != f.num:
            errors.append(
                user_error(
                    [*where, "mediaIds"],
                    "The specified media is not attached to the specified variant.",
                    "MEDIA_IS_NOT_ATTACHED_TO_VARIANT",
                )
            )
            continue
        pairs.append((variant, f))
    return pairs, errors


def _variant_media(
    ctx: Ctx, productId: str, variantMedia: list[dict[str, Any]], attaching: bool
) -> dict[str, Any]:
    name = "productVariantAppendMedia" if attaching else "productVariantDetachMedia"
    ctx.require(name, *WRITE_PRODUCTS)
    product = product_ref(ctx, productId)
    if product is None:
        return {
            "product": None,
            "productVariants": None,
            "userErrors": [user_error(["productId"], "Product does not exist.", "PRODUCT_DOES_NOT_EXIST")],
        }
    pairs, errors = _variant_media_pairs(ctx, product, variantMedia, attaching)
    if errors:
        return {"product": None, "productVariants": None, "userErrors": errors}
    now = time.time()
    changed = False
    for variant, f in pairs:
        new = f.num if attaching else None
        if variant.media_num != new:
            variant.media_num, variant.updated_at, changed = new, now, True
    if changed:
        ctx.mark_changed(product)
    return {
        "product": ProductView(ctx, product),
        "productVariants": [VariantView(ctx, product, v) for v, _f in pairs],
        "userErrors": [],
    }


def product_variant_append_media(
    ctx: Ctx, productId: str, variantMedia: list[dict[str, Any]]
) -> dict[str, Any]:
    return _variant_media(ctx, productId, variantMedia, attaching=True)


def product_variant_detach_media(
    ctx: Ctx, productId: str, variantMedia: list[dict[str, Any]]
) -> dict[str, Any]:
    return _variant_media(ctx, productId, variantMedia, attaching=False)


def product_delete_media(ctx: Ctx, productId: str, mediaIds: list[str]) -> dict[str, Any]:
    ctx.require("productDeleteMedia", *WRITE_PRODUCTS)
    product = product_ref(ctx, productId)
    empty = {"deletedMediaIds": None, "deletedProductImageIds": None, "product": None}
    if product is None:
        return _media_errors(
            empty, [user_error(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")]
        )
    found: list[MediaFile] = []
    for value in mediaIds:
        f = file_for(ctx, value)
        if f is None or f.num not in product.media:
            return _media_errors(
                empty,
                [
                    user_error(
                        ["mediaIds"],
                        f"Media id {value} does not exist on product",
                        "MEDIA_DOES_NOT_EXIST_ON_PRODUCT",
                    )
                ],
            )
        found.append(f)
    for f in found:
        files.delete_file(ctx.shop, f)
    ctx.mark_changed(product)
    return _media_errors(
        {
            "deletedMediaIds": [gid("MediaImage", f.num) for f in found],
            "deletedProductImageIds": [gid("ProductImage", f.image_num) for f in found],
            "product": ProductView(ctx, product),
        },
        [],
    )
