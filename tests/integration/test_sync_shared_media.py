"""The sharing rule of ``connector.sync`` on slots inserted in one batch: a photo two products show is
queued in one of them only, and handed to the other once the first no longer shows it."""

from __future__ import annotations

import pytest
from sandbox.fake_platform import FakeApp
from sqlalchemy import select

from connector.models import Image, ImageStatus, Operation, OperationKind, OperationState, Product
from connector.services import Services
from connector.stores import save_install
from connector.sync import SHARED, SYNC_BATCH, sync_store
from tests.helpers import add_result, png

pytestmark = pytest.mark.integration


def _slots(services: Services, media_id: str) -> dict[str, Image]:
    """Product platform id → its slot showing ``media_id``."""
    with services.session() as s:
        rows = s.execute(
            select(Product.platform_id, Image)
            .join(Image, Image.product_id == Product.id)
            .where(Image.original_media_id == media_id)
        ).all()
        s.expunge_all()
    return {platform_id: image for platform_id, image in rows}


def test_a_photo_two_products_show_is_queued_once_and_freed_when_its_owner_drops_it(
    services: Services,
) -> None:
    app = services.platforms["fake"]
    assert isinstance(app, FakeApp)
    shop = app.store("shared.fake")
    mug = shop.add_product("mug", [png((200, 10, 10))])
    cup = shop.add_product("cup", [png((10, 200, 10))])
    shared, cup_own = mug.media[0], cup.media[0]
    cup.media.append(shared)  # "Duplicate" / a shared file: the same media on a second product
    store_id = save_install(services, "fake", shop.shop, {"token": f"tok-{shop.shop}"})

    first = sync_store(services, store_id)  # both products in one batch: every slot inserted together
    assert len(shop.products) < SYNC_BATCH
    assert (first.products, first.images, first.new_images) == (2, 3, 3)
    slots = _slots(services, shared)
    owner, held = slots[mug.product_id], slots[cup.product_id]
    assert (owner.status, owner.failure_code) == (ImageStatus.NEW.value, None)
    assert (held.status, held.failure_code) == (ImageStatus.SKIPPED.value, SHARED)
    assert mug.product_id in (held.failure_reason or "")  # says which product processes it
    assert sorted(first.to_process) == sorted([owner.id, _slots(services, cup_own)[cup.product_id].id])

    again = sync_store(services, store_id)  # nothing changed: the held slot stays held
    assert _slots(services, shared)[cup.product_id].status == ImageStatus.SKIPPED.value
    assert held.id not in again.to_process and owner.id in again.to_process

    mug.media.remove(shared)  # the owner no longer shows the photo
    shop.touch(mug)
    later = sync_store(services, store_id)
    slots = _slots(services, shared)
    assert slots[mug.product_id].status == ImageStatus.GONE.value
    freed = slots[cup.product_id]
    assert (freed.status, freed.failure_code, freed.failure_reason) == (ImageStatus.NEW.value, None, None)
    assert freed.id in later.to_process and owner.id not in later.to_process


def test_media_entering_a_slot_through_an_unfinished_operation_is_not_a_new_slot(
    services: Services,
) -> None:
    """A rollback re-attaches the merchant's original before it records it; a sync running in
    between (the platform's products/update) must not mirror that media as a second slot."""
    app = services.platforms["fake"]
    assert isinstance(app, FakeApp)
    shop = app.store("in-flight.fake")
    mug = shop.add_product("mug", [png((200, 10, 10))])
    store_id = save_install(services, "fake", shop.shop, {"token": f"tok-{shop.shop}"})
    sync_store(services, store_id)
    slot = _slots(services, mug.media[0])[mug.product_id]
    entering = shop.add_product("spare", [png((10, 10, 200))]).media[0]  # a media id the shop knows
    with services.session() as s:
        version_id = add_result(s, slot.id, b"result", "source")
        s.add(
            Operation(
                store_id=store_id,
                product_id=slot.product_id,
                image_id=slot.id,
                version_id=version_id,
                kind=OperationKind.ROLLBACK.value,
                state=OperationState.RUNNING.value,
                idempotency_key="in-flight-rollback",
                old_media_id=mug.media[0],
                new_media_id=entering,
            )
        )
    mug.media.append(entering)  # attached, not yet recorded: the operation is still running
    shop.touch(mug)

    report = sync_store(services, store_id)

    assert mug.product_id not in _slots(services, entering)
    assert report.new_images == 0 and slot.id in {i.id for i in _slots(services, mug.media[0]).values()}
