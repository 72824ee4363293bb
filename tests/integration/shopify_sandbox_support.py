"""Fixtures the Shopify sandbox's integration modules share: admin API, a fresh shop, its GraphQL client."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sandbox.shopify import RunningSandbox
from sandbox.shopify.client import AdminGraphQL, SandboxAdmin


def shop_fixtures(prefix: str, seed: int, size: int, profile: str) -> tuple[Any, Any, Any]:
    """The fixtures ``admin``, ``shop`` and ``gql`` over the module's own ``running`` sandbox fixture.

    ``shop`` is a new shop ``<prefix>-<random>.myshopify.com`` seeded with ``seed``, ``size`` products and
    ``profile``; ``gql`` talks to it with a freshly issued token.  In a test module:
    ``admin, shop, gql = shop_fixtures("m", seed=3, size=40, profile="mixed")``.
    """

    @pytest.fixture(scope="module", name="admin")
    def admin_fixture(running: RunningSandbox) -> SandboxAdmin:
        return SandboxAdmin(running.url)

    @pytest.fixture(name="shop")
    def shop_fixture(admin: SandboxAdmin) -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}.myshopify.com"
        admin.create_shop(name, seed=seed, size=size, profile=profile)
        return name

    @pytest.fixture(name="gql")
    def gql_fixture(running: RunningSandbox, admin: SandboxAdmin, shop: str) -> AdminGraphQL:
        return AdminGraphQL(running.url, shop, admin.token(shop)["access_token"])

    return admin_fixture, shop_fixture, gql_fixture
