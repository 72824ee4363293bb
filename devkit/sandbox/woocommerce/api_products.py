"""``wc/v3`` products and variations, single and batch, as WooCommerce 7.9 serves them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify

from sandbox.woocommerce.context import caller, delete_request, get_site, query_args, require, write_request
from sandbox.woocommerce.errors import WPError, invalid_id, invalid_params
from sandbox.woocommerce.models import Product, Variation, now_utc
from sandbox.woocommerce.params import Args, after, before, paginate
from sandbox.woocommerce.serialize import (
    product_json,
    variation_as_product_json,
    variation_json,
    wc_url,
)
from sandbox.woocommerce.site import Site, gmt

PREFIX = "/<site>/wp-json/wc/v3"
EDITABLE = ["POST", "PUT", "PATCH"]
BATCH_LIMIT = 100
PRODUCT_ORDERBY = (
    "date",
    "id",
    "include",
    "title",
    "slug",
    "modified",
    "price",
    "popularity",
    "rating",
    "menu_order",
)
STATUSES = ("any", "future", "trash", "draft", "pending", "private", "publish")
TYPES = ("simple", "grouped", "external", "variable")

bp = Blueprint("wc_products", __name__)


# ------------------------------------------------------------------------------------ listing


def _paging(args: Args) -> tuple[int, int]:
    return args.integer("page", 1, minimum=1), args.integer("per_page", 10, minimum=1, maximum=100)


def _collection(
    site: Site, rows: list[Any], paging: tuple[int, int], route: str, render: Callable[[Any], Any]
) -> Response:
    """Paginate and answer a collection with WordPress's headers."""
    result = paginate(rows, paging[0], paging[1], wc_url(site, route), query_args())
    with site.lock:
        resp = jsonify([render(r) for r in result.items])
    return result.headers(resp)


def _date_filters(site: Site, args: Args) -> Callable[[Product | Variation], bool]:
    created_after, created_before = args.date("after", site.config.tz), args.date("before", site.config.tz)
    mod_after = args.date("modified_after", site.config.tz)
    mod_before = args.date("modified_before", site.config.tz)
    gmt_dates = args.boolean("dates_are_gmt")

    def column(dt: Any) -> Any:
        return gmt(dt) if gmt_dates else site.local(dt)

    def keep(row: Product | Variation) -> bool:
        return (
            after(column(row.created), created_after)
            and before(column(row.created), created_before)
            and after(column(row.modified), mod_after)
            and before(column(row.modified), mod_before)
        )

    return keep


def _sort(rows: list[Any], orderby: str, order: str, include: list[int]) -> list[Any]:
    keys: dict[str, Callable[[Any], Any]] = {
        "id": lambda r: r.id,
        "title": lambda r: (getattr(r, "name", "").lower(), r.id),
        "slug": lambda r: (getattr(r, "slug", ""), r.id),
        "modified": lambda r: (r.modified, r.id),
        "menu_order": lambda r: (r.menu_order, getattr(r, "name", "").lower()),
        "include": lambda r: include.index(r.id) if r.id in include else len(include),
    }
    key = keys.get(orderby, lambda r: (r.created, r.id))
    return sorted(rows, key=key, reverse=order == "desc" and orderby != "include")


@bp.get(PREFIX + "/products")
def list_products(site: str) -> Response:
    """``GET products``."""
    s = get_site(site)
    who = caller(s)
    args = Args(query_args())
    status = args.choice("status", "any", STATUSES)
    ptype = args.text("type")
    if ptype and ptype not in TYPES:
        args.problems["type"] = f"type is not one of {', '.join(TYPES[:-1])} and {TYPES[-1]}."
    include, exclude = args.id_list("include"), args.id_list("exclude")
    orderby = args.choice("orderby", "date", PRODUCT_ORDERBY)
    order = args.choice("order", "desc", ("asc", "desc"))
    keep_dates = _date_filters(s, args)
    paging = _paging(args)
    args.check()
    require(who, "view")
    search, sku = args.text("search").lower(), args.text("sku")
    with s.lock:
        rows = [
            p
            for p in s.products.values()
            if (p.status == status if status != "any" else p.status != "trash")
            and (not include or p.id in include)
            and p.id not in exclude
            and (not ptype or p.type == ptype)
            and (not sku or p.sku in sku.split(","))
            and (not search or search in p.name.lower() or search in p.description.lower())
            and keep_dates(p)
        ]
    return _collection(
        s, _sort(rows, orderby, order, include), paging, "products", lambda p: product_json(s, p)
    )


