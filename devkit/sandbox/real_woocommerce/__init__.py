"""A real WordPress 6.1 + WooCommerce 7.9 store on loopback for tests (Debian packages, MariaDB, php -S).

:func:`start_real_store` checks the prerequisites (raising :class:`RealStoreUnavailable` with the
reason), builds a fresh store with its own database and seeds it; ``stop()`` removes it again.
"""

from __future__ import annotations

from pathlib import Path

from sandbox.real_woocommerce.prerequisites import RealStoreUnavailable, archive_path, check
from sandbox.real_woocommerce.seed import SeededCatalog, seed
from sandbox.real_woocommerce.site import RealWooStore, build_store
from sandbox.real_woocommerce.tls import TlsTerminator, make_certificate


def start_real_store(ca: Path | None = None) -> tuple[RealWooStore, SeededCatalog]:
    """A running, seeded real store trusting the certificate ``ca`` (for https callbacks)."""
    store = build_store(check(), ca=ca)
    try:
        return store, seed(store)
    except BaseException:
        store.stop()
        raise


__all__ = [
    "RealStoreUnavailable",
    "RealWooStore",
    "SeededCatalog",
    "TlsTerminator",
    "archive_path",
    "make_certificate",
    "start_real_store",
]
