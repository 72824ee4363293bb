"""An in-memory platform behind the port, for fast tests of the connector's own logic.

It keeps the semantics the connector relies on — a media library separate from what a
product shows, idempotent steps, variant links dropped when media leaves a product, own
changes bumping ``updated_at`` — without HTTP.  The sandbox stores cover the real protocols.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from connector.errors import AuthError, NotFound, WebhookRejected
from connector.port import (
    CredentialsSaver,
    InstallResult,
    MediaState,
    MediaStatus,
    PlatformContext,
    RemoteImage,
    RemoteProduct,
    WebhookEvent,
    WebhookTopic,
)


@dataclass
class FakeMedia:
    """A media item in the fake library."""

    media_id: str
    data: bytes
    filename: str
    alt: str | None = None


@dataclass
class FakeProduct:
    """A product in the fake store: ordered media ids and variant → media links."""

    product_id: str
    title: str
    media: list[str] = field(default_factory=list)
    variants: dict[str, str | None] = field(default_factory=dict)
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class FakeStore:
    """The state of one fake shop, shared by every client made for it."""

    def __init__(self, shop: str) -> None:
        self.shop = shop
        self.lock = threading.RLock()
        self.library: dict[str, FakeMedia] = {}
        self.products: dict[str, FakeProduct] = {}
        self.uploads: list[str] = []
        self.calls: list[str] = []
        self.installed = True  # False: the app was uninstalled, its token refused
        self._ids = itertools.count(1)

    def next_id(self, prefix: str) -> str:
        """A new id in the store's id space."""
        return f"{prefix}{next(self._ids)}"

    def add_media(self, data: bytes, filename: str, alt: str | None = None) -> str:
        """Put bytes in the library (as the merchant or an upload would)."""
        media_id = self.next_id("m")
        self.library[media_id] = FakeMedia(media_id, data, filename, alt)
        return media_id

    def add_product(self, title: str, images: list[bytes], variants: int = 0) -> FakeProduct:
        """Create a product showing these images; the first variant shows the first image."""
        product = FakeProduct(self.next_id("p"), title)
        product.media = [self.add_media(data, f"{title}-{i}.png") for i, data in enumerate(images)]
        for i in range(variants):
            product.variants[self.next_id("v")] = product.media[0] if i == 0 and product.media else None
        self.products[product.product_id] = product
        return product

    def touch(self, product: FakeProduct) -> None:
        """Record a change, as the platforms do for every save."""
        product.updated_at = datetime.now(UTC)


class FakeClient:
    """StoreClient over a :class:`FakeStore`."""

    platform: ClassVar[str] = "fake"

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def _product(self, product_id: str) -> FakeProduct:
        product = self.store.products.get(product_id)
        if product is None:
            raise NotFound(f"product {product_id} does not exist in {self.store.shop}")
        return product

    def _remote(self, product: FakeProduct) -> RemoteProduct:
        images = tuple(
            RemoteImage(
                media_id=mid,
                position=pos,
                src=f"fake://{self.store.shop}/{mid}",
                alt=self.store.library[mid].alt,
                variant_ids=tuple(v for v, m in product.variants.items() if m == mid),
                filename=self.store.library[mid].filename,
            )
            for pos, mid in enumerate(product.media)
        )
        return RemoteProduct(
            product.product_id, product.title, product.updated_at, images, tuple(product.variants)
        )

    def iter_products(self, updated_since: datetime | None = None) -> Iterator[RemoteProduct]:
        with self.store.lock:
            products = list(self.store.products.values())
        for product in products:
            if updated_since is None or product.updated_at > updated_since:
                yield self._remote(product)

    def get_product(self, product_id: str) -> RemoteProduct | None:
        if not self.store.installed:
            raise AuthError(f"the app is not installed on {self.store.shop}")
        with self.store.lock:
            product = self.store.products.get(product_id)
            return self._remote(product) if product else None

    def media_order(self, product_id: str) -> list[str] | None:
        remote = self.get_product(product_id)
        return [image.media_id for image in remote.images] if remote else None

    def fetch_bytes(self, url: str) -> bytes:
        media_id = url.rsplit("/", 1)[-1]
        media = self.store.library.get(media_id)
        if media is None:
            raise NotFound(f"no media at {url}")
        return media.data

    def upload_media(self, product_id: str, data: bytes, filename: str, mime: str, alt: str | None) -> str:
        with self.store.lock:
            self.store.calls.append("upload")
            media_id = self.store.add_media(data, filename, alt)
            self.store.uploads.append(media_id)
            return media_id

    def find_media(self, filename: str) -> str | None:
        return next((m.media_id for m in self.store.library.values() if m.filename == filename), None)

    def media_status(self, media_id: str) -> MediaStatus:
        if media_id not in self.store.library:
            raise NotFound(f"media {media_id} does not exist")
        return MediaStatus(MediaState.READY, src=f"fake://{self.store.shop}/{media_id}")

    def media_exists(self, media_id: str) -> bool:
        return media_id in self.store.library

    def attach_media(self, product_id: str, media_id: str) -> None:
        with self.store.lock:
            product = self._product(product_id)
            if media_id not in product.media:
                self.store.calls.append("attach")
                product.media.append(media_id)
                self.store.touch(product)

    def move_media(self, product_id: str, media_id: str, position: int) -> None:
        with self.store.lock:
            product = self._product(product_id)
            if media_id in product.media and product.media.index(media_id) != position:
                self.store.calls.append("move")
                product.media.remove(media_id)
                product.media.insert(min(position, len(product.media)), media_id)
                self.store.touch(product)

    def link_variants(self, product_id: str, media_id: str, variant_ids: tuple[str, ...]) -> None:
        with self.store.lock:
            product = self._product(product_id)
            for vid in variant_ids:
                if vid in product.variants:
                    product.variants[vid] = media_id
            self.store.touch(product)

    def detach_media(self, product_id: str, media_id: str) -> None:
        with self.store.lock:
            product = self._product(product_id)
            if media_id in product.media:
                self.store.calls.append("detach")
                product.media.remove(media_id)
                for vid, mid in product.variants.items():
                    if mid == media_id:
                        product.variants[vid] = None
                self.store.touch(product)

    def delete_media(self, media_id: str) -> None:
        with self.store.lock:
            self.store.library.pop(media_id, None)

    def register_webhooks(self, callback_url: str) -> None:
        self.store.calls.append(f"webhooks:{callback_url}")


