"""WooCommerce sandbox webhooks and key grant over real HTTP on loopback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
from collections.abc import Iterator
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from sandbox.woocommerce import RunningWooSandbox, SiteCredentials, WooSandboxConfig, serve_sandbox
from woocommerce import API

from tests.woo_support import Receiver, receiver

pytestmark = pytest.mark.integration

_names = itertools.count(1)
SECRET = "hook-secret-Ü/+"


@pytest.fixture(scope="module")
def woo() -> Iterator[RunningWooSandbox]:
    running = serve_sandbox(WooSandboxConfig(webhook_delay=0.2, webhook_timeout=1, allow_http_callback=True))
    yield running
    running.stop()


@pytest.fixture
def hooks() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


@pytest.fixture
def shop(woo: RunningWooSandbox) -> SiteCredentials:
    return woo.create_site(f"hooks{next(_names)}", seed=5, size=6, profile="clean")


def api(creds: SiteCredentials) -> API:
    return API(
        url=creds.url, consumer_key=creds.consumer_key, consumer_secret=creds.consumer_secret, timeout=10
    )


def subscribe(creds: SiteCredentials, url: str, topic: str = "product.updated") -> dict:
    resp = api(creds).post(
        "webhooks", {"name": "connector", "topic": topic, "delivery_url": url, "secret": SECRET}
    )
    assert resp.status_code == 201, resp.json()
    return resp.json()


def some_product(creds: SiteCredentials) -> dict:
    return api(creds).get("products", params={"per_page": 1}).json()[0]


def test_creation_pings_unsigned_and_validates_topic_and_url(shop: SiteCredentials, hooks: Receiver) -> None:
    hook = subscribe(shop, f"{hooks.url}/wc")
    assert hook["status"] == "active" and hook["topic"] == "product.updated" and "secret" not in hook
    (ping,) = hooks.at("/wc")
    assert ping.body == f"webhook_id={hook['id']}".encode()
    assert "X-Wc-Webhook-Signature" not in ping.headers and "X-Wc-Webhook-Source" not in ping.headers
    bad_topic = api(shop).post("webhooks", {"topic": "product.exploded", "delivery_url": f"{hooks.url}/wc"})
    assert bad_topic.json()["code"] == "woocommerce_rest_webhook_invalid_topic"
    bad_url = api(shop).post("webhooks", {"topic": "product.updated", "delivery_url": "ftp://x"})
    assert bad_url.json()["code"] == "woocommerce_rest_webhook_invalid_delivery_url"
    no_force = api(shop).delete(f"webhooks/{hook['id']}")
    assert no_force.status_code == 501


def test_any_save_fires_a_late_signed_delivery_with_the_latest_data(
    woo: RunningWooSandbox, shop: SiteCredentials, hooks: Receiver
) -> None:
    hook = subscribe(shop, f"{hooks.url}/wc")
    product = some_product(shop)
    woo.sandbox.outbox.delay = 1.0  # room for both saves on a busy machine: they must share one delivery
    try:
        api(shop).put(f"products/{product['id']}", {"name": "First name"})
        api(shop).put(f"products/{product['id']}", {"name": "Second näme/slash"})
    finally:
        woo.sandbox.outbox.delay = 0.2
    assert len(hooks.at("/wc")) == 1  # only the ping so far: deliveries come late
    deliveries = hooks.wait_for("/wc", 2)
    delivery = deliveries[1]
    raw = delivery.body
    expected = base64.b64encode(hmac.new(SECRET.encode(), raw, hashlib.sha256).digest()).decode()
    assert delivery.headers["X-Wc-Webhook-Signature"] == expected
    assert delivery.headers["X-Wc-Webhook-Topic"] == "product.updated"
    assert delivery.headers["X-Wc-Webhook-Resource"] == "product"
    assert delivery.headers["X-Wc-Webhook-Event"] == "updated"
    assert delivery.headers["X-Wc-Webhook-Id"] == str(hook["id"])
    assert delivery.headers["X-Wc-Webhook-Source"] == shop.url + "/"
    assert re.fullmatch(r"[0-9a-f]{32}", delivery.headers["X-Wc-Webhook-Delivery-Id"])
    assert b"\\/" in raw and b"\\u00e4" in raw  # PHP's json_encode escapes: verify the raw bytes
    payload = json.loads(raw)
    assert (
        payload["id"] == product["id"] and payload["name"] == "Second näme/slash"
    )  # coalesced, built at send time
    log = requests.get(f"{woo.url}/__sandbox/sites/{shop.site}/deliveries", timeout=10).json()
    assert [(d["state"], d["attempts"], d["coalesced"]) for d in log] == [("delivered", 1, 1)]


def test_own_image_changes_fire_product_updated_and_variations_report_their_parent(
    woo: RunningWooSandbox, shop: SiteCredentials, hooks: Receiver
) -> None:
    woo.sandbox.outbox.delay = 60
    try:
        subscribe(shop, f"{hooks.url}/wc")
        product = some_product(shop)
        api(shop).put(
            f"products/{product['id']}", {"images": [{"id": i["id"]} for i in reversed(product["images"])]}
        )
        created = api(shop).post("products", {"name": "Tee", "type": "variable"}).json()
        variation = api(shop).post(f"products/{created['id']}/variations", {"sku": "TEE-1"}).json()
        api(shop).put(f"products/{created['id']}/variations/{variation['id']}", {"sku": "TEE-2"})
        flushed = requests.post(f"{woo.url}/__sandbox/flush", timeout=10).json()
    finally:
        woo.sandbox.outbox.delay = 0.2
    assert {d["meta"]["resource_id"] for d in flushed} == {product["id"], variation["id"]}
    bodies = [json.loads(r.body) for r in hooks.at("/wc")[1:]]
    as_variation = next(b for b in bodies if b["id"] == variation["id"])
    assert as_variation["type"] == "variation" and as_variation["parent_id"] == created["id"]


def test_no_retries_and_disabled_after_five_consecutive_failures(
    woo: RunningWooSandbox, shop: SiteCredentials, hooks: Receiver
) -> None:
    hooks.statuses["/down"] = [200] + [500] * 10  # the ping succeeds, deliveries fail
    hook = subscribe(shop, f"{hooks.url}/down")
    products = api(shop).get("products", params={"per_page": 6}).json()
    for product in products[:5]:
        api(shop).put(f"products/{product['id']}", {"name": product["name"] + "!"})
    requests.post(f"{woo.url}/__sandbox/flush", timeout=10)
    assert len(hooks.at("/down")) == 1 + 5  # one attempt each, no retries
    assert api(shop).get(f"webhooks/{hook['id']}").json()["status"] == "disabled"
    api(shop).put(f"products/{products[5]['id']}", {"name": "ignored"})
    assert requests.post(f"{woo.url}/__sandbox/flush", timeout=10).json() == []
    state = requests.get(f"{woo.url}/__sandbox/sites/{shop.site}/webhooks", timeout=10).json()
    assert state[0]["failure_count"] == 5 and state[0]["secret"] == SECRET
    # the owner re-activates it: pinged again, failures forgotten
    assert api(shop).put(f"webhooks/{hook['id']}", {"status": "active"}).json()["status"] == "active"


def test_deleted_products_send_only_their_id(
    woo: RunningWooSandbox, shop: SiteCredentials, hooks: Receiver
) -> None:
    subscribe(shop, f"{hooks.url}/gone", topic="product.deleted")
    product = some_product(shop)
    assert api(shop).delete(f"products/{product['id']}").json()["status"] == "trash"
    requests.post(f"{woo.url}/__sandbox/flush", timeout=10)
    assert json.loads(hooks.at("/gone")[1].body) == {"id": product["id"]}
    assert product["id"] not in [p["id"] for p in api(shop).get("products", params={"per_page": 100}).json()]


# ----------------------------------------------------------------------------------- key grant


def grant_url(creds: SiteCredentials, callback: str, return_url: str, **extra: str) -> str:
    query = {
        "app_name": "Image Connector",
        "scope": "read_write",
        "user_id": "state-123",
        "return_url": return_url,
        "callback_url": callback,
        **extra,
    }
    return f"{creds.url}/wc-auth/v1/authorize?{urlencode(query)}"


def approve(page: requests.Response) -> requests.Response:
    href = unescape(re.search(r'id="approve" href="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    return requests.get(href, allow_redirects=False, timeout=10)


def test_key_grant_posts_keys_to_the_callback_then_redirects(shop: SiteCredentials, hooks: Receiver) -> None:
    page = requests.get(grant_url(shop, f"{hooks.url}/keys", f"{hooks.url}/back?x=1"), timeout=10)
    assert page.status_code == 200 and "Image Connector" in page.text
    done = approve(page)
    assert done.status_code == 302
    back = urlsplit(done.headers["Location"])
    assert back.path == "/back" and parse_qs(back.query) == {
        "x": ["1"],
        "success": ["1"],
        "user_id": ["state-123"],
    }
    (posted,) = hooks.at("/keys")
    keys = json.loads(posted.body)
    assert set(keys) == {"key_id", "user_id", "consumer_key", "consumer_secret", "key_permissions"}
    assert keys["user_id"] == "state-123" and keys["key_permissions"] == "read_write"
    granted = API(url=shop.url, consumer_key=keys["consumer_key"], consumer_secret=keys["consumer_secret"])
    assert granted.get("products").ok
    assert approve(page).status_code == 401  # the approval link works once


def test_key_grant_refuses_a_failing_callback_and_deletes_the_key(
    woo: RunningWooSandbox, shop: SiteCredentials, hooks: Receiver
) -> None:
    hooks.statuses["/keys"] = [201]  # anything but exactly 200 fails the grant
    page = requests.get(grant_url(shop, f"{hooks.url}/keys", f"{hooks.url}/back"), timeout=10)
    failed = approve(page)
    assert failed.status_code == 401 and "unable to send the consumer data" in failed.text
    keys = json.loads(hooks.at("/keys")[0].body)
    refused = API(url=shop.url, consumer_key=keys["consumer_key"], consumer_secret=keys["consumer_secret"])
    assert refused.get("products").json()["message"] == "Consumer key is invalid."
    missing = requests.get(
        grant_url(shop, f"{hooks.url}/keys", f"{hooks.url}/back", scope="admin"), timeout=10
    )
    assert missing.status_code == 401 and "Invalid scope admin" in missing.text


def test_key_grant_demands_an_https_callback_on_a_default_store(hooks: Receiver) -> None:
    with serve_sandbox(WooSandboxConfig(webhook_delay=0.2)) as strict:
        creds = strict.create_site("strict", size=5, profile="clean")
        page = requests.get(grant_url(creds, f"{hooks.url}/keys", f"{hooks.url}/back"), timeout=10)
    assert page.status_code == 401 and "The callback_url needs to be over SSL" in page.text