@bp.get(PREFIX + "/products/<int:product_id>")
def get_product(site: str, product_id: int) -> Response:
    """``GET products/<id>`` (a variation id answers with a type "variation" product)."""
    s = get_site(site)
    require(caller(s), "read")
    with s.lock:
        if product_id in s.products:
            return jsonify(product_json(s, s.products[product_id]))
        if product_id in s.variations:
            return jsonify(variation_as_product_json(s, s.variations[product_id]))
    raise invalid_id("product")


# ------------------------------------------------------------------------------------ writing


def _check_images_shape(value: Any, name: str) -> None:
    if not isinstance(value, list):
        raise invalid_params({name: f"{name} is not of type array."})
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise invalid_params({name: f"{name}[{i}] is not of type object."})
        if "id" in item and not str(item["id"]).lstrip("-").isdigit():
            raise invalid_params({name: f"{name}[{i}][id] is not of type integer."})


def _apply_common(s: Site, row: Product | Variation, data: dict[str, Any]) -> None:
    if "sku" in data:
        sku = str(data["sku"] or "").strip()
        if s.sku_taken(sku, row.id):
            raise WPError("product_invalid_sku", "Invalid or duplicated SKU.", 400)
        row.sku = sku
    for field in ("description", "regular_price"):
        if field in data:
            setattr(row, field, str(data[field] or ""))
    if "menu_order" in data:
        row.menu_order = int(data["menu_order"] or 0)


def save_product_from(s: Site, data: dict[str, Any], product: Product | None) -> Product:
    """Create (``product`` None) or update a product from request data; saves and fires hooks."""
    created = product is None
    if product is None:
        now = now_utc()
        row = Product(
            id=0, name="Product", slug="", type=str(data.get("type") or "simple"), created=now, modified=now
        )
        if row.type not in TYPES:
            raise invalid_params({"type": f"type is not one of {', '.join(TYPES[:-1])} and {TYPES[-1]}."})
    else:
        row = dataclasses.replace(
            product, gallery=list(product.gallery), variation_ids=list(product.variation_ids)
        )
    if "images" in data:
        _check_images_shape(data["images"], "images")
    with s.lock:
        if "name" in data:
            row.name = str(data["name"])
        if "status" in data:
            if data["status"] not in ("draft", "pending", "private", "publish", "future"):
                raise invalid_params({"status": "status is not one of draft, pending, private and publish."})
            row.status = str(data["status"])
        if "short_description" in data:
            row.short_description = str(data["short_description"] or "")
        if "attributes" in data and isinstance(data["attributes"], list):
            row.attributes = list(data["attributes"])
        _apply_common(s, row, data)
        if created:
            row.id = s.next_post_id()
        row.slug = (
            s.unique_slug(str(data.get("slug") or row.name), row.id)
            if created or "slug" in data
            else row.slug
        )
    if isinstance(data.get("images"), list):
        row.image_id, row.gallery = s.set_product_images(0 if created else row.id, data["images"])
    s.save_product(row, created=created)
    return row


def save_variation_from(
    s: Site, parent: Product, data: dict[str, Any], variation: Variation | None
) -> Variation:
    """Create or update a variation; ``image`` is ``{id}`` or ``{src}`` (sideloaded)."""
    created = variation is None
    now = now_utc()
    row = (
        Variation(id=0, parent_id=parent.id, created=now, modified=now)
        if variation is None
        else dataclasses.replace(variation, attributes=list(variation.attributes))
    )
    with s.lock:
        _apply_common(s, row, data)
        if "status" in data:
            row.status = str(data["status"])
        if "attributes" in data and isinstance(data["attributes"], list):
            row.attributes = [
                {
                    "id": int(a.get("id", 0) or 0),
                    "name": str(a.get("name", "")),
                    "option": str(a.get("option", "")),
                }
                for a in data["attributes"]
                if isinstance(a, dict)
            ]
        if created:
            row.id = s.next_post_id()
    image = data.get("image")
    if isinstance(image, dict):
        row.image_id = s.resolve_image(
            image,
            parent.id,
            "woocommerce_variation_image_upload_error",
            "woocommerce_variation_invalid_image_id",
        )
    elif "image" in data and image is not None:
        row.image_id = 0
    s.save_variation(row, created=created)
    return row


