"""The WooCommerce adapter against the WooCommerce sandbox over HTTP on loopback."""

from __future__ import annotations

import hashlib
import io
import itertools
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest
import requests
from PIL import Image
from sandbox.woocommerce import RunningWooSandbox, SiteCredentials, WooSandboxConfig, serve_sandbox

from adapters.woocommerce import RetryPolicy, WooCommerceApp, WooCommerceClient, WooConfig
from connector.errors import AuthError, NotFound, RateLimited, WebhookRejected
from connector.port import MediaState, StoreClient, WebhookTopic
from tests.helpers import LOOPBACK
from tests.woo_support import receiver

pytestmark = pytest.mark.e2e

_names = itertools.count(1)
FAST = RetryPolicy(attempts=4, base=0.01, cap=0.05)


@pytest.fixture(scope="module")
def woo() -> Iterator[RunningWooSandbox]:
    running = serve_sandbox(WooSandboxConfig(webhook_delay=0.2, webhook_timeout=2, allow_http_callback=True))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def app() -> WooCommerceApp:
    config = WooConfig(
        app_name="Image Connector", timeout=10, per_page=5, outbound=LOOPBACK, allow_http_callback=True
    )
    return WooCommerceApp(config=config, retry=FAST)


@pytest.fixture
def shop(woo: RunningWooSandbox) -> SiteCredentials:
    return woo.create_site(f"adapter{next(_names)}", seed=11, size=14, profile="mixed")


def credentials(creds: SiteCredentials) -> dict[str, str]:
    """What the adapter keeps for a site: its REST key and the Application Password."""
    return {
        name: getattr(creds, name) for name in ("consumer_key", "consumer_secret", "app_user", "app_password")
    }


@pytest.fixture
def client(app: WooCommerceApp, shop: SiteCredentials) -> WooCommerceClient:
    return app.client(shop.url, credentials(shop))


def store_state(woo: RunningWooSandbox, creds: SiteCredentials, product_id: str) -> dict[str, Any]:
    return requests.get(f"{woo.url}/__sandbox/sites/{creds.site}/products/{product_id}", timeout=10).json()


def test_client_satisfies_the_port(client: WooCommerceClient) -> None:
    assert isinstance(client, StoreClient) and client.platform == "woocommerce"


def test_lists_every_product_across_pages_with_variant_links(
    woo: RunningWooSandbox, shop: SiteCredentials, client: WooCommerceClient
) -> None:
    products = list(client.iter_products())
    expected = requests.get(f"{woo.url}/__sandbox/sites/{shop.site}/products", timeout=10).json()
    assert [p.product_id for p in products] == [str(p["id"]) for p in expected]  # 14 products, pages of 5
    for remote, seen in zip(products, expected, strict=True):
        assert [i.media_id for i in remote.images] == [str(i) for i in seen["image_ids"]]
        assert [i.position for i in remote.images] == list(range(len(remote.images)))
        assert remote.variant_ids == tuple(str(v["id"]) for v in seen["variations"])
        for variation in seen["variations"]:
            if variation["image_id"]:
                image = remote.image(str(variation["image_id"]))
                assert image is not None and str(variation["id"]) in image.variant_ids
    assert any(p.variant_ids for p in products)
    assert all(p.updated_at is not None and p.updated_at.tzinfo is not None for p in products)


def test_incremental_listing_and_deleted_products(
    woo: RunningWooSandbox, shop: SiteCredentials, client: WooCommerceClient
) -> None:
    products = list(client.iter_products())
    since = datetime.now(UTC)
    target = products[3]
    requests.post(
        f"{woo.url}/__sandbox/sites/{shop.site}/products/{target.product_id}/images/touch", timeout=10
    )
    assert [p.product_id for p in client.iter_products(updated_since=since)] == [target.product_id]
    assert list(client.iter_products(updated_since=since + timedelta(hours=1))) == []
    requests.post(f"{woo.url}/__sandbox/sites/{shop.site}/products/{target.product_id}/trash", timeout=10)
    assert client.get_product(target.product_id) is None
    assert client.get_product("999999") is None


