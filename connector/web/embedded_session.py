"""Authentication of embedded requests: the platform checks the session token, we find its store."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from sqlalchemy import select

from connector.errors import AuthError, ConfigurationError
from connector.models import Image, Product, Run, Store
from connector.port_embedded import EmbeddedApp, SessionIdentity
from connector.stores import find_store
from connector.web.context import services

REOPEN_HINT = "open the app again from your admin"


@dataclass(frozen=True)
class Merchant:
    """A verified embedded request: who sent it and the store it may act on."""

    identity: SessionIdentity
    platform: str
    store_id: int

    @property
    def actor(self) -> str:
        """How the merchant appears in the history."""
        return f"merchant:{self.identity.user}"


def embedded_app(platform: str) -> EmbeddedApp:
    """The platform's app, if it can be embedded in its admin."""
    app = services().platform(platform)
    if not isinstance(app, EmbeddedApp):
        raise ConfigurationError(f"{platform} apps are not embedded in an admin", hint="use the dashboard")
    return app


def installed_store(platform: str, shop: str) -> int | None:
    """The active store of a shop, or None when it is not installed (or was uninstalled)."""
    with services().session() as s:
        store = find_store(s, platform, shop)
        return store.id if store is not None and store.active and store.credentials_encrypted else None


def merchant(platform: str) -> Merchant:
    """The request's verified merchant (its ``Authorization`` session token); AuthError (401) otherwise."""
    identity = embedded_app(platform).verify_session_token(request.headers.get("Authorization"))
    store_id = installed_store(platform, identity.shop)
    if store_id is None:
        raise AuthError(f"{identity.shop} has not installed the app", hint=REOPEN_HINT)
    return Merchant(identity, platform, store_id)


def _owner(model: type[Image] | type[Product] | type[Run], row_id: int) -> int | None:
    with services().session() as s:
        return s.scalar(select(model.store_id).where(model.id == row_id))


def own(who: Merchant, model: type[Image] | type[Product] | type[Run], row_id: int) -> int:
    """``row_id`` when it belongs to the merchant's store; AuthError (401) for anyone else's."""
    if _owner(model, row_id) != who.store_id:
        raise AuthError(
            f"{model.__tablename__[:-1]} {row_id} is not part of {who.identity.shop}", hint=REOPEN_HINT
        )
    return row_id


def store_row(store_id: int) -> Store:
    """A detached copy of the store."""
    with services().session() as s:
        store = s.get(Store, store_id)
        assert store is not None
        s.expunge(store)
        return store
