"""Shared by the safe-replacement e2e tests: the dev stack, the sandboxes' own view of a shop
(their admin routes; raw for Shopify, and platform-neutral through ``StoreView``), distinct
result images and the connector's records of an image."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import requests
from PIL import Image as PILImage
from rq import Queue
from sandbox.devstack import DevStack
from sqlalchemy import select

from connector.models import Image, ImageStatus, Operation
from connector.services import Services
from connector.sync import sync_store
from tests.conftest import base_env
from tests.e2e.sandbox_support import num as num
from tests.e2e.sandbox_support import sandbox_admin as sandbox_admin
from tests.helpers import another_result as another_result


@contextmanager
def running_stack(var_dir: Path, media_delay: float = 0.05, **env: str) -> Iterator[DevStack]:
    """A dev stack with short media and webhook delays and an unthrottled Shopify sandbox."""
    with DevStack(base_env(var_dir, **env), webhook_delay=0.05, media_delay=media_delay) as stack:
        # these tests are about the store path's correctness, not about the leaky bucket or
        # Shopify's reorder jobs (the adapter polls those once a second)
        stack.shopify.sandbox.update_settings(
            restore_rate=1_000_000.0, reorder_delay=0.0, media_upload_delay=min(media_delay, 0.05)
        )
        yield stack


def install_quietly(
    stack: DevStack, shop: str, *, seed: int, size: int, profile: str = "clean", platform: str = "shopify"
) -> int:
    """Install a shop in review mode and mirror it here, without running the pipeline.

    The install queues a first sync (which would queue the pipeline for every image); the tests
    sync in-process instead, drop that job and mark the seeded images as already looked at, so
    only the store path runs in the workers (and images the merchant adds later get processed).
    """
    install = stack.install_shopify if platform == "shopify" else stack.install_woocommerce
    store_id = install(shop, seed=seed, size=size, profile=profile, mode="review")
    stack.services.queue().empty()
    sync_store(stack.services, store_id)
    with stack.services.session() as s:
        for image in s.scalars(select(Image).where(Image.store_id == store_id)):
            image.status = ImageStatus.SKIPPED.value
    return store_id


def product_view(stack: DevStack, shop: str, product_gid: str) -> dict[str, Any]:
    """What the product shows now, according to the sandbox (media with sha256, variants)."""
    view: dict[str, Any] = sandbox_admin(stack, "GET", f"/shops/{shop}/products/{num(product_gid)}")
    return view


def shown(view: dict[str, Any]) -> list[dict[str, Any]]:
    """The media a product view shows to shoppers (READY ones), in order."""
    return [m for m in view["media"] if m["status"] == "READY"]


def variant_links(view: dict[str, Any]) -> dict[str, str | None]:
    """variant id → media id it shows."""
    return {v["id"]: v["media_id"] for v in view["variants"]}


def files_library(stack: DevStack, shop: str) -> dict[str, dict[str, Any]]:
    """Every file in the shop's Files library (seeded ones too), by media id."""
    rows = sandbox_admin(stack, "GET", f"/shops/{shop}/files", params={"seeded": 1, "render": 1})
    return {row["id"]: row for row in rows}


def file_uploads(stack: DevStack, shop: str, marker: str) -> list[dict[str, Any]]:
    """Files created from uploads whose filename carries ``marker`` (an operation's ``-ic<id>.``)."""
    log = sandbox_admin(stack, "GET", f"/shops/{shop}/uploads")
    return [u for u in log if u["kind"] == "file" and marker in (u.get("filename") or "")]


def product_update_bodies(stack: DevStack, shop: str) -> list[dict[str, Any]]:
    """The bodies of every products/update webhook the shop queued, oldest first.

    Each is the product as it was right after one change, so together they are the history of
    what the product showed.
    """
    rows = sandbox_admin(stack, "GET", f"/shops/{shop}/deliveries", params={"topic": "products/update"})
    return [json.loads(row["body"]) for row in rows if row.get("body")]


def served_sha(url: str) -> str:
    """sha256 of the bytes the CDN URL serves."""
    answer = requests.get(url, timeout=30)
    assert answer.status_code == 200, f"{url}: {answer.status_code}"
    return hashlib.sha256(answer.content).hexdigest()


def result_png(index: int, size: tuple[int, int] = (96, 72)) -> bytes:
    """A small PNG that differs for every index (a stand-in for a pipeline result)."""
    color = ((37 * index) % 256, (91 * index + 40) % 256, (53 * index + 200) % 256)
    buf = io.BytesIO()
    img = PILImage.new("RGB", size, color)
    img.putpixel((index % size[0], 0), (255 - color[0], 0, 0))
    img.save(buf, "PNG")
    return buf.getvalue()


