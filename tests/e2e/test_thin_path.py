"""The walking skeleton over real HTTP on loopback: a store's product photos are synced, processed by a
real rq worker process with rembg, replace the originals on the store, and one product is rolled back to
the exact original bytes. Runs on the embedded defaults and on the production backends (Postgres + Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox.devstack import DevStack
from sqlalchemy import select

from connector import actions
from connector.models import Image, ImageVersion, Operation, Product
from tests.conftest import _postgres_database, _real_redis, base_env

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SHOP = "thin-path.myshopify.com"


@pytest.fixture(params=["embedded", "production"])
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DevStack]:
    extra: dict[str, str] = {}
    databases = iter(())
    if request.param == "production":
        databases = _postgres_database()
        extra = {"DATABASE_URL": next(databases), "REDIS_URL": _real_redis()}
    with DevStack(base_env(tmp_path, **extra)) as running:
        yield running
    for _ in databases:  # drop the Postgres database
        pass


def test_photos_replaced_on_the_store_and_rolled_back_byte_identical(stack: DevStack, tmp_path: Path) -> None:
    store_id = stack.install_shopify(SHOP, seed=3, size=5, profile="demo", mode="auto")
    before = stack.shopify_served(SHOP)
    stack.worker(log=tmp_path / "worker.log")
    stack.wait_idle(timeout=300)

    with stack.services.session() as s:
        images = list(s.scalars(select(Image).where(Image.store_id == store_id)))
        assert len(images) == 5
        for image in images:
            assert image.original_version_id, f"image {image.id} has no backup"
        results = list(s.scalars(select(ImageVersion).where(ImageVersion.kind == "result")))
        assert len(results) >= 4
        held = [i for i in images if i.status == "review"]
    for image in held:
        actions.approve(stack.services, actions.latest_result(stack.services, image.id).id)
    stack.wait_idle(timeout=300)

    during = stack.shopify_served(SHOP)
    with stack.services.session() as s:
        published = list(
            s.scalars(select(Image).where(Image.store_id == store_id, Image.status == "published"))
        )
        assert len(published) >= 3, "the examples that pass or were approved are replaced on the store"
        ops = list(s.scalars(select(Operation)))
        assert all(op.state == "done" and op.uploads == 1 for op in ops)
        product = s.get(Product, published[0].product_id)
        assert product is not None
        product_gid, product_id = product.platform_id, product.id
    assert during[product_gid] != before[product_gid]
    assert sum(len(v) for v in during.values()) == sum(len(v) for v in before.values())  # no slot doubled

    _run, queued = actions.rollback(stack.services, store_id=store_id, product_id=product_id)
    assert queued == 1
    stack.wait_idle(timeout=300)
    after = stack.shopify_served(SHOP)
    assert after[product_gid] == before[product_gid]  # byte-identical to what the store served at first
    with stack.services.session() as s:
        kinds = [
            v.kind
            for v in s.scalars(
                select(ImageVersion).where(ImageVersion.image_id == published[0].id).order_by(ImageVersion.id)
            )
        ]
    assert kinds[0] == "original" and kinds[-1] == "rollback"
