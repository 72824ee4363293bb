"""A store with a little history to monitor: one image published, one held for review, one failed."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.fake_platform import FakeApp
from sqlalchemy import select

from connector.models import Image, ImageStatus, ImageVersion
from connector.publish import publish_version
from connector.runs import start_run
from connector.services import Services
from connector.stores import save_install
from connector.sync import sync_store
from tests.helpers import approved_result, png

FAILURE = "the file is truncated (re-upload the photo)"


@dataclass(frozen=True)
class Monitored:
    store_id: int
    run_id: int
    published: int
    held: int
    failed: int


def monitored_store(services: Services, shop: str = "watched.fake") -> Monitored:
    """Sync a fake shop of three images and give them a run's history, with compute seconds and scores."""
    app = services.platforms["fake"]
    assert isinstance(app, FakeApp)
    fake = app.store(shop)
    fake.add_product("mug", [png((200, 10, 10)), png((10, 200, 10))], variants=1)
    fake.add_product("lamp", [png((10, 10, 200))])
    store_id = save_install(services, "fake", shop, {"token": f"tok-{shop}"})
    sync_store(services, store_id)
    run_id = start_run(services, store_id, "resync")
    with services.session() as s:
        published, held, failed = s.scalars(
            select(Image.id).where(Image.store_id == store_id).order_by(Image.id)
        )
    to_publish = approved_result(services, published, png((255, 255, 255)), run_id)
    to_hold = approved_result(services, held, png((250, 250, 250)), run_id)
    with services.session() as s:
        for version_id, seconds, edge in ((to_publish, 2.0, 0.1), (to_hold, 4.0, 0.5)):
            version = s.get(ImageVersion, version_id)
            assert version is not None
            version.compute_seconds, version.scores = seconds, {"edge_halo": edge, "mask_area": 0.4}
        version = s.get(ImageVersion, to_hold)
        assert version is not None
        version.state, version.verdict = "review", "review"
        s.get(Image, held).status = ImageStatus.REVIEW.value  # type: ignore[union-attr]
        bad = s.get(Image, failed)
        assert bad is not None
        bad.status, bad.failure_code, bad.failure_reason = ImageStatus.FAILED.value, "truncated", FAILURE
    assert publish_version(services, to_publish, run_id=run_id).state == "done"
    return Monitored(store_id, run_id, published, held, failed)
