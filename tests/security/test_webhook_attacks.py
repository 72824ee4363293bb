"""Forged, replayed and re-labelled webhooks: nothing changes (stores, tokens, queue, files).

A Shopify signature covers only the body, and one app secret signs every shop's deliveries, so a
captured body must not act on another shop or under another topic; destructive topics wait for
the platform's word (a revoked token) and for the grace period.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from rq.registry import ScheduledJobRegistry
from sandbox.fake_platform import FakeApp
from sqlalchemy import select

from adapters.woocommerce.webhooks import sign as woo_sign
from connector.confirmations import erase_when_due_job
from connector.models import Product, Store, utcnow
from connector.services import Services
from connector.stores import mark_uninstalled, save_install
from connector.webhooks import handle_webhook
from tests.security.conftest import APP_SECRET, SHOP_A, SHOP_B, WOO_SECRET, WOO_SHOP
from tests.security.support import Snapshot, snapshot

pytestmark = pytest.mark.security


def shopify(
    client: FlaskClient,
    topic: str,
    shop: str,
    body: bytes,
    secret: str | None = APP_SECRET,
    event: str = "e-1",
) -> tuple[int, str]:
    """POST a delivery as Shopify would (``secret=None``: unsigned); status and outcome."""
    headers = {"X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": shop, "X-Shopify-Event-Id": "e-1"}
    if secret is not None:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        headers["X-Shopify-Hmac-Sha256"] = base64.b64encode(digest).decode()
    answer = client.post("/webhooks/shopify", data=body, headers=headers, content_type="application/json")
    return answer.status_code, (answer.get_json(silent=True) or {}).get("outcome", "")


UNINSTALLED_A = json.dumps({"id": 1, "domain": "alpha.example", "myshopify_domain": SHOP_A}).encode()
REDACT_A = json.dumps({"shop_id": 1, "shop_domain": SHOP_A}).encode()
PRODUCT_A = json.dumps({"id": 7, "title": "Mug", "admin_graphql_api_id": "gid://shopify/Product/7"}).encode()


@pytest.mark.parametrize(
    ("topic", "shop", "body"),
    [
        *(
            (t, SHOP_B, b)
            for t in ("app/uninstalled", "shop/redact")
            for b in (UNINSTALLED_A, REDACT_A, PRODUCT_A)
        ),
        ("shop/redact", SHOP_A, UNINSTALLED_A),
        ("app/uninstalled", SHOP_A, REDACT_A),
        ("products/delete", SHOP_A, PRODUCT_A),
    ],
)
def test_a_signed_body_does_not_act_on_another_shop_or_under_another_topic(
    shared: Services, shared_client: FlaskClient, topic: str, shop: str, body: bytes
) -> None:
    """The issue's attack: shop A's genuine signed bodies, resent as B's app/uninstalled and shop/redact
    (and under topics other than their own)."""
    before = snapshot(shared)
    assert shopify(shared_client, topic, shop, body)[0] == 401
    assert snapshot(shared) == before


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"], ids=["unsigned", "empty", "wrong-secret"])
def test_forged_signatures_are_refused(
    shared: Services, shared_client: FlaskClient, secret: str | None
) -> None:
    svc, client = shared, shared_client
    before = snapshot(svc)
    for topic, body in (
        ("app/uninstalled", UNINSTALLED_A),
        ("shop/redact", REDACT_A),
        ("products/update", PRODUCT_A),
    ):
        assert shopify(client, topic, SHOP_A, body, secret=secret)[0] == 401
    assert snapshot(svc) == before


def test_a_replayed_delivery_is_acted_on_once(
    svc: Services, client: FlaskClient, stores: dict[str, int]
) -> None:
    assert shopify(client, "products/update", SHOP_A, PRODUCT_A) == (200, "sync queued")
    after_first = snapshot(svc)
    assert shopify(client, "products/update", SHOP_A, PRODUCT_A) == (200, "duplicate ignored")
    assert snapshot(svc) == after_first and svc.queue().count == 1


def test_a_huge_body_is_refused_unread(svc: Services, client: FlaskClient, stores: dict[str, int]) -> None:
    before = snapshot(svc)
    answer = client.post("/webhooks/shopify", data=b"x" * (50 * 1024 * 1024), content_type="application/json")
    assert answer.status_code == 413 and snapshot(svc) == before


def _woo(client: FlaskClient, topic: str, body: bytes, source: str = WOO_SHOP) -> int:
    headers = {
        "X-WC-Webhook-Source": source,
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-ID": "3",
        "X-WC-Webhook-Delivery-ID": "d1",
        "X-WC-Webhook-Signature": woo_sign(body, WOO_SECRET),
    }
    return client.post("/webhooks/woocommerce", data=body, headers=headers).status_code


def test_a_woocommerce_body_relabelled_with_another_topic_is_refused(
    svc: Services, client: FlaskClient, stores: dict[str, int]
) -> None:
    with svc.session() as s:
        s.add(Product(store_id=stores[WOO_SHOP], platform_id="5", title="Mug"))
    before = snapshot(svc)
    updated = json.dumps({"id": 5, "name": "Mug", "date_modified_gmt": "2026-01-01T00:00:00"}).encode()
    assert _woo(client, "product.deleted", updated) == 401  # an update's body does not delete
    assert _woo(client, "product.updated", b'{"id": 5}') == 401
    for source in ("javascript:alert(1)", "http://[::1", "https://woo-store.example:99999"):
        assert _woo(client, "product.updated", updated, source=source) == 401  # no traceback, no 500
    assert snapshot(svc) == before
    with svc.session() as s:
        assert s.scalar(select(Product.deleted).where(Product.platform_id == "5")) is False


# ------------------------------------------------------------------ destructive topics wait for the platform


def _fake_app(svc: Services) -> FakeApp:
    app = svc.platforms["fake"]
    assert isinstance(app, FakeApp)
    return app


def _fake(svc: Services, event: str, topic: str) -> tuple[int, str]:
    headers = {"X-Fake-Shop": "demo.fake", "X-Fake-Topic": topic, "X-Fake-Event": event}
    answer = handle_webhook(svc, "fake", {**headers, "X-Fake-Signature": _fake_app(svc).sign(b"{}")}, b"{}")
    return answer.status, answer.outcome


def _fake_store(svc: Services, *, uninstalled: bool = False) -> int:
    """A fake store with a product; ``uninstalled``: the app was removed (its token refused)."""
    shop = _fake_app(svc).store("demo.fake")
    shop.add_product("mug", [])
    store_id = save_install(svc, "fake", "demo.fake", {"token": "tok-demo.fake"})
    if uninstalled:
        shop.installed = False
        mark_uninstalled(svc, store_id)
    return store_id


def _same_but_records(before: Snapshot, after: Snapshot) -> bool:
    """Equal but for the webhook records (a delivery that was heard, and acted on as nothing)."""
    return dataclasses.replace(after, webhook_records=before.webhook_records) == before


def test_an_uninstall_the_platform_does_not_confirm_changes_nothing(svc: Services) -> None:
    """A valid-looking app/uninstalled while the store's token still works is not acted on."""
    store_id = _fake_store(svc)
    before = snapshot(svc)
    status, outcome = _fake(svc, "u-1", "app.uninstalled")
    assert status == 200 and "not confirmed" in outcome
    assert _same_but_records(before, snapshot(svc))
    status, outcome = _fake(svc, "r-1", "shop.redact")
    assert status == 200 and "still has the app" in outcome
    assert _same_but_records(before, snapshot(svc))
    with svc.session() as s:
        assert s.get(Store, store_id).active  # type: ignore[union-attr]