def _product(s: Site, product_id: int) -> Product:
    return s.existing(s.products, product_id, "product")


def _variation(s: Site, product_id: int, variation_id: int) -> Variation:
    variation = s.existing(s.variations, variation_id, "product_variation")
    if variation.parent_id != product_id:
        raise invalid_id("product_variation")
    return variation


@bp.post(PREFIX + "/products")
def create_product(site: str) -> tuple[Response, int, dict[str, str]]:
    """``POST products``."""
    s, data = write_request(site, "create")
    row = save_product_from(s, data, None)
    with s.lock:
        body = product_json(s, row)
    return jsonify(body), 201, {"Location": wc_url(s, f"products/{row.id}")}


@bp.route(PREFIX + "/products/<int:product_id>", methods=EDITABLE)
def update_product(site: str, product_id: int) -> Response:
    """``PUT products/<id>``: the full ordered ``images`` list replaces the product's images."""
    s, data = write_request(site, "edit")
    row = save_product_from(s, data, _product(s, product_id))
    with s.lock:
        return jsonify(product_json(s, row))


def delete_product_by_id(s: Site, product_id: int, force: bool) -> dict[str, Any]:
    """Trash (or with ``force`` delete) a product; the product as it was."""
    product = _product(s, product_id)
    with s.lock:
        body = product_json(s, product)
    if force:
        s.delete_product(product)
    else:
        s.trash_product(product)
        with s.lock:
            body = product_json(s, product)
    return body


@bp.delete(PREFIX + "/products/<int:product_id>")
def delete_product(site: str, product_id: int) -> Response:
    """``DELETE products/<id>`` (``force=true`` deletes for good, else to the trash)."""
    s, force = delete_request(site)
    return jsonify(delete_product_by_id(s, product_id, force))


def _error_item(item_id: Any, exc: WPError) -> dict[str, Any]:
    return {
        "id": item_id,
        "error": {"code": exc.code, "message": exc.message, "data": {"status": exc.status}},
    }


def run_batch(
    data: dict[str, Any],
    create: Callable[[dict[str, Any]], dict[str, Any]],
    update: Callable[[dict[str, Any]], dict[str, Any]],
    delete: Callable[[int], dict[str, Any]],
) -> dict[str, list[dict[str, Any]]]:
    """``WC_REST_Controller::batch_items``: limit check, then each item on its own."""
    total = sum(len(data.get(k) or []) for k in ("create", "update", "delete"))
    if total > BATCH_LIMIT:
        raise WPError(
            "woocommerce_rest_request_entity_too_large",
            f"Unable to accept more than {BATCH_LIMIT} items for this request.",
            413,
        )
    out: dict[str, list[dict[str, Any]]] = {}
    for kind, fn in (("create", create), ("update", update), ("delete", delete)):
        items = data.get(kind)
        if not items:
            continue
        out[kind] = []
        for item in items:
            item_id = item.get("id", 0) if isinstance(item, dict) else item
            try:
                out[kind].append(fn(item) if kind != "delete" else fn(int(item_id)))  # type: ignore[arg-type]
            except WPError as exc:
                out[kind].append(_error_item(item_id, exc))
            except (TypeError, ValueError):
                out[kind].append(
                    _error_item(item_id, WPError("woocommerce_rest_invalid_id", "Invalid ID.", 400))
                )
    return out


@bp.post(PREFIX + "/products/batch")
def batch_products(site: str) -> Response:
    """``POST products/batch`` with ``create`` / ``update`` / ``delete`` (at most 100 items)."""
    s, data = write_request(site, "batch")

    def create(item: dict[str, Any]) -> dict[str, Any]:
        row = save_product_from(s, item, None)
        with s.lock:
            return product_json(s, row)

    def update(item: dict[str, Any]) -> dict[str, Any]:
        row = save_product_from(s, item, _product(s, int(item.get("id") or 0)))
        with s.lock:
            return product_json(s, row)

    return jsonify(run_batch(data, create, update, lambda pid: delete_product_by_id(s, pid, True)))


