"""The life of a file: creation from a staged upload or URL, asynchronous processing, product references.

Processing runs on the scheduler: UPLOADED -> PROCESSING after ``media_upload_delay``, then READY or
FAILED after ``media_processing_delay`` once the bytes were fetched and decoded.  Products showing a
file get ``products/update`` whenever what they show changes.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import requests

from sandbox.shopify.media import Inspection, file_bytes, inspect_image
from sandbox.shopify.state import (
    FAILED,
    PROCESSING,
    READY,
    UPLOADED,
    MediaError,
    MediaFile,
    Product,
    ShopState,
)

if TYPE_CHECKING:
    from sandbox.shopify.store import Sandbox

_STAGED_PATH = re.compile(r"^/(?P<shop>[^/]+)/staged-uploads/(?P<token>[A-Za-z0-9_-]+)(?:/.*)?$")
_CDN_PATH = re.compile(r"^/(?P<shop>[^/]+)/cdn/files/(?P<num>\d+)/[^/]+$")


def extension(name: str) -> str:
    return PurePosixPath(name).suffix.lower()


def filename_from_url(url: str) -> str:
    name = unquote(PurePosixPath(urlsplit(url).path).name)
    return name or "file"


def unique_filename(shop: ShopState, filename: str) -> str:
    """Shopify's APPEND_UUID duplicate resolution: ``name.jpg`` -> ``name_<uuid>.jpg`` when taken."""
    if not shop.files_named(filename):
        return filename
    path = PurePosixPath(filename)
    return f"{path.stem}_{uuid.uuid4()}{path.suffix}"


def log_upload(shop: ShopState, **entry: Any) -> dict[str, Any]:
    """Append to the shop's log of every upload ever made."""
    record = {"at": time.time(), **entry}
    shop.uploads.append(record)
    return record


# --------------------------------------------------------------------------------------------- creation


def create_file(
    sb: Sandbox,
    shop: ShopState,
    source_url: str,
    filename: str,
    alt: str,
    origin: str,
    app_key: str | None,
    data: bytes | None = None,
) -> MediaFile:
    """A new MediaImage in the Files library, UPLOADED now and processed in the background."""
    now = time.time()
    f = MediaFile(
        num=sb.state.next_id(),
        image_num=sb.state.next_id(),
        filename=filename,
        alt=alt,
        status=UPLOADED,
        created_at=now,
        updated_at=now,
        origin=origin,
        app_key=app_key,
        source_url=source_url,
        pending=data,
        pending_source=source_url,
        version=0,
    )
    shop.files[f.num] = f
    log_upload(
        shop, kind="file", media_id=f.num, filename=filename, source=source_url, origin=origin, app=app_key
    )
    _schedule_processing(sb, shop, f)
    return f


def replace_content(
    sb: Sandbox, shop: ShopState, f: MediaFile, source_url: str, data: bytes | None = None
) -> None:
    """New bytes for an existing file (same id and references); it is PROCESSING until they are judged."""
    f.pending, f.pending_source = data, source_url
    f.status = PROCESSING
    f.updated_at = time.time()
    log_upload(shop, kind="replace", media_id=f.num, filename=f.filename, source=source_url, origin=f.origin)
    _schedule_processing(sb, shop, f, skip_upload_state=True)


def _schedule_processing(sb: Sandbox, shop: ShopState, f: MediaFile, skip_upload_state: bool = False) -> None:
    source = f.pending_source
    cfg = sb.config

    def begin() -> None:
        with sb.state.lock:
            if f.deleted or f.pending_source != source or f.status != UPLOADED:
                return
            f.status, f.updated_at = PROCESSING, time.time()

    def finish() -> None:
        _finish_processing(sb, shop, f, source)

    upload_delay = 0.0 if skip_upload_state else cfg.media_upload_delay
    if not skip_upload_state:
        sb.scheduler.call_later(upload_delay, f"media {f.num}: processing", begin)
    sb.scheduler.call_later(upload_delay + cfg.media_processing_delay, f"media {f.num}: ready", finish)


