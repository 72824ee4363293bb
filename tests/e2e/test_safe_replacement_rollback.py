"""Issue 7, done-when 2 and 3, against the Shopify sandbox over HTTP with real worker subprocesses:
a whole run of more than 100 images rolled back byte for byte, a three-way rollback that keeps
the merchant's later edits, and the drift guard that lets a merchant's change win."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from sandbox.devstack import DevStack
from sandbox.seeds import photos
from sqlalchemy import select

from connector import actions
from connector.blobs import sha256
from connector.models import Image, ImageStatus, ImageVersion, VersionKind, VersionState
from connector.publish import publish_version
from connector.rollback import interleave_by_product, rollback_image, rollback_targets
from connector.runs import start_run
from tests.e2e.safe_replacement_support import (
    another_result,
    file_uploads,
    images_by_product,
    images_of_store,
    install_quietly,
    num,
    product_view,
    result_png,
    running_stack,
    sandbox_admin,
    served_sha,
    shown,
    variant_links,
)
from tests.helpers import approved_result

pytestmark = pytest.mark.e2e

RUN_SHOP, THREE_WAY_SHOP, DRIFT_SHOP, EDITS_SHOP = (
    "whole-run.myshopify.com",
    "three-way.myshopify.com",
    "drift.myshopify.com",
    "edits.myshopify.com",
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with running_stack(tmp_path_factory.mktemp("rollback"), media_delay=0.0) as running:
        yield running


def _drain(stack: DevStack, workers: int = 1) -> None:
    """Run burst workers (real subprocesses) until the queue is empty; they must end cleanly."""
    procs = [stack.worker(burst=True) for _ in range(workers)]
    assert [p.wait(timeout=300) for p in procs] == [0] * workers


def _shape(view: dict[str, Any]) -> dict[str, Any]:
    """What a rollback must restore on a product: media order, alt texts, variant links."""
    return {
        "media": [m["id"] for m in view["media"]],
        "alt": {m["id"]: m["alt"] for m in view["media"]},
        "variants": variant_links(view),
    }


def _all_products(stack: DevStack, shop: str, render: bool = False) -> list[dict[str, Any]]:
    """Every product as the sandbox shows it (``render`` adds each file's sha256)."""
    params = {"limit": 250, "render": int(render)}
    return list(sandbox_admin(stack, "GET", f"/shops/{shop}/products", params=params))


def _product_gid(stack: DevStack, image_id: int) -> str:
    with stack.services.session() as s:
        image = s.get(Image, image_id)
        assert image is not None
        return image.product.platform_id


def _image_status(stack: DevStack, image_id: int) -> str:
    with stack.services.session() as s:
        image = s.get(Image, image_id)
        assert image is not None
        return image.status


# ------------------------------------------------------------------------- whole run


@pytest.mark.timeout(900)  # 100+ images replaced then rolled back through real workers: minutes on 2 cores
def test_rollback_of_a_whole_run_restores_every_original(stack: DevStack) -> None:
    store_id = install_quietly(stack, RUN_SHOP, seed=3, size=35)
    before = {p["id"]: p for p in _all_products(stack, RUN_SHOP, render=True)}
    images = images_of_store(stack.services, store_id)
    assert len(images) >= 100
    assert sum(1 for p in before.values() if len(p["media"]) > 1) >= 10
    assert sum(1 for p in before.values() for m in p["variants"] if m["media_id"]) >= 10

    run_id = start_run(stack.services, store_id, "reprocess", actor="e2e")
    results = {
        img.id: approved_result(stack.services, img.id, result_png(i), run_id) for i, img in enumerate(images)
    }
    for image_id in interleave_by_product([(img.id, img.product_id) for img in images]):
        actions.approve(stack.services, results[image_id])
    _drain(stack, workers=2)
    assert {_image_status(stack, img.id) for img in images} == {ImageStatus.PUBLISHED.value}
    published = {p["id"]: p for p in _all_products(stack, RUN_SHOP)}
    assert all(m["origin"] != "seed" for p in published.values() for m in p["media"]), (
        "a slot still shows its original after publishing"
    )
    uploads_after_publish = len(file_uploads(stack, RUN_SHOP, "-ic"))
    assert uploads_after_publish == len(images)

    _rollback_run, queued = actions.rollback(stack.services, store_id=store_id, run_id=run_id)
    assert queued == len(images)
    _drain(stack, workers=2)

    after = {p["id"]: p for p in _all_products(stack, RUN_SHOP)}
    assert {pid: _shape(p) for pid, p in after.items()} == {pid: _shape(p) for pid, p in before.items()}
    for pid, product in after.items():
        for restored, original in zip(product["media"], before[pid]["media"], strict=True):
            assert restored["status"] == "READY"
            assert served_sha(restored["url"]) == original["sha256"], f"{pid} {restored['id']}"
    assert len(file_uploads(stack, RUN_SHOP, "-ic")) == uploads_after_publish  # originals re-attached
    assert {_image_status(stack, img.id) for img in images} == {ImageStatus.ROLLED_BACK.value}


# ------------------------------------------------------------------------- three-way


def test_three_way_rollback_touches_only_our_slot(stack: DevStack) -> None:
    store_id = install_quietly(stack, THREE_WAY_SHOP, seed=7, size=6)
    target: list[Image] = max(images_by_product(stack.services, store_id), key=len)
    assert len(target) >= 2
    ours = target[1]
    product_gid = _product_gid(stack, ours.id)
    before = product_view(stack, THREE_WAY_SHOP, product_gid)
    original = before["media"][1]

    actions.approve(stack.services, approved_result(stack.services, ours.id, result_png(500)))
    _drain(stack)
    published = product_view(stack, THREE_WAY_SHOP, product_gid)
    our_media = published["media"][1]["id"]
    assert our_media != original["id"]

    # the merchant adds a photo at the front and reverses the order after our change
    added = sandbox_admin(
        stack,
        "POST",
        f"/shops/{THREE_WAY_SHOP}/products/{num(product_gid)}/media",
        json={"kind": "on-white", "seed": 4242, "filename": "merchant-new.jpg", "position": 0},
    )
    order = [m["id"] for m in product_view(stack, THREE_WAY_SHOP, product_gid)["media"]][::-1]
    sandbox_admin(
        stack,
        "POST",
        f"/shops/{THREE_WAY_SHOP}/products/{num(product_gid)}/reorder",
        json={"media_ids": order},
    )
    edited = product_view(stack, THREE_WAY_SHOP, product_gid)
    assert [m["id"] for m in edited["media"]] == order

    _run, queued = actions.rollback(stack.services, store_id=store_id, image_id=ours.id)
    assert queued == 1
    _drain(stack)

    after = product_view(stack, THREE_WAY_SHOP, product_gid)
    assert [m["id"] for m in after["media"]] == [original["id"] if m == our_media else m for m in order]
    slot = next(m for m in after["media"] if m["id"] == original["id"])
    assert served_sha(slot["url"]) == original["sha256"]
    kept = {m["id"]: m["sha256"] for m in edited["media"] if m["id"] != our_media}
    assert {m["id"]: m["sha256"] for m in after["media"] if m["id"] != original["id"]} == kept
    assert added["id"] in kept
    assert variant_links(after) == {
        v: (original["id"] if m == our_media else m) for v, m in variant_links(edited).items()
    }


# ------------------------------------------------------------------------------ drift


def _merchant_photo(seed: int) -> bytes:
    return photos.render("studio-grey", seed, (640, 640)).data


def _processed_from(stack: DevStack, image_id: int, source: bytes) -> bool:
    """Whether the image's current bytes were backed up and run through the pipeline."""
    with stack.services.session() as s:
        image = s.get(Image, image_id)
        assert image is not None
        original = s.scalar(
            select(ImageVersion).where(
                ImageVersion.image_id == image_id,
                ImageVersion.kind == VersionKind.ORIGINAL.value,
                ImageVersion.blob_hash == sha256(source),
            )
        )
        return original is not None and image.status in {
            ImageStatus.REVIEW.value,
            ImageStatus.SKIPPED.value,
            ImageStatus.FAILED.value,
        }


def test_drift_keeps_the_merchants_image_and_processes_it(stack: DevStack) -> None:
    store_id = install_quietly(stack, DRIFT_SHOP, seed=11, size=5)
    first_images: dict[int, Image] = {}
    for image in images_of_store(stack.services, store_id):
        first_images.setdefault(image.product_id, image)
    in_place, swapped = sorted(first_images.values(), key=lambda img: img.id)[:2]
    versions = {
        img.id: approved_result(stack.services, img.id, result_png(900 + i))  # processed, then drift
        for i, img in enumerate((in_place, swapped))
    }

    # the merchant puts new bytes into the same media (same id, new sha256 and ?v=)
    new_bytes = _merchant_photo(31)
    in_place_gid = _product_gid(stack, in_place.id)
    sandbox_admin(
        stack,
        "PUT",
        f"/shops/{DRIFT_SHOP}/products/{num(in_place_gid)}/media/{num(in_place.platform_media_id)}",
        json={"data": base64.b64encode(new_bytes).decode(), "filename": "reshoot.png"},
    )
    # ...and replaces the other product's photo with a new media item
    swap_bytes = _merchant_photo(32)
    swapped_gid = _product_gid(stack, swapped.id)
    added = sandbox_admin(
        stack,
        "POST",
        f"/shops/{DRIFT_SHOP}/products/{num(swapped_gid)}/media",
        json={"data": base64.b64encode(swap_bytes).decode(), "filename": "new-angle.png", "position": 0},
    )
    sandbox_admin(
        stack,
        "DELETE",
        f"/shops/{DRIFT_SHOP}/products/{num(swapped_gid)}/media/{num(swapped.platform_media_id)}",
    )
    stack.shopify.sandbox.run_pending()  # the merchant's files finish processing

    for version_id in versions.values():
        actions.approve(stack.services, version_id)  # an operator approves the stale results
    _drain(stack)

    with stack.services.session() as s:
        states = {s.get(ImageVersion, v).state for v in versions.values()}  # type: ignore[union-attr]
    assert states == {VersionState.STALE.value}
    assert file_uploads(stack, DRIFT_SHOP, "-ic") == [], "the connector uploaded over the merchant's change"

    reshot = next(
        m
        for m in shown(product_view(stack, DRIFT_SHOP, in_place_gid))
        if m["id"] == in_place.platform_media_id
    )
    assert reshot["sha256"] == sha256(new_bytes) and served_sha(reshot["url"]) == sha256(new_bytes)
    now_swapped = shown(product_view(stack, DRIFT_SHOP, swapped_gid))
    assert [m["id"] for m in now_swapped][:1] == [added["id"]]
    assert swapped.platform_media_id not in {m["id"] for m in now_swapped}

    assert _processed_from(stack, in_place.id, new_bytes)
    with stack.services.session() as s:
        new_image = s.scalar(select(Image).where(Image.platform_media_id == added["id"]))
        assert new_image is not None
        new_image_id = new_image.id
        assert s.get(Image, swapped.id).status == ImageStatus.GONE.value  # type: ignore[union-attr]
    assert _processed_from(stack, new_image_id, swap_bytes)


# ------------------------------------------------------- what stays rollbackable, and what not


def test_refused_republish_stays_rollbackable_and_merchant_edits_of_our_image_are_kept(
    stack: DevStack,
) -> None:
    """A second result the store refuses leaves our first one published (and in a store-wide
    rollback); a result of ours the merchant re-shot in place is theirs: rollback leaves it."""
    store_id = install_quietly(stack, EDITS_SHOP, seed=5, size=5)
    refused, reshot = (group[0] for group in images_by_product(stack.services, store_id)[:2])
    refused_gid, reshot_gid = _product_gid(stack, refused.id), _product_gid(stack, reshot.id)
    original_sha = product_view(stack, EDITS_SHOP, refused_gid)["media"][0]["sha256"]
    for i, image in enumerate((refused, reshot)):
        version_id = approved_result(stack.services, image.id, result_png(700 + i))
        assert publish_version(stack.services, version_id).state == "done"
    ours = {
        img.id: product_view(stack, EDITS_SHOP, gid)["media"][0]
        for img, gid in ((refused, refused_gid), (reshot, reshot_gid))
    }

    broken = another_result(stack.services, refused.id, b"\x89PNG\r\n\x1a\n" + b"not really a PNG" * 8)
    assert publish_version(stack.services, broken).state in {"undone", "failed"}
    assert product_view(stack, EDITS_SHOP, refused_gid)["media"][0]["id"] == ours[refused.id]["id"]
    assert _image_status(stack, refused.id) == ImageStatus.PUBLISHED.value

    merchant_bytes = _merchant_photo(77)
    sandbox_admin(
        stack,
        "PUT",
        f"/shops/{EDITS_SHOP}/products/{num(reshot_gid)}/media/{num(ours[reshot.id]['id'])}",
        json={"data": base64.b64encode(merchant_bytes).decode(), "filename": "reshoot.png"},
    )

    targets = rollback_targets(stack.services, store_id=store_id)
    assert set(targets) == {refused.id, reshot.id}
    outcomes = {image_id: rollback_image(stack.services, image_id).state for image_id in targets}
    assert outcomes == {refused.id: "done", reshot.id: "noop"}
    restored = product_view(stack, EDITS_SHOP, refused_gid)["media"][0]
    assert restored["id"] == refused.platform_media_id
    assert served_sha(restored["url"]) == original_sha
    kept = product_view(stack, EDITS_SHOP, reshot_gid)["media"][0]
    assert kept["id"] == ours[reshot.id]["id"] and served_sha(kept["url"]) == sha256(merchant_bytes)
    with stack.services.session() as s:  # the re-shot image is the merchant's, to be processed
        row = s.get(Image, reshot.id)
        assert row is not None and (row.status, row.origin) == (ImageStatus.NEW.value, "merchant")
