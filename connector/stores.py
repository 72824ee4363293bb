"""Installed stores: saving credentials encrypted, and opening a client on one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.base import StoreClient
from connector.crypto import decrypt_json, encrypt_json
from connector.errors import AuthError, NotFound
from connector.models import Store, StoreMode, utcnow
from connector.services import Services


def find_store(session: Session, platform: str, domain: str) -> Store | None:
    """The store row for a platform and domain, installed or not."""
    return session.scalar(select(Store).where(Store.platform == platform, Store.domain == domain))


def get_store(session: Session, store_id: int) -> Store:
    """A store by id, or NotFound with a hint."""
    store = session.get(Store, store_id)
    if store is None:
        raise NotFound(f"store {store_id} does not exist", hint="list stores with `connector stores`")
    return store


def save_install(
    services: Services, platform: str, domain: str, credentials: Mapping[str, Any], mode: str | None = None
) -> int:
    """Create or re-activate a store after an install handshake; returns its id."""
    with services.session() as s:
        store = find_store(s, platform, domain)
        if store is None:
            store = Store(
                platform=platform,
                domain=domain,
                mode=mode or services.settings.default_mode,
                preset=services.settings.preset,
                model=services.settings.model,
                settings={},
            )
            s.add(store)
        elif mode:
            store.mode = mode
        kept = credentials_of(services, store) if store.credentials_encrypted else {}
        # a re-install brings new tokens; what it does not bring (e.g. an Application Password) is kept
        store.credentials_encrypted = encrypt_json(services.settings.encryption_key, {**kept, **credentials})
        store.active = True
        store.uninstalled_at = None
        s.flush()
        return store.id


def add_credentials(services: Services, store_id: int, extra: Mapping[str, Any]) -> None:
    """Merge more credentials into a store's (e.g. a WordPress Application Password for media uploads)."""
    with services.session() as s:
        store = get_store(s, store_id)
        merged = {**credentials_of(services, store), **extra}
        store.credentials_encrypted = encrypt_json(services.settings.encryption_key, merged)


def credentials_of(services: Services, store: Store) -> dict[str, Any]:
    """The decrypted credentials of a store."""
    return decrypt_json(services.settings.encryption_key, store.credentials_encrypted)


def open_client(services: Services, store_id: int) -> StoreClient:
    """A platform client for an installed, active store; rotated tokens are saved encrypted."""
    with services.session() as s:
        store = get_store(s, store_id)
        if not store.active:
            raise AuthError(
                f"{store.domain} is uninstalled; the connector does no work for it",
                hint="install the app again to resume",
            )
        platform, domain, creds = store.platform, store.domain, credentials_of(services, store)

    def save(new: Mapping[str, Any]) -> None:
        with services.session() as s2:
            row = get_store(s2, store_id)
            row.credentials_encrypted = encrypt_json(services.settings.encryption_key, new)

    return services.platform(platform).client(domain, creds, on_credentials=save)


def mark_uninstalled(services: Services, store_id: int) -> None:
    """Stop all work for a store and forget its credentials; history stays."""
    with services.session() as s:
        store = get_store(s, store_id)
        store.active = False
        store.mode = StoreMode.PAUSED.value
        store.credentials_encrypted = ""
        store.uninstalled_at = utcnow()
