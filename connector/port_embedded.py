"""Optional parts of the platform port: pages embedded in the platform's admin (session tokens,
launch parameters) and billing the merchant through the platform."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from connector.port import CredentialsSaver, InstallResult


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
