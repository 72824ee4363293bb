"""The whole connector against the Shopify sandbox, with the image model: a product's photos are
replaced by a worker with their positions, alt texts and variant links kept; the sandbox's
webhooks reach ``/webhooks/shopify`` over loopback — the connector's own changes are not
reprocessed, a forged delivery is refused, a replayed one is processed once — and the shop's
uninstall and the compliance webhooks end the connector's work and then erase the shop's data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from sandbox.devstack import SHOPIFY_APP_KEY, SHOPIFY_APP_SECRET, DevStack
from sqlalchemy import func, select

from connector import actions
from connector.models import (
    Base,
    Image,
    ImageVersion,
    Job,
    Operation,
    Product,
    Run,
    Store,
    WebhookEventRecord,
)
from connector.settings import PROJECT_ROOT
from tests.conftest import base_env
from tests.e2e.shopify_connector_support import (
    UNTHROTTLED,
    install_through_link,
    job_result,
    job_results,
    num,
    run_jobs,
    sandbox_admin,
    set_throttle,
    store_row,
    synced_at,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SHOP = "webhook-shop.myshopify.com"
EXAMPLES = PROJECT_ROOT / "devkit" / "sandbox" / "assets" / "rembg-examples"
#: photos the default preset passes, so auto mode publishes each of them
PHOTOS = ("car-3", "animal-2", "car-2")


@dataclass(frozen=True)
class Published:
    """The shop after the connector replaced its product's photos, and what it showed before."""

    stack: DevStack
    store_id: int
    product: str  # the product's gid
    before: dict[str, Any]  # the sandbox's view of the product before the install
    after: dict[str, Any]


def product_view(stack: DevStack, product: str) -> dict[str, Any]:
    return dict(sandbox_admin(stack, "GET", f"/shops/{SHOP}/products/{num(product)}"))


def seed_product(stack: DevStack) -> str:
    """One product of three photos, variants showing the first and the last, alt texts set."""
    stack.shopify.sandbox.create_shop(SHOP, seed=4, size=5, profile="clean")
    for seeded in sandbox_admin(stack, "GET", f"/shops/{SHOP}/products"):
        sandbox_admin(stack, "DELETE", f"/shops/{SHOP}/products/{num(seeded['id'])}")
    images = [
        {
            "data": base64.b64encode((EXAMPLES / f"{name}.jpg").read_bytes()).decode(),
            "filename": f"{name}.jpg",
            "alt": f"{name} photo",
        }
        for name in PHOTOS
    ]
    created = sandbox_admin(
        stack,
        "POST",
        f"/shops/{SHOP}/products",
        json={"title": "Collector set", "variants": ["Red", "Blue", "Green"], "images": images},
    )
    media = [m["id"] for m in created["media"]]
    red, blue, _green = (v["id"] for v in created["variants"])
    for variant, shown in ((red, media[2]), (blue, media[0])):
        path = f"/shops/{SHOP}/products/{num(created['id'])}/variants/{num(variant)}/media"
        sandbox_admin(stack, "PUT", path, json={"media_id": shown})
    return str(created["id"])


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    var = tmp_path_factory.mktemp("shopify-connector-webhooks")
    # shop/redact comes 48 h after the uninstall on Shopify; here at once, with no grace period
    with DevStack(base_env(var, SHOP_REDACT_GRACE_SECONDS="0")) as stack:
        set_throttle(stack, UNTHROTTLED)
        product = seed_product(stack)
        before = product_view(stack, product)
        store_id = install_through_link(stack, SHOP, mode="auto")
        stack.worker(log=var / "worker.log")
        stack.wait_idle(timeout=180)
        yield Published(stack, store_id, product, before, product_view(stack, product))


def count(stack: DevStack, model: Any, *where: Any) -> int:
    with stack.services.session() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def deliveries(stack: DevStack, topic: str) -> list[dict[str, Any]]:
    return list(sandbox_admin(stack, "GET", f"/shops/{SHOP}/deliveries", params={"topic": topic}))


def post_webhook(
    stack: DevStack, topic: str, payload: dict[str, Any], secret: str | None
) -> requests.Response:
    """A delivery to the connector as Shopify signs it (``secret=None``: unsigned)."""
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
    }
    if secret is not None:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        headers["X-Shopify-Hmac-Sha256"] = base64.b64encode(digest).decode()
    return requests.post(f"{stack.web.url}/webhooks/shopify", data=body, headers=headers, timeout=30)