class FakeApp:
    """PlatformApp for fake shops: an HMAC over the body, shops kept in this object."""

    name: ClassVar[str] = "fake"
    max_image_side: ClassVar[int | None] = None

    def __init__(self, secret: str = "fake-secret") -> None:
        self.secret = secret
        self.stores: dict[str, FakeStore] = {}

    def store(self, shop: str) -> FakeStore:
        """The fake shop with that domain (created on first use)."""
        return self.stores.setdefault(shop, FakeStore(shop))

    def normalize_shop(self, shop: str) -> str:
        return shop.strip().lower()

    def authorize_url(self, shop: str, state: str, redirect_uri: str) -> str:
        return f"fake://{shop}/authorize?state={state}&redirect_uri={redirect_uri}"

    def complete_install(self, params: Mapping[str, str], body: bytes, state: str | None) -> InstallResult:
        if not state or params.get("state") != state:
            raise AuthError("install state does not match", hint="start the install again from the store")
        shop = params["shop"]
        self.store(shop)
        return InstallResult(shop, {"token": f"tok-{shop}"})

    def sign(self, body: bytes) -> str:
        """The signature a genuine delivery carries."""
        return base64.b64encode(hmac.new(self.secret.encode(), body, hashlib.sha256).digest()).decode()

    def webhook_shop(self, headers: Mapping[str, str], body: bytes) -> str | None:
        return headers.get("X-Fake-Shop")

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str | None) -> WebhookEvent:
        if not hmac.compare_digest(headers.get("X-Fake-Signature", ""), self.sign(body)):
            raise WebhookRejected("webhook signature does not match", hint="check the app secret")
        payload: dict[str, Any] = json.loads(body or b"{}")
        return WebhookEvent(
            platform=self.name,
            shop=headers.get("X-Fake-Shop", ""),
            topic=WebhookTopic(headers.get("X-Fake-Topic", "other")),
            event_id=headers.get("X-Fake-Event", ""),
            product_id=payload.get("product_id"),
            payload=payload,
        )

    def client(
        self, shop: str, credentials: Mapping[str, Any], on_credentials: CredentialsSaver | None = None
    ) -> FakeClient:
        if credentials.get("token") != f"tok-{shop}":
            raise AuthError(f"no valid token for {shop}", hint="install the app again")
        return FakeClient(self.store(shop))


def build_app(context: PlatformContext) -> FakeApp:
    """The fake platform as a deployment builds it (``PLATFORMS=fake=sandbox.fake_platform:build_app``)."""
    return FakeApp(secret=context.env.get("FAKE_PLATFORM_SECRET") or "fake-secret")
