"""Edits a merchant makes in wp-admin: replace, add, reorder or remove a product's images.

Each edit saves the product, so it fires ``product.updated`` like the product editor does.
"""

from __future__ import annotations

import dataclasses

from sandbox.seeds import photos
from sandbox.woocommerce.media import check_filetype
from sandbox.woocommerce.models import Attachment, Product
from sandbox.woocommerce.site import NewFile, Site


def merchant_upload(site: Site, product: Product, new: NewFile, alt: str = "") -> Attachment:
    """Upload through the media modal (checked like any upload)."""
    filename, mime = check_filetype(new.filename, new.data)
    att = site.add_attachment(NewFile(filename, new.data, mime), parent=product.id, via="merchant", alt=alt)
    site.record_upload("merchant", filename, new.data, attachment_id=att.id)
    return att


def rendered(kind: str, seed: int, filename: str | None = None) -> NewFile:
    """A synthetic photo as a file to upload."""
    photo = photos.render(kind, seed)
    return NewFile(filename or f"merchant-{kind}-{seed}.{photos.extension(kind)}", photo.data, photo.mime)


def _save(site: Site, product: Product, ids: list[int]) -> Product:
    with site.lock:
        row = dataclasses.replace(
            product, image_id=ids[0] if ids else 0, gallery=list(dict.fromkeys(ids[1:]))
        )
    site.save_product(row)
    return row


def replace_image(site: Site, product: Product, position: int, new: NewFile, alt: str = "") -> Attachment:
    """Put a new upload in the slot at ``position``; the old attachment stays in the library."""
    att = merchant_upload(site, product, new, alt)
    ids = product.image_ids()
    if not 0 <= position < len(ids):
        raise IndexError(f"product {product.id} has no image at position {position}")
    ids[position] = att.id
    _save(site, product, ids)
    return att


def add_image(
    site: Site, product: Product, new: NewFile, position: int | None = None, alt: str = ""
) -> Attachment:
    """Add an upload at ``position`` (default: last)."""
    att = merchant_upload(site, product, new, alt)
    ids = product.image_ids()
    ids.insert(len(ids) if position is None else position, att.id)
    _save(site, product, ids)
    return att


def reorder_images(site: Site, product: Product, order: list[int]) -> Product:
    """Show exactly these attachment ids in this order."""
    if sorted(order) != sorted(product.image_ids()):
        raise ValueError(f"order {order} is not a permutation of {product.image_ids()}")
    return _save(site, product, order)


def remove_image(site: Site, product: Product, media_id: int) -> Product:
    """Take an image off the product (it stays in the library)."""
    return _save(site, product, [i for i in product.image_ids() if i != media_id])


def touch(site: Site, product: Product) -> Product:
    """Press "Update" without changing anything."""
    return _save(site, product, product.image_ids())