def test_replacement_steps_are_idempotent_and_keep_the_original(
    woo: RunningWooSandbox, shop: SiteCredentials, client: WooCommerceClient
) -> None:
    product = next(p for p in client.iter_products() if p.variant_ids and len(p.images) >= 2)
    original = product.images[0]
    data = client.fetch_bytes(original.src)
    assert (
        hashlib.sha256(data).hexdigest() == store_state(woo, shop, product.product_id)["images"][0]["sha256"]
    )

    filename = f"ic-{product.product_id}-0-k3y.png"
    assert client.find_media(filename) is None
    result = _png()
    media_id = client.upload_media(product.product_id, result, filename, "image/png", "Cut-out")
    assert client.upload_media(product.product_id, result, filename, "image/png", "Cut-out") == media_id
    assert client.find_media(filename) == media_id
    status = client.media_status(media_id)
    assert status.state is MediaState.READY and status.src and status.src.endswith(".png")
    uploads = requests.get(f"{woo.url}/__sandbox/sites/{shop.site}/uploads", timeout=10).json()
    assert [u["filename"] for u in uploads].count(filename) == 1  # exactly one upload

    client.attach_media(product.product_id, media_id)
    client.attach_media(product.product_id, media_id)
    client.move_media(product.product_id, media_id, 0)
    client.move_media(product.product_id, media_id, 0)
    client.link_variants(product.product_id, media_id, product.variant_ids)
    client.link_variants(product.product_id, media_id, product.variant_ids)
    client.detach_media(product.product_id, original.media_id)
    client.detach_media(product.product_id, original.media_id)

    after = client.get_product(product.product_id)
    assert after is not None
    assert [i.media_id for i in after.images] == [media_id, *(i.media_id for i in product.images[1:])]
    assert set(after.images[0].variant_ids) == set(product.variant_ids)
    state = store_state(woo, shop, product.product_id)
    assert state["images"][0]["sha256"] == hashlib.sha256(result).hexdigest()
    assert all(v["image_id"] == int(media_id) for v in state["variations"])
    assert client.media_exists(original.media_id)  # the original stays in the library
    with pytest.raises(NotFound):
        client.move_media(product.product_id, original.media_id, 0)

    # rollback by re-attaching the store-native original
    client.attach_media(product.product_id, original.media_id)
    client.move_media(product.product_id, original.media_id, 0)
    client.link_variants(product.product_id, original.media_id, product.variant_ids)
    client.detach_media(product.product_id, media_id)
    back = client.get_product(product.product_id)
    assert back is not None and [i.media_id for i in back.images] == [i.media_id for i in product.images]
    assert (
        hashlib.sha256(client.fetch_bytes(back.images[0].src)).hexdigest() == hashlib.sha256(data).hexdigest()
    )


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (120, 90), (10, 200, 30, 255)).save(buf, "PNG")
    return buf.getvalue()


def test_missing_media_and_wrong_keys(
    app: WooCommerceApp, shop: SiteCredentials, client: WooCommerceClient
) -> None:
    assert client.media_exists("999999") is False
    with pytest.raises(NotFound):
        client.media_status("999999")
    wrong = app.client(shop.url, {**credentials(shop), "consumer_secret": "cs_wrong"})
    with pytest.raises(AuthError) as caught:
        next(wrong.iter_products())
    assert "Invalid signature" in caught.value.message
    no_password = app.client(
        shop.url, {"consumer_key": shop.consumer_key, "consumer_secret": shop.consumer_secret}
    )
    with pytest.raises(AuthError, match="Application Password"):
        no_password.upload_media("1", _png(), "x.png", "image/png", None)


