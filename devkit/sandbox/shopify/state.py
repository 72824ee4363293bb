"""The sandbox's in-memory state: shops, products, media files, uploads, tokens, subscriptions.

Everything is guarded by one re-entrant lock (:attr:`SandboxState.lock`); request handlers and
background tasks take it around every read-modify-write.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sandbox.seeds.catalog import SeedImage

SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")

#: media (file) processing states, shared by ``status`` and ``fileStatus``
UPLOADED, PROCESSING, READY, FAILED = "UPLOADED", "PROCESSING", "READY", "FAILED"


def normalize_shop(shop: str) -> str:
    """``name`` or ``name.myshopify.com`` -> ``name.myshopify.com`` (lower case); ValueError if malformed."""
    domain = shop.strip().lower()
    if "." not in domain:
        domain = f"{domain}.myshopify.com"
    if not SHOP_DOMAIN.match(domain):
        raise ValueError(f"invalid shop domain {shop!r}: use <name>.myshopify.com with a-z, 0-9 and '-'")
    return domain


@dataclass
class MediaError:
    code: str
    message: str
    details: str | None = None


@dataclass
class MediaFile:
    """One file in the shop's Files library (a MediaImage); products reference it as product media."""

    num: int
    image_num: int  # id of its ProductImage (the REST image id)
    filename: str
    alt: str
    status: str
    created_at: float
    updated_at: float
    origin: str  # "seed" | "app" | "merchant"
    app_key: str | None = None
    data: bytes | None = None  # None for seeded images, rendered on demand
    seed: SeedImage | None = None
    mime: str | None = None
    width: int | None = None
    height: int | None = None
    sha256: str | None = None
    byte_size: int | None = None
    version: int = 1  # the CDN URL's ?v=
    source_url: str | None = None
    errors: list[MediaError] = field(default_factory=list)
    pending: bytes | None = None  # new bytes being processed (fileCreate / fileUpdate originalSource)
    pending_source: str | None = None
    products: list[int] = field(default_factory=list)  # products showing it, in attach order
    deleted: bool = False

    @property
    def ready(self) -> bool:
        return self.status == READY


@dataclass
class Variant:
    num: int
    title: str
    sku: str | None
    position: int
    created_at: float
    updated_at: float
    media_num: int | None = None
    price: str = "19.99"


@dataclass
class Product:
    num: int
    title: str
    handle: str
    created_at: float
    updated_at: float
    media: list[int] = field(default_factory=list)  # file nums in display order
    variants: list[Variant] = field(default_factory=list)
    status: str = "ACTIVE"
    vendor: str = "Sandbox Goods"
    product_type: str = ""
    key: str | None = None  # the catalog key it was seeded from

    @property
    def has_only_default_variant(self) -> bool:
        return len(self.variants) == 1 and self.variants[0].title == "Default Title"


@dataclass
class StagedUpload:
    """A staged upload target handed out by ``stagedUploadsCreate`` and, once posted, its bytes."""

    token: str
    shop: str
    app_key: str
    resource: str
    filename: str
    mime: str
    http_method: str
    declared_size: int | None
    parameters: list[dict[str, str]]
    created_at: float
    expires_at: float
    data: bytes | None = None
    uploaded_at: float | None = None
    rejected: list[str] = field(default_factory=list)  # why form posts were refused


@dataclass
class Job:
    num: int
    done: bool = False


@dataclass
class BulkOperation:
    num: int
    app_key: str
    query: str
    status: str
    created_at: float
    completed_at: float | None = None
    object_count: int = 0
    root_object_count: int = 0
    jsonl: bytes | None = None
    error_code: str | None = None


@dataclass
class WebhookSubscription:
    num: int
    app_key: str
    topic: str  # enum value, e.g. PRODUCTS_UPDATE
    callback_url: str
    created_at: float
    updated_at: float
    format: str = "JSON"
    include_fields: tuple[str, ...] = ()
    failures: int = 0


@dataclass
class Installation:
    app_key: str
    scopes: frozenset[str]
    installed_at: float


@dataclass
class Token:
    value: str
    kind: str  # "access" | "refresh"
    shop: str
    app_key: str
    scopes: frozenset[str]
    issued_at: float
    expires_at: float | None
    revoked: bool = False

    def alive(self, now: float) -> bool:
        return not self.revoked and (self.expires_at is None or now < self.expires_at)


@dataclass
class AuthCode:
    code: str
    shop: str
    app_key: str
    scopes: frozenset[str]
    expires_at: float
    used: bool = False


@dataclass
class ShopState:
    """One shop and everything in it."""

    domain: str
    num: int
    name: str
    created_at: float
    seed: int | None = None
    profile: str | None = None
    products: dict[int, Product] = field(default_factory=dict)
    files: dict[int, MediaFile] = field(default_factory=dict)
    variants: dict[int, int] = field(default_factory=dict)  # variant num -> product num
    staged: dict[str, StagedUpload] = field(default_factory=dict)
    jobs: dict[int, Job] = field(default_factory=dict)
    bulk_operations: dict[int, BulkOperation] = field(default_factory=dict)
    subscriptions: dict[int, WebhookSubscription] = field(default_factory=dict)
    installations: dict[str, Installation] = field(default_factory=dict)
    charges: dict[int, Any] = field(default_factory=dict)  # app subscriptions (sandbox.shopify.billing)
    uploads: list[dict[str, Any]] = field(default_factory=list)  # every upload ever made (admin view)
    api_log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=2000))

    @property
    def handle(self) -> str:
        return self.domain.split(".", 1)[0]

    def product_of_variant(self, variant_num: int) -> Product | None:
        pnum = self.variants.get(variant_num)
        return self.products.get(pnum) if pnum is not None else None

    def variant(self, variant_num: int) -> Variant | None:
        product = self.product_of_variant(variant_num)
        if product is None:
            return None
        return next((v for v in product.variants if v.num == variant_num), None)

    def live_file(self, num: int) -> MediaFile | None:
        f = self.files.get(num)
        return f if f is not None and not f.deleted else None

    def files_named(self, filename: str) -> list[MediaFile]:
        return [f for f in self.files.values() if not f.deleted and f.filename == filename]


class SandboxState:
    """All shops, the app registry, tokens and id allocation."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.shops: dict[str, ShopState] = {}
        self.tokens: dict[str, Token] = {}
        self.codes: dict[str, AuthCode] = {}
        # Shopify ids are large (beyond 2**31): clients that squeeze them into 32 bits break here too.
        self._ids = itertools.count(8_100_000_000_001)

    def next_id(self) -> int:
        """A fresh numeric id (unique across every type, like Shopify's)."""
        with self.lock:
            return next(self._ids)

    def shop(self, name: str) -> ShopState | None:
        """The shop for a path segment or domain, or None."""
        try:
            domain = normalize_shop(name)
        except ValueError:
            return None
        return self.shops.get(domain)

    def add_shop(self, domain: str, seed: int | None = None, profile: str | None = None) -> ShopState:
        with self.lock:
            if domain in self.shops:
                raise ValueError(f"shop {domain} already exists")
            name = " ".join(part.capitalize() for part in domain.split(".", 1)[0].split("-"))
            shop = ShopState(domain, self.next_id(), name, time.time(), seed=seed, profile=profile)
            self.shops[domain] = shop
            return shop