def test_shop_redact_waits_the_grace_period_and_a_reinstall_cancels_it(svc: Services) -> None:
    store_id = _fake_store(svc, uninstalled=True)
    before = snapshot(svc)
    status, outcome = _fake(svc, "r-1", "shop.redact")
    assert status == 200 and outcome.startswith("erasure scheduled for")
    after = snapshot(svc)
    assert after.stores == before.stores and after.counts == before.counts and after.files == before.files
    assert ScheduledJobRegistry(queue=svc.queue()).count == 1
    assert erase_when_due_job(store_id) is False  # not due yet: nothing erased
    _fake_app(svc).store("demo.fake").installed = True
    save_install(svc, "fake", "demo.fake", {"token": "tok-demo.fake"})  # the merchant came back in time
    assert erase_when_due_job(store_id) is False  # when the scheduled erasure runs, it finds a store in use
    with svc.session() as s:
        store = s.get(Store, store_id)
        assert store is not None and store.active


def test_shop_redact_after_the_grace_period_erases(svc: Services) -> None:
    store_id = _fake_store(svc, uninstalled=True)
    with svc.session() as s:
        s.get(Store, store_id).uninstalled_at = utcnow() - timedelta(hours=49)  # type: ignore[union-attr]
    assert _fake(svc, "r-2", "shop.redact") == (200, "shop data erased")
    with svc.session() as s:
        assert s.get(Store, store_id) is None