def test_transient_faults_are_retried_and_throttling_surfaces(
    woo: RunningWooSandbox, shop: SiteCredentials, client: WooCommerceClient
) -> None:
    faults = woo.sandbox.faults
    faults.update(error_rate=0.3, kinds=("500", "reset"), seed=4)
    try:
        assert len(list(client.iter_products())) == 14
        faults.update(error_rate=1.0, kinds=("429",), retry_after=0)
        with pytest.raises(RateLimited):
            client.get_product("10")
    finally:
        faults.update(error_rate=0.0)
    assert faults.injected.get("500", 0) + faults.injected.get("reset", 0) > 0


def test_webhooks_register_idempotently_and_verify(
    woo: RunningWooSandbox, app: WooCommerceApp, shop: SiteCredentials
) -> None:
    saved: list[dict[str, Any]] = []
    client = app.client(shop.url, credentials(shop), on_credentials=lambda c: saved.append(dict(c)))
    with receiver() as hooks:
        url = f"{hooks.url}/webhooks/woocommerce"
        client.register_webhooks(url)
        client.register_webhooks(url)
        listed = woo.sandbox.site(shop.site).webhooks.values()
        assert sorted(h.topic for h in listed) == sorted(
            ["product.created", "product.updated", "product.deleted", "product.restored"]
        )
        secret = saved[-1]["webhook_secret"]
        assert all(h.secret == secret and h.status == "active" for h in listed)

        ping = hooks.at("/webhooks/woocommerce")[0]
        assert app.verify_webhook(ping.headers, ping.body, None).topic is WebhookTopic.PING

        product = next(client.iter_products())
        media = client.upload_media(product.product_id, _png(), "hook-test.png", "image/png", None)
        client.attach_media(product.product_id, media)  # the connector's own change fires product.updated
        requests.post(f"{woo.url}/__sandbox/flush", timeout=10)
        delivery = next(r for r in hooks.at("/webhooks/woocommerce") if "X-Wc-Webhook-Signature" in r.headers)
    assert app.webhook_shop(delivery.headers, delivery.body) == shop.url
    event = app.verify_webhook(delivery.headers, delivery.body, secret)
    assert event.topic is WebhookTopic.PRODUCT_UPDATED and event.product_id == product.product_id
    assert event.shop == shop.url and event.event_id
    assert media in [str(i["id"]) for i in event.payload["images"]]
    with pytest.raises(WebhookRejected):
        app.verify_webhook(delivery.headers, delivery.body + b" ", secret)
    with pytest.raises(WebhookRejected):
        app.verify_webhook(delivery.headers, delivery.body, "other-secret")


def _grant(page_url: str) -> requests.Response:
    page = requests.get(page_url, timeout=10)
    assert page.status_code == 200, page.text
    href = unescape(re.search(r'id="approve" href="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    return requests.get(href, allow_redirects=False, timeout=10)


def test_install_by_key_grant(app: WooCommerceApp, shop: SiteCredentials) -> None:
    with receiver() as connector:
        redirect_uri = f"{connector.url}/install/woocommerce/callback"
        url = app.authorize_url(shop.url + "/", "st4te", redirect_uri)
        assert url.startswith(f"{shop.url}/wc-auth/v1/authorize?")
        done = _grant(url)
        assert done.status_code == 302 and done.headers["Location"].startswith(f"{connector.url}/?success=1")
        (callback,) = connector.at("/install/woocommerce/callback")
    params = callback.query
    result = app.complete_install(params, callback.body, params.get("state_hint"))
    assert result.shop == shop.url and result.scopes == ("read_write",)
    assert set(result.credentials) == {"consumer_key", "consumer_secret", "key_id", "webhook_secret"}
    assert next(app.client(result.shop, result.credentials).iter_products()).product_id
    with pytest.raises(AuthError, match="state mismatch"):
        app.complete_install(params, callback.body, "other-state")
    forged = callback.body.replace(result.credentials["consumer_secret"].encode(), b"cs_" + b"0" * 40)
    with pytest.raises(AuthError, match="do not work"):
        app.complete_install(params, forged, "st4te")