# ------------------------------------------------------------------------------------ variations


@bp.get(PREFIX + "/products/<int:product_id>/variations")
def list_variations(site: str, product_id: int) -> Response:
    """``GET products/<id>/variations`` (ordered by menu_order by default, like WooCommerce)."""
    s = get_site(site)
    who = caller(s)
    args = Args(query_args())
    orderby = args.choice(
        "orderby", "menu_order", ("date", "id", "include", "title", "slug", "modified", "menu_order")
    )
    order = args.choice("order", "asc", ("asc", "desc"))
    include = args.id_list("include")
    keep_dates = _date_filters(s, args)
    paging = _paging(args)
    context = args.choice("context", "view", ("view", "edit"))
    args.check()
    require(who, "view")
    parent = _product(s, product_id)
    with s.lock:
        rows = [
            s.variations[v]
            for v in parent.variation_ids
            if v in s.variations and (not include or v in include) and keep_dates(s.variations[v])
        ]
    return _collection(
        s,
        _sort(rows, orderby, order, include),
        paging,
        f"products/{product_id}/variations",
        lambda v: variation_json(s, v, context),
    )


@bp.get(PREFIX + "/products/<int:product_id>/variations/<int:variation_id>")
def get_variation(site: str, product_id: int, variation_id: int) -> Response:
    """``GET products/<pid>/variations/<id>``."""
    s = get_site(site)
    require(caller(s), "read")
    context = "edit" if query_args().get("context") == "edit" else "view"
    variation = _variation(s, product_id, variation_id)
    with s.lock:
        return jsonify(variation_json(s, variation, context))


@bp.post(PREFIX + "/products/<int:product_id>/variations")
def create_variation(site: str, product_id: int) -> tuple[Response, int]:
    """``POST products/<pid>/variations``."""
    s, data = write_request(site, "create")
    row = save_variation_from(s, _product(s, product_id), data, None)
    with s.lock:
        return jsonify(variation_json(s, row)), 201


@bp.route(PREFIX + "/products/<int:product_id>/variations/<int:variation_id>", methods=EDITABLE)
def update_variation(site: str, product_id: int, variation_id: int) -> Response:
    """``PUT products/<pid>/variations/<id>`` — ``image: {id}`` sets the variation's image."""
    s, data = write_request(site, "edit")
    row = save_variation_from(s, _product(s, product_id), data, _variation(s, product_id, variation_id))
    with s.lock:
        return jsonify(variation_json(s, row))


@bp.delete(PREFIX + "/products/<int:product_id>/variations/<int:variation_id>")
def delete_variation(site: str, product_id: int, variation_id: int) -> Response:
    """``DELETE products/<pid>/variations/<id>?force=true`` (variations cannot be trashed)."""
    s, force = delete_request(site)
    variation = _variation(s, product_id, variation_id)
    if not force:
        raise WPError(
            "woocommerce_rest_trash_not_supported",
            "Variations do not support trashing. Set 'force' to true.",
            501,
        )
    with s.lock:
        body = variation_json(s, variation)
    s.delete_variation(variation)
    return jsonify(body)


@bp.post(PREFIX + "/products/<int:product_id>/variations/batch")
def batch_variations(site: str, product_id: int) -> Response:
    """``POST products/<pid>/variations/batch`` (at most 100 items)."""
    s, data = write_request(site, "batch")
    parent = _product(s, product_id)

    def create(item: dict[str, Any]) -> dict[str, Any]:
        row = save_variation_from(s, parent, item, None)
        with s.lock:
            return variation_json(s, row)

    def update(item: dict[str, Any]) -> dict[str, Any]:
        row = save_variation_from(s, parent, item, _variation(s, product_id, int(item.get("id") or 0)))
        with s.lock:
            return variation_json(s, row)

    def delete(variation_id: int) -> dict[str, Any]:
        variation = _variation(s, product_id, variation_id)
        with s.lock:
            body = variation_json(s, variation)
        s.delete_variation(variation)
        return body

    return jsonify(run_batch(data, create, update, delete))
