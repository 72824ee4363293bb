"""The whole service on WooCommerce: DevStack (sandbox store, web app, a real `connector worker` subprocess).

A merchant installs through both consents (WooCommerce's key grant, WordPress's Application Password),
the catalog is synced page by page, photos are processed and replace the originals in place, the store's
webhooks are verified and deduplicated, rollback restores the exact bytes the store served, and an
incremental resync finds a merchant's edit by its modification date.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from PIL import Image as PILImage
from sandbox.devstack import DevStack
from sandbox.seeds import photos
from sandbox.woocommerce import MerchantBrowser
from sqlalchemy import func, select

from adapters.woocommerce.config import DEFAULT_APP_ID
from adapters.woocommerce.webhooks import SUBSCRIBED_TOPICS, sign
from connector import actions
from connector.errors import ConnectorError
from connector.models import Image, ImageVersion, Job, Operation, Product, Run, Store, WebhookEventRecord
from connector.stores import credentials_of
from tests.conftest import base_env

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


# ------------------------------------------------------------------------------------------ helpers


def admin(stack: DevStack, path: str, method: str = "GET", **body: Any) -> Any:
    """The sandbox's inspection / merchant routes (never the emulated API); a body means POST."""
    method = "POST" if body else method
    answer = requests.request(method, f"{stack.woo.url}/__sandbox/{path}", json=body or None, timeout=60)
    assert answer.ok, answer.text
    return answer.json()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def served(stack: DevStack, site: str) -> dict[str, dict[str, Any]]:
    """Per product: (attachment id, sha256 of the bytes its src serves) in order, and variation images."""
    out = {}
    for p in admin(stack, f"sites/{site}/products"):
        out[str(p["id"])] = {
            "images": [
                (img["id"], sha256(requests.get(img["src"], timeout=60).content)) for img in p["images"]
            ],
            "variations": {v["id"]: v["image_id"] for v in p["variations"]},
        }
    return out


def store_credentials(stack: DevStack, store_id: int) -> dict[str, Any]:
    with stack.services.session() as s:
        store = s.get(Store, store_id)
        assert store is not None
        return credentials_of(stack.services, store)


def approve_held(stack: DevStack, store_id: int) -> None:
    """What an operator does on the dashboard: approve every result waiting for review."""
    with stack.services.session() as s:
        held = list(s.scalars(select(Image.id).where(Image.store_id == store_id, Image.status == "review")))
    for image_id in held:
        try:
            actions.approve(stack.services, actions.latest_result(stack.services, image_id).id)
        except ConnectorError:
            continue  # no result to approve (the pipeline asked a person to decide)


def images_of(stack: DevStack, store_id: int, platform_id: str) -> list[Image]:
    with stack.services.session() as s:
        rows = s.scalars(
            select(Image)
            .join(Product, Product.id == Image.product_id)
            .where(Image.store_id == store_id, Product.platform_id == platform_id)
            .order_by(Image.id)
        )
        return list(rows)


def result_counts(stack: DevStack, store_id: int) -> dict[int, int]:
    """Result versions per image: more than one means an image was processed twice."""
    with stack.services.session() as s:
        rows = s.execute(
            select(Image.id, func.count(ImageVersion.id))
            .join(ImageVersion, ImageVersion.image_id == Image.id)
            .where(Image.store_id == store_id, ImageVersion.kind == "result")
            .group_by(Image.id)
        )
        return {image_id: count for image_id, count in rows}


def backup_hash(stack: DevStack, image_id: int) -> str:
    """sha256 of the backup the connector took of what the store served before any change."""
    with stack.services.session() as s:
        image = s.get(Image, image_id)
        assert image is not None and image.original_version_id
        original = s.get(ImageVersion, image.original_version_id)
        assert original is not None
        return sha256(stack.services.blobs.get(original.blob_hash))


