"""The stores the real-store tests run against: the emulator and a real WooCommerce, once per session."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox.real_woocommerce import (
    RealStoreUnavailable,
    RealWooStore,
    SeededCatalog,
    make_certificate,
    start_real_store,
)
from sandbox.woocommerce import RunningWooSandbox, WooSandboxConfig, serve_sandbox

from tests.realstore.stores import ContractStore

_sites = itertools.count(1)


@pytest.fixture(scope="session")
def test_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 the real store trusts (cert.pem, key.pem)."""
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def real_store(test_certificate: tuple[Path, Path]) -> Iterator[tuple[RealWooStore, SeededCatalog]]:
    """A real, seeded WooCommerce 7.9 store for the whole session, or a skip saying why there is none."""
    try:
        store, catalog = start_real_store(ca=test_certificate[0])
    except RealStoreUnavailable as exc:
        pytest.skip(f"no real WooCommerce store: {exc}")
    yield store, catalog
    store.stop()


@pytest.fixture(scope="session")
def emulator() -> Iterator[RunningWooSandbox]:
    """The project's WooCommerce emulator, deliveries after a short delay."""
    running = serve_sandbox(WooSandboxConfig(webhook_delay=0.2, webhook_timeout=5))
    yield running
    running.stop()


@pytest.fixture(
    params=[
        pytest.param("emulator", marks=pytest.mark.e2e),
        pytest.param("real", marks=pytest.mark.realstore),
    ]
)
def store(request: pytest.FixtureRequest) -> Iterator[ContractStore]:
    """Each contract test runs on the emulator and on the real store."""
    if request.param == "emulator":
        sandbox: RunningWooSandbox = request.getfixturevalue("emulator")
        site = sandbox.create_site(f"contract{next(_sites)}", size=5)
        creds = {k: getattr(site, k) for k in ("consumer_key", "consumer_secret", "app_user", "app_password")}
        contract = ContractStore("emulator", site.url, creds)
    else:
        real, _catalog = request.getfixturevalue("real_store")
        contract = ContractStore("real", real.url, dict(real.credentials), deliver=real.run_queue)
    yield contract
    contract.cleanup()
