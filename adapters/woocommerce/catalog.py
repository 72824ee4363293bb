"""WooCommerce product JSON → the port's :class:`RemoteProduct`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from adapters.woocommerce.urls import basename
from connector.port import VARIANTS_ONLY, MediaState, RemoteImage, RemoteProduct


def parse_gmt(value: Any) -> datetime | None:
    """``2024-05-01T10:00:00`` (a ``*_gmt`` field) as an aware UTC datetime."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "")).replace(tzinfo=UTC)
    except ValueError:
        return None


def gmt_param(moment: datetime) -> str:
    """A ``modified_after`` value to send with ``dates_are_gmt=true``: UTC wall-clock, no zone.

    WordPress converts a value with a zone to site time first, which would shift the filter.
    """
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None, microsecond=0).strftime("%Y-%m-%dT%H:%M:%S")


def image_ids(product: Mapping[str, Any]) -> list[int]:
    """The attachment ids a product shows, in order (featured first)."""
    return [int(i["id"]) for i in product.get("images") or [] if i.get("id")]


def _remote_image(img: Mapping[str, Any], position: int, links: Mapping[str, list[str]]) -> RemoteImage:
    return RemoteImage(
        media_id=str(img["id"]),
        position=position,
        src=str(img.get("src") or ""),
        alt=img.get("alt") or None,
        state=MediaState.READY,
        variant_ids=tuple(links.get(str(img["id"]), ())),
        filename=basename(str(img.get("src") or "")) or None,
    )


def to_remote(product: Mapping[str, Any], variations: Iterable[Mapping[str, Any]] = ()) -> RemoteProduct:
    """A product and its variations (read with ``context=edit``: their own images only) as the port
    describes them.  A photo only variations show (not in the gallery) comes after the gallery with
    position -1 (:data:`connector.port.VARIANTS_ONLY`)."""
    links: dict[str, list[str]] = {}
    variation_ids: list[str] = []
    variation_images: dict[str, Mapping[str, Any]] = {}
    for v in variations:
        variation_ids.append(str(v["id"]))
        image = v.get("image") or {}
        if image.get("id"):
            links.setdefault(str(image["id"]), []).append(str(v["id"]))
            variation_images.setdefault(str(image["id"]), image)
    if not variation_ids:
        variation_ids = [str(v) for v in product.get("variations") or []]
    gallery = [i for i in product.get("images") or [] if i.get("id")]
    in_gallery = {str(i["id"]) for i in gallery}
    images = [_remote_image(img, position, links) for position, img in enumerate(gallery)]
    images += [
        _remote_image(img, VARIANTS_ONLY, links)
        for mid, img in variation_images.items()
        if mid not in in_gallery
    ]
    return RemoteProduct(
        product_id=str(product["id"]),
        title=str(product.get("name") or ""),
        updated_at=parse_gmt(product.get("date_modified_gmt")),
        images=tuple(images),
        variant_ids=tuple(variation_ids),
        handle=product.get("slug") or None,
    )