def connector_cli(stack: DevStack, *args: str) -> str:
    """Run the real `connector` command line against the stack."""
    done = subprocess.run(
        [sys.executable, "-m", "connector", *args],
        env={**os.environ, **stack.env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def big_photo() -> bytes:
    """A product shot larger than WordPress's big-image threshold (2560 px)."""
    small = PILImage.open(io.BytesIO(photos.render("on-white", 5, (1500, 1100)).data))
    out = io.BytesIO()
    small.convert("RGB").resize((3000, 2200)).save(out, "JPEG", quality=90)
    return out.getvalue()


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    var = tmp_path_factory.mktemp("woo-connector")
    with DevStack(base_env(var)) as running:
        running.worker(log=var / "worker.log")
        yield running


@pytest.fixture(scope="module")
def studio(stack: DevStack) -> dict[str, Any]:
    """A small store in review mode, processed, every result approved by an operator and published."""
    store_id = stack.install_woocommerce("studio", seed=89, size=5, profile="mixed", mode="review")
    before = served(stack, "studio")  # review mode: nothing is published before the approvals below
    stack.wait_idle(timeout=120)
    approve_held(stack, store_id)
    stack.wait_idle(timeout=120)
    return {"store_id": store_id, "before": before, "after": served(stack, "studio")}


# ------------------------------------------------------------------------------------------ install


def test_install_takes_the_key_grant_then_an_application_password(stack: DevStack) -> None:
    store_id = stack.install_woocommerce("installs", seed=1, size=5, profile="clean", mode="paused")
    seeded = stack.woo.sandbox.credentials["installs"]

    creds = store_credentials(stack, store_id)
    assert creds["consumer_key"].startswith("ck_") and creds["consumer_key"] != seeded.consumer_key
    assert creds["app_user"] == "admin"
    assert creds["app_password"] != seeded.app_password.replace(" ", "")  # a new one, made by the approval
    ours = [p for p in admin(stack, "sites/installs/app-passwords") if p["app_id"] == DEFAULT_APP_ID]
    assert len(ours) == 1 and ours[0]["name"].startswith("Image Connector (")
    assert ours[0]["last_used"], "the connector proved the password on wp/v2/users/me before keeping it"

    hooks = admin(stack, "sites/installs/webhooks")
    assert sorted(h["topic"] for h in hooks) == sorted(SUBSCRIBED_TOPICS)
    assert all(h["status"] == "active" and h["delivery_url"].startswith(stack.web.url) for h in hooks)
    pings = [p for h in hooks for p in h["pings"]]
    assert pings and all(p["status"] == 200 for p in pings)  # the unsigned pings are answered 200 ...
    with stack.services.session() as s:
        domain = s.get(Store, store_id).domain  # type: ignore[union-attr]
        assert not s.scalar(select(func.count()).where(WebhookEventRecord.shop == domain))  # ... and ignored
        assert s.scalar(select(Run.kind).where(Run.store_id == store_id)) == "install-sync"

    ping = requests.post(
        f"{stack.web.url}/webhooks/woocommerce",
        data=f"webhook_id={hooks[0]['id']}",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-WC-Webhook-Source": f"{seeded.url}/",
        },
        timeout=30,
    )
    assert ping.status_code == 200 and ping.json() == {"outcome": "ping"}


def test_declined_consents_finish_nothing_until_approved(stack: DevStack) -> None:
    site = stack.woo.create_site("declines", size=5, profile="clean")
    browser = MerchantBrowser()
    install_link = f"{stack.web.url}/install/woocommerce?{urlencode({'shop': site.url})}"
    denied = browser.click(browser.open(install_link), "deny")  # WooCommerce's key grant denied
    assert denied.status_code == 401 and "did not grant" in denied.json()["error"]
    with stack.services.session() as s:
        assert s.scalar(select(Store).where(Store.domain == site.url)) is None

    consent = browser.click(browser.open(install_link), "approve")
    assert consent.url.startswith(f"{site.url}/wp-admin/authorize-application.php")
    declined = browser.submit(consent, "reject")
    assert declined.status_code == 401 and "was not approved" in declined.json()["error"]

    with stack.services.session() as s:
        store = s.scalar(select(Store).where(Store.domain == site.url))
        assert store is not None
        store_id = store.id
    assert "consumer_key" in store_credentials(stack, store_id)
    assert "app_password" not in store_credentials(stack, store_id)
    with stack.services.session() as s:
        assert not s.scalar(select(func.count()).where(Run.store_id == store_id))  # no sync without uploads

    forged = requests.get(  # a callback from a browser that started no install changes nothing
        f"{stack.web.url}/install/woocommerce/followup",
        params={"state": "guess", "site_url": site.url, "user_login": "admin", "password": site.app_password},
        timeout=30,
    )
    assert forged.status_code == 401 and "app_password" not in store_credentials(stack, store_id)

    again = browser.click(browser.open(install_link), "approve")
    with stack.services.session() as s:  # the operator pauses it: its photos are not this test's business
        s.get(Store, store_id).mode = "paused"  # type: ignore[union-attr]
    assert browser.submit(again, "approve").status_code == 200
    assert store_credentials(stack, store_id)["app_password"]
    with stack.services.session() as s:
        assert s.scalar(select(Run.kind).where(Run.store_id == store_id)) == "install-sync"


# ------------------------------------------------------------------------------------------ sync


def test_full_sync_pages_through_a_large_catalog(stack: DevStack) -> None:
    # paused: the sync mirrors the catalog, the photos wait; 150 products need two pages of 100
    # (the store refuses per_page above 100), variable products one more request for their variations
    store_id = stack.install_woocommerce("large", seed=5, size=150, profile="clean", mode="paused")
    stack.wait_idle(timeout=120)
    expected = {str(p["id"]): p for p in admin(stack, "sites/large/products")}
    assert len(expected) == 150
    with stack.services.session() as s:
        products = {p.platform_id: p for p in s.scalars(select(Product).where(Product.store_id == store_id))}
        assert set(products) == set(expected)
        for pid, product in products.items():
            shown = sorted(product.images, key=lambda i: i.position)
            assert [i.platform_media_id for i in shown] == [str(i) for i in expected[pid]["image_ids"]]
            assert product.variant_ids == [str(v["id"]) for v in expected[pid]["variations"]]
            for variation in expected[pid]["variations"]:
                if variation["image_id"]:
                    linked = next(i for i in shown if i.platform_media_id == str(variation["image_id"]))
                    assert str(variation["id"]) in linked.variant_ids


# ------------------------------------------------------------------------------------------ publish


def test_results_replace_the_photos_in_place(stack: DevStack, studio: dict[str, Any]) -> None:
    before, after = studio["before"], studio["after"]
    with stack.services.session() as s:
        published = list(
            s.scalars(select(Image).where(Image.store_id == studio["store_id"], Image.status == "published"))
        )
        assert len(published) >= 4
        for image in published:
            pid = s.get(Product, image.product_id).platform_id  # type: ignore[union-attr]
            old_ids = [i for i, _ in before[pid]["images"]]
            new_ids = [i for i, _ in after[pid]["images"]]
            position = old_ids.index(int(image.original_media_id))
            assert len(new_ids) == len(old_ids) and new_ids[position] == int(image.platform_media_id)
            current = s.get(ImageVersion, image.current_version_id)
            assert current is not None and after[pid]["images"][position][1] == current.blob_hash
            for vid, shown in before[pid]["variations"].items():  # variations follow their photo
                if shown == int(image.original_media_id):
                    assert after[pid]["variations"][vid] == int(image.platform_media_id)
        replaced = {int(i.original_media_id) for i in published}
        for pid, was in before.items():  # every other slot is untouched
            kept = [(n, img) for n, img in enumerate(was["images"]) if img[0] not in replaced]
            assert all(after[pid]["images"][n] == img for n, img in kept)
    variable = next(p for p in before.values() if len(p["images"]) == 2 and any(p["variations"].values()))
    linked = {v for v in variable["variations"].values() if v}
    assert linked == {variable["images"][1][0]}, "seed 89: the variations show the second photo"
    pid = next(k for k, v in before.items() if v is variable)
    assert after[pid]["images"][1][0] != variable["images"][1][0], "the second photo was replaced"
    assert set(after[pid]["variations"].values()) == {after[pid]["images"][1][0], None}


def test_webhooks_for_our_own_changes_are_not_reprocessed(stack: DevStack, studio: dict[str, Any]) -> None:
    store_id = studio["store_id"]
    with stack.services.session() as s:
        domain = s.get(Store, store_id).domain  # type: ignore[union-attr]
        outcomes = list(
            s.scalars(select(WebhookEventRecord.outcome).where(WebhookEventRecord.shop == domain))
        )
        ours = set(s.scalars(select(Operation.new_media_id).where(Operation.store_id == store_id)))
        originals = set(s.scalars(select(Image.original_media_id).where(Image.store_id == store_id)))
    delivered = [d for d in admin(stack, "sites/studio/deliveries") if d["status"] == 200]
    assert delivered and outcomes, "every product save (ours included) fires product.updated"
    assert set(outcomes) <= {"sync queued", "sync already queued"}
    assert ours and not ours & originals  # our uploads never became images of their own ...
    assert set(result_counts(stack, store_id).values()) == {1}  # ... and nothing was processed twice


def test_a_forged_signature_is_refused_and_changes_nothing(stack: DevStack, studio: dict[str, Any]) -> None:
    site = stack.woo.sandbox.credentials["studio"]
    product = next(iter(studio["after"]))
    body = json.dumps({"id": int(product), "name": "forged", "images": []}).encode()

    def counts() -> tuple[int, int, int]:
        with stack.services.session() as s:
            return (
                s.scalar(select(func.count()).select_from(WebhookEventRecord)) or 0,
                s.scalar(select(func.count()).select_from(Job)) or 0,
                stack.services.queue().count,
            )

    seen = counts()
    answer = requests.post(
        f"{stack.web.url}/webhooks/woocommerce",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-WC-Webhook-Source": f"{site.url}/",
            "X-WC-Webhook-Topic": "product.updated",
            "X-WC-Webhook-ID": "1",
            "X-WC-Webhook-Delivery-ID": "forged",
            "X-WC-Webhook-Signature": sign(body, "not-the-secret"),
        },
        timeout=30,
    )
    assert answer.status_code == 401
    assert counts() == seen


