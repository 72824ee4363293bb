"""The thin path through real rq workers and the real pipeline, on the fake platform:
sync → queue → process (rembg) → publish or hold → rollback."""

from __future__ import annotations

import pytest
from sandbox.fake_platform import FakeApp
from sqlalchemy import select

from connector import actions
from connector.blobs import sha256
from connector.models import Image, ImageStatus, ImageVersion, Job
from connector.services import Services
from connector.settings import PROJECT_ROOT
from connector.stores import save_install
from connector.web import create_app
from tests.helpers import drain

pytestmark = [pytest.mark.integration, pytest.mark.slow]
EXAMPLES = PROJECT_ROOT / "devkit" / "sandbox" / "assets" / "rembg-examples"


def test_store_photos_processed_published_and_rolled_back(sqlite_services: Services) -> None:
    services = sqlite_services
    app = services.platforms["fake"]
    assert isinstance(app, FakeApp)
    shop = app.store("worker.fake")
    originals = {name: (EXAMPLES / f"{name}.jpg").read_bytes() for name in ("car-1", "car-3")}
    for name, data in originals.items():
        shop.add_product(name, [data], variants=1)
    shop.add_product("broken", [b"<html>not an image</html>"])
    store_id = save_install(services, "fake", "worker.fake", {"token": "tok-worker.fake"}, mode="auto")

    run_id = actions.resync(services, store_id)
    drain(services)

    with services.session() as s:
        images = {img.product.title: img for img in s.scalars(select(Image))}
        broken = images["broken"]
        assert broken.status == ImageStatus.FAILED.value and broken.failure_code == "not_an_image"
        assert broken.failure_reason
        results = list(s.scalars(select(ImageVersion).where(ImageVersion.kind == "result")))
        assert len(results) == 2 and all(v.verdict in {"pass", "review", "fail"} for v in results)
        assert all(v.scores for v in results)
        statuses = {images[n].status for n in originals}
        jobs = {j.status for j in s.scalars(select(Job).where(Job.run_id == run_id))}
    assert statuses <= {"published", "review", "failed"} and jobs <= {"done", "failed"}

    for version in results:  # an operator approves what QA held back, so both get published
        if version.state == "review":
            actions.approve(services, version.id)
    drain(services)
    published = [p for p in shop.products.values() if p.title in originals]
    assert all(shop.library[p.media[0]].data not in originals.values() for p in published)

    again = actions.resync(services, store_id)  # own media on the store: nothing is reprocessed
    drain(services)
    with services.session() as s:
        assert not list(s.scalars(select(Job).where(Job.run_id == again, Job.kind == "process")))

    _run, queued = actions.rollback(services, store_id=store_id)
    assert queued == 2
    drain(services)
    for product in published:
        assert sha256(shop.library[product.media[0]].data) == sha256(originals[product.title])


def test_dry_run_writes_nothing_and_canary_limits_products(sqlite_services: Services) -> None:
    services = sqlite_services
    app = services.platforms["fake"]
    assert isinstance(app, FakeApp)
    shop = app.store("canary.fake")
    for name in ("car-2", "car-3", "cloth-1"):
        shop.add_product(name, [(EXAMPLES / f"{name}.jpg").read_bytes()])
    store_id = save_install(services, "fake", "canary.fake", {"token": "tok-canary.fake"}, mode="auto")

    dry = actions.resync(services, store_id, dry_run=True, limit=2)
    drain(services)
    assert shop.uploads == [] and shop.calls == []  # nothing written to the store
    with services.session() as s:
        in_dry_run = select(ImageVersion).where(ImageVersion.run_id == dry, ImageVersion.kind == "result")
        drafts = list(s.scalars(in_dry_run))
        assert len(drafts) == 2 and {v.state for v in drafts} <= {"draft", "rejected"}
        statuses = sorted(i.status for i in s.scalars(select(Image)))
    assert statuses.count("new") >= 2  # canary: the third product was not even processed
    page = create_app(services).test_client().get(f"/runs/{dry}")
    assert page.status_code == 200 and b"dry run: nothing was written to the store" in page.data
    assert page.data.count(b'alt="result"') == 2  # the before/after report of the dry run

    actions.resync(services, store_id)  # the operator widens the run: the real one reuses the dry results
    drain(services)
    with services.session() as s:
        results = list(s.scalars(select(ImageVersion).where(ImageVersion.kind == "result")))
    assert len(results) == 3  # no second cut for the two images the dry run already made
    assert len(shop.uploads) == sum(1 for v in results if v.verdict in ("pass", "skip"))
