"""The composition root: platforms are found by name through the PLATFORMS setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from sandbox.fake_platform import FakeApp

from adapters.shopify import ShopifyApp
from adapters.woocommerce import WooCommerceApp
from connector.errors import ConfigurationError
from connector.platforms import build_platforms, parse_platforms
from connector.settings import Settings
from tests.conftest import base_env

pytestmark = pytest.mark.unit


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env(base_env(tmp_path, **env))


def test_the_default_deployment_speaks_shopify_and_woocommerce_configured_from_their_own_variables(
    tmp_path: Path,
) -> None:
    env = {"SHOPIFY_API_KEY": "key-1", "SHOPIFY_API_VERSION": "2026-10", "WOO_APP_NAME": "Photo Studio"}
    platforms = build_platforms(settings(tmp_path, **env))
    assert sorted(platforms) == ["shopify", "woocommerce"]
    shopify, woo = platforms["shopify"], platforms["woocommerce"]
    assert isinstance(shopify, ShopifyApp) and isinstance(woo, WooCommerceApp)
    assert shopify.config.api_key == "key-1" and shopify.config.api_version == "2026-10"
    assert woo.config.app_name == "Photo Studio"


def test_a_new_platform_is_one_line_of_configuration(tmp_path: Path) -> None:
    spec = "fake=sandbox.fake_platform:build_app"
    platforms = build_platforms(settings(tmp_path, PLATFORMS=spec, FAKE_PLATFORM_SECRET="s3"))
    assert list(platforms) == ["fake"]
    assert isinstance(platforms["fake"], FakeApp) and platforms["fake"].secret == "s3"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("shopify", "not name=module:factory"),
        ("=adapters.shopify:build_app", "not name=module:factory"),
        ("shopify=adapters.nowhere:build_app", "cannot be loaded"),
        ("shopify=adapters.shopify:no_such_factory", "cannot be loaded"),
        ("shop=adapters.shopify:build_app", "builds the platform 'shopify'"),
    ],
)
def test_a_wrong_platforms_setting_says_what_to_write(tmp_path: Path, spec: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        build_platforms(settings(tmp_path, PLATFORMS=spec))
    assert info.value.hint


def test_entries_are_trimmed_and_empty_ones_ignored() -> None:
    assert parse_platforms(" a = m:f ,, b=n:g ") == {"a": "m:f", "b": "n:g"}
