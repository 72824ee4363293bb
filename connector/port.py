"""The platform port: the one interface every store platform is reached through.

Two small Protocols, in the style of rq's own code:

* :class:`PlatformApp` — what the service needs of a platform *before* it knows a store:
  the install handshake and webhook verification.
* :class:`StoreClient` — the operations on one installed store: read the catalog, fetch
  bytes, and the media steps of a replacement.  Every step is idempotent, so an operation
  that was interrupted can simply run the step again.

Everything crossing the port is a plain dataclass defined here.  No platform URL, header
or payload shape leaks out of ``adapters/<platform>/``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, runtime_checkable


class MediaState(enum.StrEnum):
    """Processing state of a media item on the store; only READY may be relied on."""

    UPLOADED = "UPLOADED"
    PROCESSING = "PROCESSING"
    READY = "READY"
    FAILED = "FAILED"


#: :attr:`RemoteImage.position` of a photo only variants show (not in the product's gallery): it is
#: replaced by relinking those variants, never attached to or moved in the gallery.
VARIANTS_ONLY = -1


@dataclass(frozen=True)
class RemoteImage:
    """One product image as the store shows it now."""

    media_id: str
    position: int  # zero-based order on the product; 0 is the featured image; VARIANTS_ONLY
    src: str  # URL the bytes can be fetched from
    alt: str | None = None
    state: MediaState = MediaState.READY
    variant_ids: tuple[str, ...] = ()  # variants that show this image
    filename: str | None = None


@dataclass(frozen=True)
class RemoteProduct:
    """One product with its images in store order."""

    product_id: str
    title: str
    updated_at: datetime | None
    images: tuple[RemoteImage, ...]
    variant_ids: tuple[str, ...] = ()
    handle: str | None = None

    def image(self, media_id: str) -> RemoteImage | None:
        """The image with that media id, or None when the product no longer shows it."""
        return next((i for i in self.images if i.media_id == media_id), None)


@dataclass(frozen=True)
class MediaStatus:
    """Answer of :meth:`StoreClient.media_status`."""

    state: MediaState
    src: str | None = None
    error: str | None = None


class WebhookTopic(enum.StrEnum):
    """Platform-neutral webhook topics."""

    PING = "ping"
    PRODUCT_CREATED = "product.created"
    PRODUCT_UPDATED = "product.updated"
    PRODUCT_DELETED = "product.deleted"
    APP_UNINSTALLED = "app.uninstalled"
    CUSTOMER_DATA_REQUEST = "customers.data_request"
    CUSTOMER_REDACT = "customers.redact"
    SHOP_REDACT = "shop.redact"
    OTHER = "other"


@dataclass(frozen=True)
class WebhookEvent:
    """A verified webhook delivery, reduced to what the service acts on."""

    platform: str
    shop: str  # the store's domain as stored in ``stores.domain``
    topic: WebhookTopic
    event_id: str  # the platform's delivery/event id, used for de-duplication
    product_id: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InstallResult:
    """A finished install handshake: the store's domain and its credentials to keep (encrypted)."""

    shop: str
    credentials: Mapping[str, Any]
    scopes: tuple[str, ...] = ()


CredentialsSaver = Callable[[Mapping[str, Any]], None]
SecretLookup = Callable[[str], str | None]


@runtime_checkable
class SharedCredentials(Protocol):
    """An ``on_credentials`` that also coordinates token refreshes between processes (optional).

    Where a refresh token rotates (a used one dies), two processes holding the same expiring
    token must not both refresh it: the second would present a dead refresh token.  A client
    given one of these refreshes only inside :meth:`refreshing`, which holds the store's
    refresh lock (across processes) and yields the credentials as stored at that moment; when
    another process rotated them already, the client adopts those instead of refreshing.
    A plain :data:`CredentialsSaver` keeps working as before (no coordination).
    """

    def __call__(self, credentials: Mapping[str, Any]) -> None:
        """Persist rotated credentials."""
        ...

    def refreshing(self) -> AbstractContextManager[Mapping[str, Any]]:
        """Hold the store's refresh lock for the block; the credentials as stored now."""
        ...


@runtime_checkable
class StoreClient(Protocol):
    """Operations on one installed store.  Raise only :mod:`connector.errors` classes."""

    platform: ClassVar[str]

    def iter_products(self, updated_since: datetime | None = None) -> Iterator[RemoteProduct]:
        """Every product (or those changed since ``updated_since``), with images and variants."""
        ...

    def get_product(self, product_id: str) -> RemoteProduct | None:
        """Re-read one product; None when it was deleted."""
        ...

    def media_order(self, product_id: str) -> list[str] | None:
        """The media ids of the product's gallery in order; None when it was deleted.

        Cheaper than :meth:`get_product` where the platform charges reads by cost (Shopify)."""
        ...

    def fetch_bytes(self, url: str) -> bytes:
        """Download an image the store serves (CDN URL)."""
        ...

    def upload_media(self, product_id: str, data: bytes, filename: str, mime: str, alt: str | None) -> str:
        """Upload bytes as a new media item in the store's library (not yet on the product); its id."""
        ...

    def find_media(self, filename: str) -> str | None:
        """The id of a library media item uploaded under exactly this filename, or None.

        Upload filenames carry the operation's idempotency key, so a worker killed after an
        upload but before recording its id finds the upload again instead of uploading twice.
        """
        ...

    def media_status(self, media_id: str) -> MediaStatus:
        """Processing state of an uploaded media item."""
        ...

    def media_exists(self, media_id: str) -> bool:
        """Whether the media item still exists in the store's library (attached or not)."""
        ...

    def attach_media(self, product_id: str, media_id: str) -> None:
        """Show the media on the product (appended); no-op when already shown."""
        ...

    def move_media(self, product_id: str, media_id: str, position: int) -> None:
        """Move the media to a zero-based position; no-op when already there."""
        ...

    def link_variants(self, product_id: str, media_id: str, variant_ids: tuple[str, ...]) -> None:
        """Make these variants show the media; no-op for those that already do."""
        ...

    def detach_media(self, product_id: str, media_id: str) -> None:
        """Remove the media from the product but keep it in the library; no-op when not shown."""
        ...

    def delete_media(self, media_id: str) -> None:
        """Delete a media item of the connector's own, detached from every product, from the store's
        library for good (already gone: nothing to do).  Never called for a merchant's media."""
        ...

    def register_webhooks(self, callback_url: str) -> None:
        """Subscribe the service's webhook endpoint to the topics it needs (idempotent)."""
        ...