def trigger(stack: DevStack, topic: str, **body: Any) -> None:
    sandbox_admin(stack, "POST", f"/shops/{SHOP}/webhooks/trigger", json={"topic": topic, **body})


# ------------------------------------------------------------------------------ replace


def test_photos_are_replaced_with_positions_alt_texts_and_variant_links_kept(published: Published) -> None:
    before, after = published.before["media"], published.after["media"]
    assert len(after) == len(before) == len(PHOTOS)  # no slot doubled, none lost
    for old, new in zip(before, after, strict=True):
        assert new["id"] != old["id"] and new["sha256"] != old["sha256"]  # our result, in the same place
        assert new["position"] == old["position"] and new["alt"] == old["alt"]
        assert new["status"] == "READY" and new["app"] == SHOPIFY_APP_KEY
    variants_before = {v["title"]: v["media_id"] for v in published.before["variants"]}
    variants_after = {v["title"]: v["media_id"] for v in published.after["variants"]}
    slot = {old["id"]: new["id"] for old, new in zip(before, after, strict=True)}
    assert variants_after == {t: slot.get(m) if m else None for t, m in variants_before.items()}
    assert variants_after["Green"] is None and variants_after["Red"] == after[2]["id"]

    library = {f["id"]: f for f in sandbox_admin(published.stack, "GET", f"/shops/{SHOP}/files")}
    for old in before:  # the merchant's originals are detached, still in the Files library
        assert library[old["id"]]["products"] == [] and not library[old["id"]]["deleted"]
    with published.stack.services.session() as s:
        ops = list(s.scalars(select(Operation).where(Operation.store_id == published.store_id)))
        statuses = {i.status for i in s.scalars(select(Image).where(Image.store_id == published.store_id))}
    assert statuses == {"published"}
    assert len(ops) == len(PHOTOS) and all(op.state == "done" and op.uploads == 1 for op in ops)


# ----------------------------------------------------------------------------- webhooks


def test_the_connectors_own_media_changes_are_not_reprocessed(published: Published) -> None:
    stack = published.stack
    updates = deliveries(stack, "products/update")
    assert updates and all(d["state"] == "delivered" and d["status"] == 200 for d in updates)
    with stack.services.session() as s:
        events = list(
            s.scalars(select(WebhookEventRecord).where(WebhookEventRecord.topic == "product.updated"))
        )
        syncs = [j.id for j in s.scalars(select(Job).where(Job.kind == "sync_product"))]
    assert len(events) == len(updates)  # every products/update our own changes fired reached us
    assert syncs, "the own-change deliveries queued a product sync"
    for job_id in syncs:  # …which recognised our media and queued nothing
        result = job_result(stack.services, job_id)
        assert result["queued"] == 0 and result["own_media"] >= 1, result
    assert count(stack, Job, Job.kind == "process") == len(PHOTOS)
    assert count(stack, ImageVersion, ImageVersion.kind == "result") == len(PHOTOS)

    run_id = actions.resync(stack.services, published.store_id)  # nothing changed: nothing queued
    stack.wait_idle(timeout=60)
    assert run_jobs(stack.services, run_id) == {"sync": ["done"]}
    assert job_results(stack.services, run_id) == [{"products": 1, "images": len(PHOTOS), "queued": 0}]
    assert count(stack, Operation) == len(PHOTOS)


def test_a_forged_webhook_is_refused_and_changes_nothing(published: Published) -> None:
    stack = published.stack
    events, mirrored = count(stack, WebhookEventRecord), synced_at(stack.services, published.store_id)
    payload = {"id": int(num(published.product)), "admin_graphql_api_id": published.product, "title": "x"}

    assert post_webhook(stack, "products/update", payload, secret="not-the-app-secret").status_code == 401
    assert post_webhook(stack, "products/update", payload, secret=None).status_code == 401
    assert post_webhook(stack, "shop/redact", {"shop_domain": SHOP}, secret="guess").status_code == 401

    assert count(stack, WebhookEventRecord) == events
    assert stack.services.queue().count == 0
    stack.wait_idle(timeout=30)
    assert synced_at(stack.services, published.store_id) == mirrored
    assert store_row(stack.services, published.store_id).active