@pytest.fixture(scope="module")
def edited(stack: DevStack, studio: dict[str, Any]) -> dict[str, Any]:
    """Two quick merchant edits of a one-photo product: a photo over 2560 px in our place, one more added."""
    pid = next(k for k, v in studio["before"].items() if len(v["images"]) == 1 and not v["variations"])
    outbox = stack.woo.sandbox.outbox
    delivered_before = len(admin(stack, "sites/studio/deliveries"))
    outbox.delay = 3.0  # both edits land before WooCommerce's queue sends the first delivery
    try:
        big = base64.b64encode(big_photo()).decode()
        path = f"sites/studio/products/{pid}/images"
        first = admin(stack, f"{path}/replace", position=0, data_base64=big, filename="big-shoe.jpg")
        second = admin(stack, f"{path}/add", kind="studio-grey", seed=7)
    finally:
        outbox.delay = stack.webhook_delay
    stack.wait_idle(timeout=120)
    deliveries = [
        d
        for d in admin(stack, "sites/studio/deliveries")[delivered_before:]
        if d["meta"]["resource_id"] == int(pid)
    ]
    approve_held(stack, studio["store_id"])
    stack.wait_idle(timeout=120)
    return {"pid": pid, "first": first, "second": second, "deliveries": deliveries}


