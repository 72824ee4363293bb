"""The Shopify sandbox's bulk operations, webhooks (signatures, retries, topics) and fault injection."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sandbox.shopify import API_VERSION, AppConfig, fast_config, start
from sandbox.shopify.client import (
    FILE_UPDATE,
    AdminGraphQL,
    Received,
    SandboxAdmin,
    WebhookSink,
    solid_png,
    upload_image,
    wait_for_media,
)

from tests.integration.shopify_sandbox_support import shop_fixtures

pytestmark = pytest.mark.integration

KEY, SECRET = "hook-key", "hook-secret"
BULK = """
mutation($q: String!) { bulkOperationRunQuery(query: $q) {
  bulkOperation { id status } userErrors { field message code } } }"""
CURRENT = "{ currentBulkOperation { id status url objectCount rootObjectCount errorCode } }"
SUBSCRIBE = """
mutation($topic: WebhookSubscriptionTopic!, $url: URL!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {callbackUrl: $url, format: JSON}) {
    webhookSubscription { id topic endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } }
    userErrors { field message }
  }
}"""


@pytest.fixture(scope="module")
def sink() -> Iterator[WebhookSink]:
    receiver = WebhookSink().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def running(sink: WebhookSink) -> Iterator[Any]:
    app = AppConfig(KEY, SECRET, compliance_url=sink.url.replace("/webhooks", "/compliance"))
    with start(fast_config(apps=(app,), webhook_retry_schedule=(0.05, 0.1, 0.2))) as sandbox:
        yield sandbox


admin, shop, gql = shop_fixtures("w", seed=5, size=8, profile="clean")


def from_shop(sink: WebhookSink, shop: str, topic: str, count: int = 1) -> list[Received]:
    deadline = time.time() + 10
    while True:
        got = [
            r
            for r in sink.received
            if r.headers.get("X-Shopify-Shop-Domain") == shop and r.headers.get("X-Shopify-Topic") == topic
        ]
        if len(got) >= count or time.time() > deadline:
            return got
        time.sleep(0.02)


def signed(received: Received) -> bool:
    digest = hmac.new(SECRET.encode(), received.body, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), received.headers["X-Shopify-Hmac-Sha256"])


# --------------------------------------------------------------------------------------------- bulk


def test_bulk_query_writes_jsonl_with_parent_ids(gql: AdminGraphQL, admin: SandboxAdmin, shop: str) -> None:
    query = """{ products { edges { node { id title
        media { edges { node { ... on MediaImage { id status } } } }
        variants { edges { node { id sku } } } } } } }"""
    started = gql(BULK, {"q": query})["bulkOperationRunQuery"]
    assert started["userErrors"] == [] and started["bulkOperation"]["status"] == "CREATED"
    again = gql(BULK, {"q": query})["bulkOperationRunQuery"]
    assert again["userErrors"][0]["code"] == "OPERATION_IN_PROGRESS"

    deadline = time.time() + 5
    while (op := gql(CURRENT)["currentBulkOperation"])["status"] != "COMPLETED":
        assert time.time() < deadline and op["status"] in ("CREATED", "RUNNING"), op
        time.sleep(0.03)
    rows = [json.loads(line) for line in requests.get(op["url"], timeout=10).text.splitlines()]
    products = admin.get(f"/shops/{shop}/products")
    assert int(op["objectCount"]) == len(rows) and int(op["rootObjectCount"]) == len(products)
    roots = [r for r in rows if "__parentId" not in r]
    assert [r["id"] for r in roots] == [p["id"] for p in products]
    for product in products:
        children = [r for r in rows if r.get("__parentId") == product["id"]]
        assert [c["id"] for c in children if "MediaImage" in c["id"]] == [m["id"] for m in product["media"]]
        assert [c["id"] for c in children if "Variant" in c["id"]] == [v["id"] for v in product["variants"]]
    current_root = None
    for row in rows:
        if "__parentId" not in row:
            current_root = row["id"]
        else:
            assert row["__parentId"] == current_root, "children follow their parent's line"


def test_bulk_queries_are_restricted_like_shopify(gql: AdminGraphQL) -> None:
    cases = {
        "{ products { edges { node { title variants { edges { node { id } } } } } } }": (
            "must select the 'id' field"
        ),
        "{ products { nodes { id } } }": "Selecting via 'nodes' is not supported",
        "{ shop { name } }": "must contain at least one connection",
        '{ node(id: "gid://shopify/Product/1") { id } }': "top level `node` field",
        "{ products { edges { node { idd } } } }": "Invalid bulk query",
    }
    for query, message in cases.items():
        errors = gql(BULK, {"q": query})["bulkOperationRunQuery"]["userErrors"]
        assert errors and message in errors[0]["message"], (query, errors)
        assert errors[0]["code"] == "INVALID"


# --------------------------------------------------------------------------------------------- webhooks


def test_product_webhooks_are_signed_and_shaped_like_shopify(
    gql: AdminGraphQL, admin: SandboxAdmin, shop: str, sink: WebhookSink
) -> None:
    created = gql(SUBSCRIBE, {"topic": "PRODUCTS_UPDATE", "url": sink.url})["webhookSubscriptionCreate"]
    assert (
        created["userErrors"] == [] and created["webhookSubscription"]["endpoint"]["callbackUrl"] == sink.url
    )
    duplicate = gql(SUBSCRIBE, {"topic": "PRODUCTS_UPDATE", "url": sink.url})["webhookSubscriptionCreate"]
    assert duplicate["userErrors"][0]["message"] == "Address for this topic has already been taken"
    update = """mutation($id: ID!, $sub: WebhookSubscriptionInput!) {
        webhookSubscriptionUpdate(id: $id, webhookSubscription: $sub) { userErrors { field message } } }"""
    sub_id = created["webhookSubscription"]["id"]
    blank = gql(update, {"id": sub_id, "sub": {"callbackUrl": "not a url"}})["webhookSubscriptionUpdate"]
    assert blank["userErrors"][0]["message"] == "Address is invalid"
    assert (
        gql(update, {"id": sub_id, "sub": {"callbackUrl": sink.url}})["webhookSubscriptionUpdate"][
            "userErrors"
        ]
        == []
    )

    product = admin.get(f"/shops/{shop}/products")[0]
    admin.patch(f"/shops/{shop}/products/{product['id'].rsplit('/', 1)[-1]}", {"title": "Renamed"})
    delivery = from_shop(sink, shop, "products/update")[0]
    assert signed(delivery)
    headers = delivery.headers
    for name in ("X-Shopify-Event-Id", "X-Shopify-Webhook-Id", "X-Shopify-Triggered-At"):
        assert headers.get(name), name
    assert headers["X-Shopify-API-Version"] == API_VERSION
    body = json.loads(delivery.body)
    assert body["admin_graphql_api_id"] == product["id"] and body["title"] == "Renamed"
    assert [m["admin_graphql_api_id"] for m in body["media"]] == [m["id"] for m in product["media"]]
    assert body["images"][0]["position"] == 1 and body["images"][0]["src"].startswith("http")


def test_the_apps_own_media_changes_fire_products_update(
    gql: AdminGraphQL, admin: SandboxAdmin, shop: str, sink: WebhookSink
) -> None:
    gql(SUBSCRIBE, {"topic": "PRODUCTS_UPDATE", "url": sink.url})
    product = admin.get(f"/shops/{shop}/products")[2]
    media_id = upload_image(gql, solid_png(), "own-change.png", "image/png")
    wait_for_media(gql, media_id, {"READY"})
    gql(FILE_UPDATE, {"files": [{"id": media_id, "referencesToAdd": [product["id"]]}]})
    deliveries = from_shop(sink, shop, "products/update")
    assert len(deliveries) == 1
    media = json.loads(deliveries[0].body)["media"]
    assert media[-1]["admin_graphql_api_id"] == media_id and media[-1]["status"] == "READY"


def test_failing_and_slow_receivers_are_retried_with_the_same_event(
    running: Any, admin: SandboxAdmin, shop: str
) -> None:
    answers = iter([500, 503])
    flaky = WebhookSink(respond=lambda _r: next(answers, 200)).start()
    slow = WebhookSink(delay=0.6).start()
    admin.patch("/settings", {"webhook_timeout": 0.3})
    try:
        gql = AdminGraphQL(running.url, shop, admin.token(shop)["access_token"])
        gql(SUBSCRIBE, {"topic": "PRODUCTS_DELETE", "url": flaky.url})
        gql(SUBSCRIBE, {"topic": "PRODUCTS_DELETE", "url": slow.url})
        product = admin.get(f"/shops/{shop}/products")[0]
        admin.delete(f"/shops/{shop}/products/{product['id'].rsplit('/', 1)[-1]}")
        got = flaky.wait_for(3)
        assert len(got) == 3
        assert len({r.headers["X-Shopify-Event-Id"] for r in got}) == 1, "a retry repeats the same event"
        assert json.loads(got[-1].body) == {"id": int(product["id"].rsplit("/", 1)[-1])}
        assert len(slow.wait_for(2)) >= 2, "a receiver slower than the timeout gets the delivery again"
        log = admin.deliveries(shop, topic="products/delete")
        to_flaky = next(d for d in log if d["url"] == flaky.url)
        assert to_flaky["state"] == "delivered" and to_flaky["attempts"] == 3
    finally:
        admin.patch("/settings", {"webhook_timeout": 2.0})
        flaky.stop()
        slow.stop()


def test_redelivery_repeats_the_event_id(
    gql: AdminGraphQL, admin: SandboxAdmin, shop: str, sink: WebhookSink
) -> None:
    gql(SUBSCRIBE, {"topic": "PRODUCTS_UPDATE", "url": sink.url})
    product = admin.get(f"/shops/{shop}/products")[1]
    admin.post(f"/shops/{shop}/webhooks/trigger", {"topic": "products/update", "product_id": product["id"]})
    first = from_shop(sink, shop, "products/update")[0]
    sent = next(d for d in admin.deliveries(shop) if d["state"] == "delivered")
    admin.post(f"/deliveries/{sent['id']}/redeliver")
    both = from_shop(sink, shop, "products/update", count=2)
    assert [r.headers["X-Shopify-Event-Id"] for r in both] == [first.headers["X-Shopify-Event-Id"]] * 2
    assert both[0].body == both[1].body


def test_uninstall_and_compliance_topics(
    gql: AdminGraphQL, admin: SandboxAdmin, shop: str, sink: WebhookSink
) -> None:
    gql(SUBSCRIBE, {"topic": "APP_UNINSTALLED", "url": sink.url})
    admin.post(f"/shops/{shop}/webhooks/trigger", {"topic": "shop/redact"})
    redact = [r for r in sink.wait_for(1, topic="shop/redact") if r.headers["X-Shopify-Shop-Domain"] == shop]
    assert redact and signed(redact[0]) and json.loads(redact[0].body)["shop_domain"] == shop

    admin.post(f"/shops/{shop}/uninstall")
    uninstalled = from_shop(sink, shop, "app/uninstalled")
    assert uninstalled and json.loads(uninstalled[0].body)["myshopify_domain"] == shop
    assert gql.post("{ shop { name } }").status_code == 401, "uninstalling ends access"
    assert admin.get(f"/shops/{shop}/webhooks") == []


# --------------------------------------------------------------------------------------------- faults


def test_injected_faults_hit_the_api_but_not_the_admin_routes(gql: AdminGraphQL, admin: SandboxAdmin) -> None:
    admin.faults(error_rate=1.0, kinds=["503"])
    try:
        resp = gql.post("{ shop { name } }")
        assert resp.status_code == 503 and resp.json() == {"errors": "Service Unavailable"}
        assert admin.get("/health")["ok"]
        admin.faults(kinds=["reset"])
        with pytest.raises(requests.ConnectionError):
            gql.post("{ shop { name } }")
    finally:
        admin.faults(error_rate=0.0, kinds=["500", "429", "reset", "timeout"])
    assert gql.post("{ shop { name } }").status_code == 200


def test_slow_media_processing_is_configurable(gql: AdminGraphQL, admin: SandboxAdmin) -> None:
    admin.patch("/settings", {"media_processing_delay": 30.0})
    try:
        media_id = upload_image(gql, solid_png(), "slow.png", "image/png")
        time.sleep(0.3)
        assert wait_for_media(gql, media_id, {"READY"}, timeout=0.2)["status"] != "READY"
        admin.run_pending()
        assert wait_for_media(gql, media_id, {"READY"}, timeout=0.5)["status"] == "READY"
    finally:
        admin.patch("/settings", {"media_processing_delay": 0.15})
