"""The rows of one emulated store: posts (products, variations, attachments), webhooks, keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.seeds.catalog import SeedImage


def now_utc() -> datetime:
    """The current time with WordPress's one-second resolution."""
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class Attachment:
    """An ``attachment`` post: a file in the media library (attached to a product or not)."""

    id: int
    file: str  # upload-relative path WordPress serves as the attachment ("2024/05/shoe-scaled.jpg")
    mime: str
    title: str
    parent: int
    via: str  # "seed" | "wp/v2/media" | "sideload" | "merchant"
    created: datetime
    alt: str = ""
    caption: str = ""
    author: int = 1
    original_file: str | None = None  # the uploaded file when WordPress serves a -scaled/-rotated copy
    width: int | None = None
    height: int | None = None
    data: bytes | None = None  # None for seeded photos, rendered on demand
    original_data: bytes | None = None
    seed: SeedImage | None = None
    modified: datetime = field(default_factory=now_utc)

    def bytes(self) -> bytes:
        """The bytes served at the attachment's URL."""
        if self.data is not None:
            return self.data
        if self.seed is not None:
            return self.seed.render().data
        return b""


@dataclass
class Product:
    """A ``product`` post; ``image_id`` is the featured image, ``gallery`` the others in order."""

    id: int
    name: str
    slug: str
    type: str
    created: datetime
    modified: datetime
    status: str = "publish"
    sku: str = ""
    description: str = ""
    short_description: str = ""
    regular_price: str = ""
    image_id: int = 0
    gallery: list[int] = field(default_factory=list)
    variation_ids: list[int] = field(default_factory=list)
    attributes: list[dict[str, Any]] = field(default_factory=list)
    menu_order: int = 0

    def image_ids(self) -> list[int]:
        """Featured image first, then the gallery (WooCommerce's ``images`` order)."""
        return ([self.image_id] if self.image_id else []) + list(self.gallery)


@dataclass
class Variation:
    """A ``product_variation`` post."""

    id: int
    parent_id: int
    created: datetime
    modified: datetime
    sku: str = ""
    image_id: int = 0
    attributes: list[dict[str, Any]] = field(default_factory=list)
    regular_price: str = ""
    description: str = ""
    status: str = "publish"
    menu_order: int = 0


@dataclass
class Webhook:
    """A row of ``wc_webhooks``."""

    id: int
    name: str
    status: str  # active | paused | disabled
    topic: str
    delivery_url: str
    secret: str
    created: datetime
    modified: datetime
    user_id: int = 1
    api_version: str = "wp_api_v3"
    failure_count: int = 0
    pending_delivery: bool = True  # set on creation, cleared by a ping the URL answered with 2xx

    @property
    def resource(self) -> str:
        """``product`` of ``product.updated``."""
        return self.topic.split(".", 1)[0]

    @property
    def event(self) -> str:
        """``updated`` of ``product.updated``."""
        return self.topic.split(".", 1)[1] if "." in self.topic else ""


@dataclass
class ApiKey:
    """A row of ``woocommerce_api_keys``."""

    key_id: int
    user_id: int
    description: str
    permissions: str  # read | write | read_write
    consumer_key: str
    consumer_secret: str
    nonces: dict[str, int] = field(default_factory=dict)  # nonce -> timestamp
    last_access: datetime | None = None

    @property
    def truncated_key(self) -> str:
        """The last 7 characters, as WooCommerce shows them."""
        return self.consumer_key[-7:]


@dataclass
class AppPassword:
    """A WordPress Application Password of a user."""

    uuid: str
    user_id: int
    name: str
    password: str  # without spaces
    app_id: str = ""  # the UUID an application identified itself with (authorize-application.php)
    created: datetime = field(default_factory=now_utc)
    last_used: datetime | None = None


@dataclass
class User:
    """A WordPress user."""

    id: int
    login: str
    email: str
    roles: tuple[str, ...] = ("administrator",)