def test_two_quick_merchant_edits_arrive_as_one_delivery(
    stack: DevStack, studio: dict[str, Any], edited: dict[str, Any]
) -> None:
    new = edited["deliveries"]
    assert len(new) == 1 and new[0]["coalesced"] >= 1, "WooCommerce sends one delivery per product"
    payload = json.loads(new[0]["body"])
    shown = edited["second"]["image_ids"]
    assert [i["id"] for i in payload["images"]] == shown  # built at send time: the latest data
    assert edited["first"]["image_ids"][0] == shown[0] and len(shown) == 2

    rows = {i.original_media_id: i for i in images_of(stack, studio["store_id"], edited["pid"])}
    assert all(rows[str(media_id)].status == "published" for media_id in shown)  # both edits handled
    assert set(result_counts(stack, studio["store_id"]).values()) == {1}


# ------------------------------------------------------------------------------------------ rollback


def test_rollback_serves_the_backed_up_bytes_again(
    stack: DevStack, studio: dict[str, Any], edited: dict[str, Any]
) -> None:
    store_id, before = studio["store_id"], studio["before"]
    variable = next(k for k, v in before.items() if len(v["images"]) == 2 and any(v["variations"].values()))
    big_id = str(edited["second"]["image_ids"][0])
    big = next(i for i in images_of(stack, store_id, edited["pid"]) if i.original_media_id == big_id)
    library = admin(stack, "sites/studio/media?hashes=1")
    scaled = next(a for a in library if str(a["id"]) == big.original_media_id)
    # WordPress keeps an upload over 2560 px as it came but serves a "-scaled" copy (and an EXIF-rotated
    # photo as a "-rotated" copy); products point at that copy.  The connector backs up and processes what
    # the merchant uploaded (kept beside the copy, named in the attachment's metadata), and a rollback
    # re-attaches the untouched attachment, whose original is exactly the backed-up bytes.  Were the
    # attachment deleted meanwhile, the backup is uploaded again (checked below on a photo whose original
    # the merchant deleted from the media library).
    assert big.status == "published" and scaled["file"].endswith("-scaled.jpg")
    assert scaled["sha256"] != scaled["original_sha256"] == backup_hash(stack, big.id)
    gone = next(
        i
        for pid in before
        if pid not in (variable, edited["pid"])
        for i in images_of(stack, store_id, pid)
        if i.status == "published"
    )
    gone_pid = _platform_id(stack, gone)
    admin(stack, f"sites/studio/media/{gone.original_media_id}", method="DELETE")  # the merchant deletes it

    for pid in (variable, edited["pid"], gone_pid):
        product_id = actions.product_by_platform_id(stack.services, store_id, pid)
        actions.rollback(stack.services, store_id=store_id, product_id=product_id)
    stack.wait_idle(timeout=120)
    after = served(stack, "studio")

    assert after[variable] == before[variable]  # same attachments, positions, variation links, bytes
    assert int(big.original_media_id) in dict(after[edited["pid"]]["images"])  # the attachment is back
    restored = admin(stack, "sites/studio/media?hashes=1")
    assert next(a for a in restored if a["id"] == int(big.original_media_id))[
        "original_sha256"
    ] == backup_hash(stack, big.id)
    assert backup_hash(stack, gone.id) in [h for _, h in after[gone_pid]["images"]]
    with stack.services.session() as s:
        for image_id in (big.id, gone.id):
            assert s.get(Image, image_id).status == "rolled_back"  # type: ignore[union-attr]


