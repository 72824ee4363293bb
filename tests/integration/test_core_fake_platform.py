"""The connector's core (sync, publish, rollback, webhooks, locks) against the in-memory fake platform,
on SQLite and PostgreSQL, embedded and real Redis."""

from __future__ import annotations

import json

import pytest
from sandbox.fake_platform import FakeApp, FakeStore
from sqlalchemy import select

from connector.blobs import sha256
from connector.errors import TransientError
from connector.locks import product_lock
from connector.models import Image, ImageStatus, ImageVersion, Operation, Product, WebhookEventRecord
from connector.publish import publish_version
from connector.rollback import rollback_image
from connector.services import Services
from connector.stores import save_install
from connector.sync import sync_store
from connector.webhooks import handle_webhook
from tests.helpers import approved_result, png

pytestmark = pytest.mark.integration


def _shop(services: Services, name: str = "demo.fake") -> tuple[FakeStore, int]:
    app = services.platforms["fake"]
    assert isinstance(app, FakeApp)
    store = app.store(name)
    store.add_product("mug", [png((200, 10, 10)), png((10, 200, 10))], variants=2)
    store.add_product("lamp", [png((10, 10, 200))])
    return store, save_install(services, "fake", name, {"token": f"tok-{name}"})


def _image(services: Services, media_id: str) -> Image:
    with services.session() as s:
        image = s.scalar(select(Image).where(Image.platform_media_id == media_id))
        assert image is not None
        return image


def test_sync_mirrors_catalog_and_second_sync_queues_nothing(services: Services) -> None:
    _store, store_id = _shop(services)
    first = sync_store(services, store_id)
    assert (first.products, first.images, first.new_images, len(first.to_process)) == (2, 3, 3, 3)
    with services.session() as s:
        for image in s.scalars(select(Image)):
            image.status = ImageStatus.SKIPPED.value
    second = sync_store(services, store_id)
    assert second.new_images == 0 and second.to_process == []


def test_publish_replaces_in_place_and_rollback_restores_exact_bytes(services: Services) -> None:
    store, store_id = _shop(services)
    sync_store(services, store_id)
    mug = next(p for p in store.products.values() if p.title == "mug")
    original_media = mug.media[0]
    original_bytes = store.library[original_media].data
    variant_showing = next(v for v, m in mug.variants.items() if m == original_media)
    image = _image(services, original_media)

    result_bytes = png((255, 255, 255))
    version_id = approved_result(services, image.id, result_bytes)
    outcome = publish_version(services, version_id)
    assert outcome.state == "done", outcome.reason

    new_media = mug.media[0]
    assert new_media != original_media and store.library[new_media].data == result_bytes
    assert len(mug.media) == 2 and original_media in store.library  # detached, kept in the library
    assert mug.variants[variant_showing] == new_media
    assert store.uploads == [new_media]

    again = sync_store(services, store_id)  # our own change: loop guard
    assert image.id not in again.to_process and again.own_media_seen >= 1

    back = rollback_image(services, image.id, why="test")
    assert back.state == "done", back.reason
    assert mug.media[0] == original_media
    assert sha256(store.library[mug.media[0]].data) == sha256(original_bytes)
    assert mug.variants[variant_showing] == original_media
    assert store.uploads == [new_media]  # the store-native original was re-attached, not re-uploaded
    with services.session() as s:
        kinds = [v.kind for v in s.scalars(select(ImageVersion).where(ImageVersion.image_id == image.id))]
        assert kinds == ["original", "result", "rollback"]
        assert s.get(Image, image.id).status == ImageStatus.ROLLED_BACK.value  # type: ignore[union-attr]


def test_a_slot_the_new_media_lands_in_by_itself_needs_no_reorder(services: Services) -> None:
    """Attached media go last: replacing the last image needs no reorder, the first one does."""
    store, store_id = _shop(services)
    sync_store(services, store_id)
    mug = next(p for p in store.products.values() if p.title == "mug")
    lamp = next(p for p in store.products.values() if p.title == "lamp")
    for media_id, colour in ((lamp.media[0], 1), (mug.media[1], 2)):
        version_id = approved_result(services, _image(services, media_id).id, png((colour, 0, 0)))
        assert publish_version(services, version_id).state == "done"
    assert "move" not in store.calls
    first = _image(services, mug.media[0])
    assert publish_version(services, approved_result(services, first.id, png((3, 0, 0)))).state == "done"
    assert store.calls.count("move") == 1 and mug.media[0] == store.uploads[-1]


