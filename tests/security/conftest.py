"""Fixtures of the security suite: services whose outbound guard allows no local host at all, a web
client on them, and stores of each platform installed directly (no network)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sandbox.fake_platform import FakeApp

from connector.services import Services
from connector.settings import Settings
from connector.stores import save_install
from connector.web import create_app
from tests.conftest import base_env, current
from tests.security.support import Listener, listener

APP_SECRET = "shopify-app-secret"
SHOP_A, SHOP_B = "alpha-shop.myshopify.com", "bravo-shop.myshopify.com"
WOO_SHOP = "https://woo-store.example"
WOO_SECRET = "woo-webhook-secret"


def strict_services(tmp_path: Path, **env: str) -> Services:
    """Migrated services on SQLite and embedded Redis; stores may only be public https hosts."""
    strict = {"OUTBOUND_ALLOW_HOSTS": "", "SHOPIFY_API_SECRET": APP_SECRET, "SHOPIFY_API_KEY": "k"}
    settings = Settings.from_env(base_env(tmp_path, **{**strict, **env}))
    services = Services(settings)
    services.platform("shopify")  # the real adapters, configured from settings
    services.platforms["fake"] = FakeApp()
    services.migrate()
    return services


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Services]:
    with current(strict_services(tmp_path)) as services:
        yield services


@pytest.fixture
def internal() -> Iterator[Listener]:
    """An internal service the attacker aims at; it plays along with anything."""
    with listener() as running:
        yield running


@pytest.fixture
def store() -> Iterator[Listener]:
    """Another host: the store a merchant installs into (allowed by the operator where a test says so)."""
    with listener() as running:
        yield running


@pytest.fixture
def app(svc: Services) -> Flask:
    return create_app(svc)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def install_stores(svc: Services) -> dict[str, int]:
    """Two Shopify shops and a WooCommerce store, installed with tokens and secrets."""
    return {
        SHOP_A: save_install(svc, "shopify", SHOP_A, {"access_token": "shpat_alpha0001"}),
        SHOP_B: save_install(svc, "shopify", SHOP_B, {"access_token": "shpat_bravo0002"}),
        WOO_SHOP: save_install(
            svc,
            "woocommerce",
            WOO_SHOP,
            {"consumer_key": "ck_1", "consumer_secret": "cs_1", "webhook_secret": WOO_SECRET},
        ),
    }


@pytest.fixture
def stores(svc: Services) -> dict[str, int]:
    """The stores of :func:`install_stores`, in this test's services."""
    return install_stores(svc)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """One set of services (stores installed) for a module's attacks that must change nothing: each
    such test compares a snapshot before and after, so sharing them keeps the suite fast."""
    with current(strict_services(tmp_path_factory.mktemp("shared"))) as services:
        install_stores(services)
        yield services


@pytest.fixture
def shared_client(shared: Services) -> FlaskClient:
    """A web client (fresh cookies) on the shared services."""
    return create_app(shared).test_client()
