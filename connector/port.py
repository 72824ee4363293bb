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


class PlatformObserver(Protocol):
    """Told about an adapter's traffic with its platform (metrics, logs).  Must be fast."""

    def on_call(self, platform: str, status: int | None) -> None:
        """One HTTP request answered with ``status`` (None: the network failed)."""
        ...

    def on_retry(self, platform: str, error: str) -> None:
        """A transient failure is about to be retried."""
        ...

    def on_throttle(self, platform: str, seconds: float) -> None:
        """The platform's rate limit makes a call wait ``seconds``."""
        ...


class PlatformEvents:
    """Where adapters report their traffic; the core subscribes observers to it.

    Reporting never breaks a call: an observer that raises is ignored.
    """

    def __init__(self) -> None:
        self._observers: list[PlatformObserver] = []

    def subscribe(self, observer: PlatformObserver) -> None:
        """Add an observer (once)."""
        if observer not in self._observers:
            self._observers.append(observer)

    def unsubscribe(self, observer: PlatformObserver) -> None:
        """Remove an observer (no-op when absent)."""
        if observer in self._observers:
            self._observers.remove(observer)

    def _each(self, notify: Callable[[PlatformObserver], None]) -> None:
        for observer in list(self._observers):
            try:
                notify(observer)
            except Exception:
                continue

    def call(self, platform: str, status: int | None) -> None:
        """Report one request and its HTTP status (None: network failure)."""
        self._each(lambda o: o.on_call(platform, status))

    def retry(self, platform: str, error: str) -> None:
        """Report a retry of a transient failure."""
        self._each(lambda o: o.on_retry(platform, error))

    def throttle(self, platform: str, seconds: float) -> None:
        """Report a wait imposed by the platform's rate limit."""
        self._each(lambda o: o.on_throttle(platform, seconds))


#: The process's platform traffic reports (adapters report, connector.metrics listens).
platform_events = PlatformEvents()


# ------------------------------------------------------------------ embedded pages and billing


@dataclass(frozen=True)
class SessionIdentity:
    """A verified session token of a page embedded in the platform's admin: whose request it is."""

    shop: str  # the store's domain as stored in ``stores.domain``
    user: str  # the admin user the token was issued to
    session: str  # the admin session id
    token_id: str  # the token's own id (jti)
    expires_at: float  # epoch seconds


@dataclass(frozen=True)
class EmbeddedFrame:
    """What an embedded page loads first so the admin can host it: scripts and meta tags, in order."""

    meta: Mapping[str, str]
    scripts: tuple[str, ...]


@runtime_checkable
class EmbeddedApp(Protocol):
    """Optional part of a :class:`PlatformApp`: pages that live inside the platform's admin.

    Every request of such a page carries a short-lived session token (``Authorization: Bearer``);
    the first load carries one in its launch parameters.  A store not installed yet is installed
    by trading that token for offline credentials (managed install).
    """

    def embedded_frame(self) -> EmbeddedFrame:
        """The scripts and meta tags the admin requires in an embedded page's head."""
        ...

    def frame_ancestors(self, shop: str) -> tuple[str, ...]:
        """The origins allowed to frame the store's embedded pages (Content-Security-Policy)."""
        ...

    def verify_launch(self, params: Mapping[str, str]) -> SessionIdentity:
        """Check an embedded page's launch parameters and their session token; AuthError when not valid."""
        ...

    def verify_session_token(self, authorization: str | None) -> SessionIdentity:
        """Check an ``Authorization`` header's session token (signature, audience, shop, expiry)."""
        ...

    def launch_token(self, params: Mapping[str, str]) -> str:
        """The session token inside verified launch parameters."""
        ...

    def install_from_session(self, shop: str, session_token: str) -> InstallResult:
        """Trade a verified session token for the store's offline credentials (token exchange)."""
        ...

    def admin_app_url(self, shop: str) -> str:
        """Where the merchant opens this app in their admin (return address after a charge approval)."""
        ...


@dataclass(frozen=True)
class BillingPlan:
    """A plan charged per processed image: a usage line capped per month.  Amounts are decimal strings."""

    name: str
    price_per_image: str
    capped_amount: str
    currency: str
    test: bool  # a test charge: approved like a real one, never billed

    @property
    def terms(self) -> str:
        """The usage terms the merchant reads on the confirmation page."""
        price = f"{self.price_per_image} {self.currency}"
        return f"{price} per published image, at most {self.capped_amount} {self.currency} a month"


@dataclass(frozen=True)
class Subscription:
    """A store's subscription to a plan, as the platform reports it."""

    id: str
    name: str
    status: str  # ACTIVE, PENDING, DECLINED, CANCELLED, EXPIRED, FROZEN
    usage_line_id: str | None
    capped_amount: str | None = None
    balance_used: str | None = None
    test: bool = False


@runtime_checkable
class BillingClient(Protocol):
    """Charging one store through its platform's billing."""

    def subscribe(self, plan: BillingPlan, return_url: str) -> tuple[str, str]:
        """Create a pending subscription; its id and the URL where the merchant approves it."""
        ...

    def active_subscriptions(self) -> list[Subscription]:
        """The store's subscriptions to this app that are active now."""
        ...

    def charge(self, line_id: str, amount: str, currency: str, description: str, key: str) -> str:
        """One usage record on the usage line; ``key`` makes a repeated call charge once.  Its id."""
        ...


@runtime_checkable
class BillingApp(Protocol):
    """Optional part of a :class:`PlatformApp`: a platform that bills the merchant for the app."""

    def billing(
        self, shop: str, credentials: Mapping[str, Any], on_credentials: CredentialsSaver | None = None
    ) -> BillingClient:
        """A billing client for one installed store."""
        ...