def images_of_store(services: Services, store_id: int) -> list[Image]:
    """The store's image rows (detached from the session), by id."""
    with services.session() as s:
        rows = list(s.scalars(select(Image).where(Image.store_id == store_id).order_by(Image.id)))
        s.expunge_all()
        return rows


def images_by_product(services: Services, store_id: int) -> list[list[Image]]:
    """The store's images grouped by product (products in id order, images by position)."""
    groups: dict[int, list[Image]] = {}
    for image in images_of_store(services, store_id):
        groups.setdefault(image.product_id, []).append(image)
    return [sorted(group, key=lambda img: img.position) for group in groups.values()]


def operations_of(services: Services, image_id: int, kind: str | None = None) -> list[Operation]:
    """An image's operations (detached), oldest first."""
    with services.session() as s:
        query = select(Operation).where(Operation.image_id == image_id).order_by(Operation.id)
        if kind:
            query = query.where(Operation.kind == kind)
        rows = list(s.scalars(query))
        s.expunge_all()
        return rows


def private_queue(stack: DevStack, queue_name: str) -> Queue:
    """The rq queue a worker started with ``QUEUE_NAME=queue_name`` listens on."""
    return stack.services.queue(stack.services.settings.with_(queue_name=queue_name).rq_queue)


# ------------------------------------------------------------------ store views, platform-neutral


@dataclass(frozen=True)
class Media:
    """One media item a product lists, as the sandbox sees it."""

    id: str
    sha256: str | None
    url: str
    ready: bool


@dataclass(frozen=True)
class ProductState:
    """What a product lists now: media in order, and the media each variant shows."""

    media: tuple[Media, ...]
    variants: dict[str, str | None]

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.media]

    def shown(self) -> list[Media]:
        """What shoppers see (media still processing is not shown)."""
        return [m for m in self.media if m.ready]

    def sha_of(self, media_id: str) -> str | None:
        return next(m.sha256 for m in self.media if m.id == media_id)


class StoreView(Protocol):
    """A sandbox store's own view of a shop (its admin routes), the same for every platform."""

    name: str

    def product(self, product_id: str) -> ProductState: ...

    def library(self) -> dict[str, str | None]:
        """media id → sha256 of every file still in the media library (attached or not)."""
        ...

    def uploads(self, marker: str = "") -> list[dict[str, Any]]:
        """Uploads made to the shop whose filename carries ``marker``."""
        ...

    def image_counts(self, product_id: str) -> list[int] | None:
        """How many images the product showed after each change (None: not recorded)."""
        ...


@dataclass
class ShopifyView:
    stack: DevStack
    name: str

    def product(self, product_id: str) -> ProductState:
        view = product_view(self.stack, self.name, product_id)
        return ProductState(
            tuple(Media(m["id"], m["sha256"], m["url"], m["status"] == "READY") for m in view["media"]),
            variant_links(view),
        )

    def library(self) -> dict[str, str | None]:
        return {
            i: row["sha256"] for i, row in files_library(self.stack, self.name).items() if not row["deleted"]
        }

    def uploads(self, marker: str = "") -> list[dict[str, Any]]:
        return file_uploads(self.stack, self.name, marker)

    def image_counts(self, product_id: str) -> list[int] | None:
        wanted = num(product_id)
        return [
            len(b["images"]) for b in product_update_bodies(self.stack, self.name) if str(b["id"]) == wanted
        ]


@dataclass
class WooView:
    stack: DevStack
    name: str

    def _get(self, path: str, **params: Any) -> Any:
        answer = requests.get(
            f"{self.stack.woo.url}/__sandbox/sites/{self.name}{path}", params=params, timeout=30
        )
        assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text[:300]}"
        return answer.json()

    def product(self, product_id: str) -> ProductState:
        view = self._get(f"/products/{product_id}", hashes=1)
        return ProductState(
            tuple(Media(str(m["id"]), m.get("sha256"), m["src"], True) for m in view["images"]),
            {str(v["id"]): str(v["image_id"]) if v["image_id"] else None for v in view["variations"]},
        )

    def library(self) -> dict[str, str | None]:
        return {str(row["id"]): row["sha256"] for row in self._get("/media", hashes=1)}

    def uploads(self, marker: str = "") -> list[dict[str, Any]]:
        return [u for u in self._get("/uploads") if marker in (u.get("filename") or "")]

    def image_counts(self, product_id: str) -> list[int] | None:
        return None  # WooCommerce coalesces product.updated and builds the body when it sends it
