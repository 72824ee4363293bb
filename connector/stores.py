"""Installed stores: saving credentials encrypted, and opening a client on one."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from functools import lru_cache
from typing import Any

from redis.exceptions import LockError
from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.crypto import decrypt_json, encrypt_json
from connector.errors import AuthError, NotFound, TransientError
from connector.logs import redact_values
from connector.models import Store, StoreMode, utcnow
from connector.port import StoreClient
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
    redact_values(credentials.values())
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
    redact_values(extra.values())
    with services.session() as s:
        store = get_store(s, store_id)
        merged = {**credentials_of(services, store), **extra}
        store.credentials_encrypted = encrypt_json(services.settings.encryption_key, merged)


def credentials_of(services: Services, store: Store) -> dict[str, Any]:
    """The decrypted credentials of a store (their values are kept out of every log line)."""
    credentials = decrypt_json(services.settings.encryption_key, store.credentials_encrypted)
    redact_values(credentials.values())
    return credentials


def webhook_secret(services: Services, credentials_encrypted: str) -> str | None:
    """A store's own webhook secret, if it has one (decrypted once per process and ciphertext)."""
    return _webhook_secret(services.settings.encryption_key, credentials_encrypted)


@lru_cache(maxsize=256)
def _webhook_secret(keys: str, token: str) -> str | None:
    credentials = decrypt_json(keys, token)
    redact_values(credentials.values())
    secret = credentials.get("webhook_secret")
    return str(secret) if secret else None


def _uninstalled(domain: str) -> AuthError:
    return AuthError(
        f"{domain} is uninstalled; the connector does no work for it", hint="install the app again to resume"
    )


class StoredCredentials:
    """A store's encrypted credentials as every process shares them (:class:`SharedCredentials`).

    Calling it saves rotated credentials (merged into what is stored, encrypted).
    :meth:`refreshing` holds a per-store Redis lock and yields the credentials as stored now,
    so of several workers holding the same expiring token only one refreshes it and the
    others adopt the rotated tokens instead of presenting a dead refresh token.
    """

    def __init__(self, services: Services, store_id: int) -> None:
        self.services = services
        self.store_id = store_id

    @property
    def lock_key(self) -> str:
        """The Redis key of this store's refresh lock."""
        return self.services.settings.redis_key("lock", "credentials", self.store_id)

    def load(self) -> dict[str, Any]:
        """The decrypted credentials of the (active) store."""
        with self.services.session() as s:
            store = get_store(s, self.store_id)
            if not store.active:
                raise _uninstalled(store.domain)
            return credentials_of(self.services, store)

    def __call__(self, credentials: Mapping[str, Any]) -> None:
        """Persist rotated credentials, unless the store was uninstalled meanwhile."""
        redact_values(credentials.values())
        key = self.services.settings.encryption_key
        with self.services.session() as s:
            store = get_store(s, self.store_id)
            if not store.active:
                raise _uninstalled(store.domain)
            merged = {**credentials_of(self.services, store), **credentials}
            store.credentials_encrypted = encrypt_json(key, merged)

    @contextmanager
    def refreshing(self) -> Iterator[Mapping[str, Any]]:
        """Hold the store's refresh lock (waiting for another holder); the stored credentials."""
        ttl = max(60, self.services.settings.lock_ttl)
        lock = self.services.redis.lock(self.lock_key, timeout=ttl, blocking_timeout=ttl)
        if not lock.acquire():
            raise TransientError(
                f"another worker has been refreshing the token of store {self.store_id} for {ttl} s",
                hint="the job is retried; check the platform's token endpoint is reachable",
            )
        try:
            yield self.load()
        finally:
            with suppress(LockError):  # it expired while held; another worker may hold it now
                lock.release()


def open_client(services: Services, store_id: int) -> StoreClient:
    """A platform client for an installed, active store; rotated tokens are saved encrypted.

    Token refreshes are coordinated between processes through :class:`StoredCredentials`.
    """
    shared = StoredCredentials(services, store_id)
    with services.session() as s:
        store = get_store(s, store_id)
        platform, domain = store.platform, store.domain
    return services.platform(platform).client(domain, shared.load(), on_credentials=shared)


def mark_uninstalled(services: Services, store_id: int) -> None:
    """Stop all work for a store and forget its credentials; history stays."""
    with services.session() as s:
        store = get_store(s, store_id)
        store.active = False
        store.mode = StoreMode.PAUSED.value
        store.credentials_encrypted = ""
        store.uninstalled_at = utcnow()