def test_a_replayed_delivery_is_processed_once(published: Published) -> None:
    stack = published.stack
    seen = len(deliveries(stack, "products/update"))
    trigger(stack, "products/update", product_id=num(published.product))
    wait_until(lambda: len(deliveries(stack, "products/update")) > seen, what="the products/update delivery")
    stack.wait_idle(timeout=60)
    delivery = deliveries(stack, "products/update")[-1]
    event_id = delivery["headers"]["X-Shopify-Event-Id"]
    assert delivery["state"] == "delivered"
    first_sync = synced_at(stack.services, published.store_id)[published.product]

    replay = sandbox_admin(stack, "POST", f"/deliveries/{delivery['id']}/redeliver")
    wait_until(
        lambda: any(
            d["id"] == replay["id"] and d["state"] == "delivered"
            for d in deliveries(stack, "products/update")
        ),
        what="the replayed delivery",
    )
    stack.wait_idle(timeout=60)

    replayed = next(d for d in deliveries(stack, "products/update") if d["id"] == replay["id"])
    assert replayed["headers"]["X-Shopify-Event-Id"] == event_id and replayed["status"] == 200
    assert count(stack, WebhookEventRecord, WebhookEventRecord.event_id == event_id) == 1
    assert synced_at(stack.services, published.store_id)[published.product] == first_sync  # not synced again


# --------------------------------------------------------------- uninstall and compliance


def test_uninstall_stops_work_keeps_history_and_shop_redact_erases_the_shop(published: Published) -> None:
    stack, store_id = published.stack, published.store_id
    sandbox_admin(stack, "POST", f"/shops/{SHOP}/uninstall", json={"api_key": SHOPIFY_APP_KEY})
    wait_until(lambda: not store_row(stack.services, store_id).active, what="app/uninstalled")
    store = store_row(stack.services, store_id)
    assert store.credentials_encrypted == "" and store.uninstalled_at is not None and store.mode == "paused"
    assert count(stack, ImageVersion) == 2 * len(PHOTOS)  # originals and results: history kept
    assert count(stack, Operation, Operation.state == "done") == len(PHOTOS)

    payload = {"id": int(num(published.product)), "admin_graphql_api_id": published.product}
    late = post_webhook(stack, "products/update", payload, secret=SHOPIFY_APP_SECRET)
    assert late.status_code == 200 and late.json()["outcome"] == "store uninstalled"
    assert stack.services.queue().count == 0  # no more work for the shop
    run_id = actions.resync(stack.services, store_id)
    stack.wait_idle(timeout=60)
    assert run_jobs(stack.services, run_id) == {"sync": ["failed"]}
    with stack.services.session() as s:
        reason = s.scalar(select(Job.error).where(Job.run_id == run_id))
    assert reason and "uninstalled" in reason

    for topic in ("customers/data_request", "customers/redact"):
        trigger(stack, topic, customer_id=42)
    wait_until(
        lambda: all(
            [d["state"] for d in deliveries(stack, t)] == ["delivered"]
            for t in ("customers/data_request", "customers/redact")
        ),
        what="the customer compliance deliveries",
    )
    assert all(
        d["status"] == 200
        for t in ("customers/data_request", "customers/redact")
        for d in deliveries(stack, t)
    )

    with stack.services.session() as s:
        photos = set(s.scalars(select(ImageVersion.blob_hash)))
    assert photos and all(stack.services.blobs.exists(d) for d in photos)
    assert mentions_of_the_shop(stack)
    trigger(stack, "shop/redact")
    wait_until(lambda: count(stack, Store, Store.id == store_id) == 0, what="shop/redact")
    stack.wait_idle(timeout=60)  # the queued erasure of the photos' bytes
    assert [d["status"] for d in deliveries(stack, "shop/redact")] == [200]
    for model in (Product, Image, Operation, Run):
        assert count(stack, model, model.store_id == store_id) == 0, model
    assert not any(stack.services.blobs.exists(d) for d in photos)
    redact = deliveries(stack, "shop/redact")[0]
    sandbox_admin(stack, "POST", f"/deliveries/{redact['id']}/redeliver")  # a late retry, say
    stack.wait_idle(timeout=60)
    assert [d["status"] for d in deliveries(stack, "shop/redact")] == [200, 200]
    assert not mentions_of_the_shop(stack)  # not even a record of the late delivery


def mentions_of_the_shop(stack: DevStack) -> list[str]:
    """Rows of any table that still name the shop, its store id or one of its products."""
    markers = (SHOP, "Product/", "MediaImage/")
    found = []
    with stack.services.session() as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(select(table)):
                text = repr(tuple(row))
                if any(m in text for m in markers):
                    found.append(f"{table.name}: {text[:200]}")
    return found