def test_rollback_reuploads_backup_when_store_original_was_deleted(services: Services) -> None:
    store, store_id = _shop(services)
    sync_store(services, store_id)
    lamp = next(p for p in store.products.values() if p.title == "lamp")
    original_media = lamp.media[0]
    original_bytes = store.library[original_media].data
    image = _image(services, original_media)
    assert (
        publish_version(services, approved_result(services, image.id, png((250, 250, 250)))).state == "done"
    )
    del store.library[original_media]
    assert rollback_image(services, image.id).state == "done"
    assert lamp.media[0] != original_media
    assert store.library[lamp.media[0]].data == original_bytes
    assert len(store.uploads) == 2


def test_three_way_rollback_keeps_merchant_edits(services: Services) -> None:
    store, store_id = _shop(services)
    sync_store(services, store_id)
    mug = next(p for p in store.products.values() if p.title == "mug")
    original_media, other = mug.media
    image = _image(services, original_media)
    assert (
        publish_version(services, approved_result(services, image.id, png((240, 240, 240)))).state == "done"
    )
    ours = mug.media[0]
    merchant_new = store.add_media(png((1, 2, 3)), "new.png")
    mug.media = [merchant_new, other, ours]  # merchant added an image and reordered after our change
    assert rollback_image(services, image.id).state == "done"
    assert mug.media == [merchant_new, other, original_media]


def test_drift_marks_version_stale_and_keeps_merchant_change(services: Services) -> None:
    store, store_id = _shop(services)
    sync_store(services, store_id)
    lamp = next(p for p in store.products.values() if p.title == "lamp")
    image = _image(services, lamp.media[0])
    version_id = approved_result(services, image.id, png((255, 255, 255)))
    merchant_media = store.add_media(png((9, 9, 9)), "merchant.png")
    lamp.media = [merchant_media]  # the merchant replaced the photo after it was queued
    result = publish_version(services, version_id)
    assert result.state == "stale"
    assert lamp.media == [merchant_media] and store.uploads == []
    with services.session() as s:
        assert s.get(ImageVersion, version_id).state == "stale"  # type: ignore[union-attr]


def test_product_lock_excludes_a_second_worker(services: Services) -> None:
    _store, store_id = _shop(services)
    sync_store(services, store_id)
    with services.session() as s:
        product_id = s.scalar(select(Product.id))
    assert product_id is not None
    with product_lock(services, product_id) as fence:
        with pytest.raises(TransientError), product_lock(services, product_id):
            pass
        with services.session() as s:
            fence.check(s)
    with product_lock(services, product_id):
        pass


def test_webhooks_forged_rejected_replay_processed_once(services: Services) -> None:
    _store, _store_id = _shop(services)
    app = services.platforms["fake"]
    assert isinstance(app, FakeApp)
    body = json.dumps({"product_id": "p1"}).encode()
    headers = {"X-Fake-Shop": "demo.fake", "X-Fake-Topic": "product.updated", "X-Fake-Event": "e-1"}
    forged = handle_webhook(services, "fake", {**headers, "X-Fake-Signature": "AAAA"}, body)
    assert forged.status == 401
    with services.session() as s:
        assert s.scalar(select(WebhookEventRecord)) is None
    signed = {**headers, "X-Fake-Signature": app.sign(body)}
    first = handle_webhook(services, "fake", signed, body)
    second = handle_webhook(services, "fake", signed, body)
    assert (first.status, first.outcome) == (200, "sync queued")
    assert (second.status, second.outcome) == (200, "duplicate ignored")
    assert services.queue().count == 1


def test_uninstall_stops_work_and_keeps_history(services: Services) -> None:
    _store, store_id = _shop(services)
    sync_store(services, store_id)
    app = services.platforms["fake"]
    assert isinstance(app, FakeApp)
    body = b"{}"
    app.store("demo.fake").installed = False  # the platform revokes the token as it sends the webhook
    headers = {
        "X-Fake-Shop": "demo.fake",
        "X-Fake-Topic": "app.uninstalled",
        "X-Fake-Event": "u-1",
        "X-Fake-Signature": app.sign(body),
    }
    assert handle_webhook(services, "fake", headers, body).status == 200
    from connector.errors import AuthError

    with pytest.raises(AuthError):
        sync_store(services, store_id)
    with services.session() as s:
        assert s.scalar(select(Image)) is not None
        assert s.scalar(select(Operation)) is None