def _platform_id(stack: DevStack, image: Image) -> str:
    with stack.services.session() as s:
        return s.get(Product, image.product_id).platform_id  # type: ignore[union-attr]


# ------------------------------------------------------------------------------------------ resync


def test_incremental_resync_picks_up_a_merchant_edit(stack: DevStack, studio: dict[str, Any]) -> None:
    store_id = studio["store_id"]
    connector_cli(stack, "resync", str(store_id), "--wait")  # a full sync: the next one starts from here
    with stack.services.session() as s:
        synced = {
            p.platform_id: p.synced_at for p in s.scalars(select(Product).where(Product.store_id == store_id))
        }
    pid = sorted(synced)[-1]
    outbox = stack.woo.sandbox.outbox
    outbox.delay = 3600  # the product.updated delivery waits: only the resync can find the edit
    try:
        edit = admin(stack, f"sites/studio/products/{pid}/images/add", kind="on-white", seed=11)
        connector_cli(stack, "resync", str(store_id), "--incremental", "--wait")
    finally:
        outbox.delay = stack.webhook_delay
    with stack.services.session() as s:
        now = {
            p.platform_id: p.synced_at for p in s.scalars(select(Product).where(Product.store_id == store_id))
        }
    # modified_after with dates_are_gmt: only the edited product (the site runs at UTC+2, so a filter read
    # as site time would also bring back every product changed in the last two hours, ours included)
    assert [p for p in now if now[p] != synced[p]] == [pid]
    added = str(edit["image_ids"][-1])
    assert any(i.original_media_id == added for i in images_of(stack, store_id, pid))

    # the held delivery arrives after all: handled, and nothing is processed twice
    admin(stack, "flush", method="POST")
    stack.wait_idle(timeout=120)
    assert set(result_counts(stack, store_id).values()) == {1}