class SharedState(Protocol):
    """State shared by every process of one deployment: its Redis, under the deployment's namespace."""

    def redis(self) -> Any:
        """A ``redis.Redis`` connection (opened on first use)."""
        ...

    def key(self, *parts: object) -> str:
        """A key inside the deployment's namespace."""
        ...


@dataclass(frozen=True)
class PlatformContext:
    """What the service hands a platform's factory (``build_app``) when it builds the platform.

    ``env`` is the service's configuration (the environment with ``.env``): a platform reads its
    own variables from it (``SHOPIFY_API_KEY``...), so the core never names them.
    """

    env: Mapping[str, str] = field(repr=False)
    http_timeout: float = 30.0
    shared: SharedState | None = None
    #: Where requests to stores may go (adapters/outbound.py): ``host`` or ``host:port`` entries the
    #: operator allows over http and on private addresses (OUTBOUND_ALLOW_HOSTS), and whether every
    #: other host must be https (production).
    outbound_allow_hosts: str = ""
    https_only: bool = True


#: A platform's factory, named in the service's ``PLATFORMS`` setting as ``module:attribute``.
PlatformFactory = Callable[[PlatformContext], "PlatformApp"]


class PlatformApp(Protocol):
    """What the service needs of a platform before a store is known."""

    name: ClassVar[str]
    #: Longest image side the store serves unchanged (None: no limit the connector must respect).
    max_image_side: ClassVar[int | None]

    def normalize_shop(self, shop: str) -> str:
        """The store's name as the platform knows it (what an install records and its callback must
        name exactly); AuthError when it is not one the connector may install into."""
        ...

    def authorize_url(self, shop: str, state: str, redirect_uri: str) -> str:
        """Where to send the merchant to grant access."""
        ...

    def complete_install(self, params: Mapping[str, str], body: bytes, state: str | None) -> InstallResult:
        """Finish the handshake from the callback's query and body; raise AuthError when forged."""
        ...

    def webhook_shop(self, headers: Mapping[str, str], body: bytes) -> str | None:
        """The store domain a delivery claims to come from (unverified), to look up its secret."""
        ...

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str | None) -> WebhookEvent:
        """Verify the signature in constant time and parse the delivery; raise WebhookRejected."""
        ...

    def client(
        self, shop: str, credentials: Mapping[str, Any], on_credentials: CredentialsSaver | None = None
    ) -> StoreClient:
        """A client for one installed store; ``on_credentials`` persists rotated tokens.

        It may be a :class:`SharedCredentials`, so processes sharing a store refresh in turn.
        """
        ...


@runtime_checkable
class FollowUpConsent(Protocol):
    """Optional part of a :class:`PlatformApp`: a second consent in the merchant's browser.

    For a platform whose handshake posts the credentials server to server and then sends the
    browser to a return URL, and whose credentials do not cover everything (WooCommerce's key
    grant: WordPress's media routes also need an Application Password).  The service passes its
    ``return_url`` to :meth:`authorize_url`; a browser arriving there after a completed handshake
    is sent to :meth:`followup_url`, and :meth:`complete_followup` turns that page's callback into
    credentials merged with the store's.  An app without these methods installs in one step (the
    default, see :func:`followup_consent`).
    """

    def authorize_url(
        self, shop: str, state: str, redirect_uri: str, *, return_url: str | None = None
    ) -> str:
        """:meth:`PlatformApp.authorize_url`, sending the browser to ``return_url`` once the grant is done."""
        ...

    def followup_url(self, shop: str, state: str, redirect_uri: str) -> str:
        """Where to send the merchant for the second consent, calling back ``redirect_uri`` with ``state``."""
        ...

    def complete_followup(self, shop: str, params: Mapping[str, str], state: str) -> Mapping[str, Any]:
        """The verified credentials the callback carries; AuthError when declined or forged."""
        ...


def followup_consent(app: PlatformApp) -> FollowUpConsent | None:
    """The app's second consent step, or None when its install is complete after the handshake."""
    return app if isinstance(app, FollowUpConsent) else None


@runtime_checkable
class CredentialCheck(Protocol):
    """Optional part of a :class:`PlatformApp`: checking credentials an operator enters by hand."""

    def store_address(self, shop: str) -> str:
        """The store's address in canonical form (as webhooks name it); AuthError when it is none."""
        ...

    def check_credentials(self, shop: str, credentials: Mapping[str, Any]) -> None:
        """Prove the credentials work on the store; AuthError saying what does not and what to do."""
        ...


def credential_check(app: PlatformApp) -> CredentialCheck | None:
    """The app's credential check, or None when it has none (credentials are then taken as given)."""
    return app if isinstance(app, CredentialCheck) else None