def _fetch(sb: Sandbox, source: str, preloaded: bytes | None) -> bytes | MediaError:
    """The bytes behind an originalSource: a staged upload, this sandbox's CDN, or any http(s) URL."""
    if preloaded is not None:
        return preloaded
    path = urlsplit(source).path
    staged = _STAGED_PATH.match(path)
    if staged:
        with sb.state.lock:
            shop = sb.state.shop(staged["shop"])
            target = shop.staged.get(staged["token"]) if shop else None
            data = target.data if target else None
        if data is None:
            return MediaError(
                "IMAGE_DOWNLOAD_FAILURE",
                "Media could not be processed because the image could not be downloaded.",
                "nothing was uploaded to the staged target",
            )
        return data
    cdn = _CDN_PATH.match(path)
    if cdn:
        with sb.state.lock:
            shop = sb.state.shop(cdn["shop"])
            other = shop.live_file(int(cdn["num"])) if shop else None
            if other is not None:
                return file_bytes(other)
    try:
        resp = requests.get(source, timeout=5)
    except requests.RequestException as exc:
        return MediaError(
            "IMAGE_DOWNLOAD_FAILURE",
            "Media could not be processed because the image could not be downloaded.",
            str(exc),
        )
    if resp.status_code != 200:
        return MediaError(
            "IMAGE_DOWNLOAD_FAILURE",
            "Media could not be processed because the image could not be downloaded.",
            f"HTTP {resp.status_code}",
        )
    return resp.content


def process_now(sb: Sandbox, shop: ShopState, f: MediaFile) -> None:
    """Judge a file's pending bytes immediately (merchant uploads); the caller announces the change."""
    _finish_processing(sb, shop, f, f.pending_source, notify=False)


def _finish_processing(
    sb: Sandbox, shop: ShopState, f: MediaFile, source: str | None, notify: bool = True
) -> None:
    with sb.state.lock:
        if f.deleted or f.pending_source != source or source is None:
            return
        preloaded = f.pending
    fetched = _fetch(sb, source, preloaded)
    cfg = sb.config
    result: Inspection | MediaError
    if isinstance(fetched, MediaError):
        result, data = fetched, None
    else:
        data = fetched
        inspection = inspect_image(data, cfg.max_image_bytes, cfg.max_image_pixels)
        result = inspection.error if inspection.error is not None else inspection
    with sb.state.lock:
        if f.deleted or f.pending_source != source:
            return
        f.pending, f.pending_source = None, None
        f.updated_at = time.time()
        if isinstance(result, MediaError):
            f.status = FAILED
            f.errors = [result]
        else:
            assert data is not None
            f.status = READY
            f.errors = []
            f.data = data
            f.seed = None
            f.width, f.height, f.mime = result.width, result.height, result.mime
            f.sha256 = hashlib.sha256(data).hexdigest()
            f.byte_size = len(data)
            f.version += 1
        for record in shop.uploads:
            if record.get("media_id") == f.num and "result" not in record:
                record.update(
                    result=f.status,
                    sha256=hashlib.sha256(data).hexdigest() if data is not None else None,
                    size=len(data) if data is not None else None,
                    error=result.code if isinstance(result, MediaError) else None,
                )
        shown_on = [shop.products[n] for n in f.products if n in shop.products] if notify else []
    for product in shown_on:
        sb.product_changed(shop, product)


# --------------------------------------------------------------------------------------------- references


def attach(shop: ShopState, f: MediaFile, product: Product) -> bool:
    """Show ``f`` on ``product`` (appended last); False when it already was."""
    if f.num in product.media:
        return False
    product.media.append(f.num)
    if product.num not in f.products:
        f.products.append(product.num)
    return True


def detach(shop: ShopState, f: MediaFile, product: Product) -> bool:
    """Stop showing ``f`` on ``product`` (the file stays in the library); variants showing it lose it."""
    if f.num not in product.media:
        return False
    product.media.remove(f.num)
    if product.num in f.products:
        f.products.remove(product.num)
    for variant in product.variants:
        if variant.media_num == f.num:
            variant.media_num = None
            variant.updated_at = time.time()
    return True


def delete_file(shop: ShopState, f: MediaFile) -> list[Product]:
    """Delete ``f`` from the library and every product; the products that changed."""
    changed = []
    for pnum in list(f.products):
        product = shop.products.get(pnum)
        if product is not None and detach(shop, f, product):
            changed.append(product)
    f.deleted = True
    f.updated_at = time.time()
    return changed


def apply_moves(product: Product, moves: list[tuple[int, int]]) -> None:
    """Apply ``(file num, new zero-based position)`` moves in order (positions past the end go last)."""
    for num, position in moves:
        if num not in product.media:
            continue
        product.media.remove(num)
        product.media.insert(min(position, len(product.media)), num)
