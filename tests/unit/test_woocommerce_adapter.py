"""WooCommerce adapter edge cases with canned HTTP answers: error mapping, retries, webhooks, install."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from adapters.outbound import OutboundPolicy
from adapters.woocommerce import RetryPolicy, WooCommerceApp, WooCommerceClient, WooConfig
from adapters.woocommerce.urls import normalize_shop
from connector.errors import (
    AuthError,
    NotFound,
    PlatformError,
    RateLimited,
    TransientError,
    WebhookRejected,
)
from connector.port import WebhookTopic

pytestmark = pytest.mark.unit

SHOP = "http://store.test/wp"
API = f"{SHOP}/wp-json/wc/v3"
WP = f"{SHOP}/wp-json/wp/v2"
#: the canned store is reached over http (OAuth 1.0a signatures): the operator allows it
CONFIG = WooConfig(timeout=5, outbound=OutboundPolicy.from_hosts("store.test"))
CREDS = {"consumer_key": "ck_1", "consumer_secret": "cs_1", "app_user": "admin", "app_password": "abcd efgh"}


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(sleeps: Sleeps) -> WooCommerceClient:
    retry = RetryPolicy(attempts=3, base=1.0, cap=30.0, sleep=sleeps, rng=lambda: 1.0)
    return WooCommerceClient(SHOP, CREDS, CONFIG, retry)


def wp_error(status: int, code: str, message: str, **headers: str) -> dict[str, Any]:
    return {
        "json": {"code": code, "message": message, "data": {"status": status}},
        "status": status,
        "headers": headers,
    }


@responses.activate
@pytest.mark.parametrize(
    "status,code,error",
    [
        (401, "woocommerce_rest_authentication_error", AuthError),
        (403, "woocommerce_rest_cannot_edit", AuthError),
        (404, "woocommerce_rest_product_invalid_id", NotFound),
        (400, "woocommerce_product_invalid_image_id", PlatformError),
        (413, "woocommerce_rest_request_entity_too_large", PlatformError),
    ],
)
def test_permanent_answers_map_to_errors_without_retries(
    client: WooCommerceClient, sleeps: Sleeps, status: int, code: str, error: type[Exception]
) -> None:
    responses.get(f"{API}/products/5", **wp_error(status, code, "Nope, says WooCommerce."))
    with pytest.raises(error) as caught:
        client._read("5")
    assert "Nope, says WooCommerce." in str(caught.value) and code in str(caught.value)
    assert getattr(caught.value, "status", None) == status
    assert len(responses.calls) == 1 and sleeps == []


@responses.activate
def test_transient_answers_are_retried_with_backoff_then_succeed(
    client: WooCommerceClient, sleeps: Sleeps
) -> None:
    responses.get(f"{API}/products/5", **wp_error(503, "", "busy"))
    responses.get(f"{API}/products/5", body=requests.ConnectionError("reset by peer"))
    responses.get(f"{API}/products/5", json={"id": 5, "name": "Mug", "images": [], "status": "publish"})
    product = client.get_product("5")
    assert product is not None and product.title == "Mug"
    assert sleeps == [1.0, 2.0]  # exponential, jitter pinned


@responses.activate
def test_rate_limits_honour_retry_after_and_give_up_after_the_attempts(
    client: WooCommerceClient, sleeps: Sleeps
) -> None:
    for _ in range(3):
        responses.get(f"{API}/products/5", **wp_error(429, "too_many", "slow down", **{"Retry-After": "7"}))
    with pytest.raises(RateLimited) as caught:
        client._read("5")
    assert caught.value.retry_after == 7.0 and sleeps == [7.0, 7.0]


@responses.activate
def test_timeouts_are_transient(client: WooCommerceClient) -> None:
    for _ in range(3):
        responses.get(f"{API}/products/5", body=requests.ReadTimeout("slow"))
    with pytest.raises(TransientError, match="timed out"):
        client._read("5")


@responses.activate
def test_media_order_is_the_gallery_and_none_for_a_gone_or_trashed_product(client: WooCommerceClient) -> None:
    images = [
        {"id": 11, "src": "https://shop.example/a.jpg"},
        {"id": 12, "src": "https://shop.example/b.jpg"},
    ]
    responses.get(f"{API}/products/5", json={"id": 5, "status": "publish", "images": images})
    responses.get(f"{API}/products/6", json={"id": 6, "status": "trash", "images": images})
    responses.get(f"{API}/products/7", **wp_error(404, "woocommerce_rest_product_invalid_id", "no product"))
    assert client.media_order("5") == ["11", "12"]
    assert client.media_order("6") is None and client.media_order("7") is None


@responses.activate
def test_non_json_success_is_a_platform_error(client: WooCommerceClient) -> None:
    responses.get(f"{API}/products/5", body="<html>maintenance</html>", content_type="text/html")
    with pytest.raises(PlatformError, match="not JSON"):
        client._read("5")


@responses.activate
def test_refused_upload_type_is_permanent_despite_http_500(client: WooCommerceClient, sleeps: Sleeps) -> None:
    responses.get(f"{WP}/media", json=[])
    responses.post(
        f"{WP}/media",
        **wp_error(500, "rest_upload_sideload_error", "Sorry, you are not allowed to upload this file type."),
    )
    with pytest.raises(PlatformError, match="not allowed to upload"):
        client.upload_media("5", b"<svg/>", "logo.svg", "image/svg+xml", None)
    assert sleeps == []


@responses.activate
def test_an_upload_whose_answer_was_lost_is_found_not_repeated(client: WooCommerceClient) -> None:
    responses.get(f"{WP}/media", json=[])  # before the upload: nothing under that name
    responses.post(f"{WP}/media", body=requests.ConnectionError("reset after sending"))
    responses.get(
        f"{WP}/media",
        json=[
            {"id": 70, "media_details": {"file": "2024/05/ic-5-k3y-1.png"}, "source_url": "x"},
            {"id": 66, "media_details": {"file": "2024/05/ic-5-k3y.png"}, "source_url": "x"},
        ],
    )
    assert client.upload_media("5", b"png", "ic-5-k3y.png", "image/png", "alt") == "66"
    posts = [c for c in responses.calls if c.request.method == "POST"]
    assert len(posts) == 1
    sent = posts[0].request
    assert sent.headers["Content-Disposition"] == 'attachment; filename="ic-5-k3y.png"'
    assert sent.headers["Authorization"].startswith("Basic ")
    assert parse_qs(urlsplit(str(sent.url)).query) == {"alt_text": ["alt"], "post": ["5"]}


@responses.activate
def test_wc_requests_are_oauth_signed_over_http(client: WooCommerceClient) -> None:
    responses.get(f"{API}/products/5", json={"id": 5, "images": [{"id": 3, "src": "u"}], "status": "publish"})
    responses.put(f"{API}/products/5", json={"id": 5})
    client.attach_media("5", "9")
    put = responses.calls[1].request
    query = parse_qs(urlsplit(str(put.url)).query)
    assert query["oauth_signature_method"] == ["HMAC-SHA256"] and "Authorization" not in put.headers
    assert json.loads(put.body or b"") == {"images": [{"id": 3}, {"id": 9}]}


# ----------------------------------------------------------------------------------- webhooks


def signed(body: bytes, secret: str, **extra: str) -> dict[str, str]:
    return {
        "X-WC-Webhook-Signature": base64.b64encode(
            hmac.new(secret.encode(), body, hashlib.sha256).digest()
        ).decode(),
        "X-WC-Webhook-Source": "http://Store.test/wp/",
        "X-WC-Webhook-Topic": "product.updated",
        "X-WC-Webhook-ID": "4",
        "X-WC-Webhook-Delivery-ID": "d" * 32,
        **extra,
    }


def test_verified_delivery_of_a_variation_names_its_parent() -> None:
    app = WooCommerceApp(config=CONFIG)
    body = json.dumps(
        {"id": 31, "type": "variation", "parent_id": 30, "date_modified_gmt": "2024-05-01T10:00:00"}
    )
    headers = {
        k.lower(): v for k, v in signed(body.encode(), "s3cret").items()
    }  # header case does not matter
    assert app.webhook_shop(headers, body.encode()) == SHOP
    event = app.verify_webhook(headers, body.encode(), "s3cret")
    assert (event.topic, event.product_id, event.shop) == (WebhookTopic.PRODUCT_UPDATED, "30", SHOP)
    assert event.event_id == f"{'d' * 32}:4:31:2024-05-01T10:00:00"


def test_bad_missing_or_unknown_signatures_are_rejected() -> None:
    app = WooCommerceApp(config=CONFIG)
    body = b'{"id": 1}'
    with pytest.raises(WebhookRejected, match="does not match"):
        app.verify_webhook(signed(body, "other"), body, "s3cret")
    with pytest.raises(WebhookRejected, match="no X-WC-Webhook-Signature"):
        app.verify_webhook({"X-WC-Webhook-Topic": "product.updated"}, body, "s3cret")
    with pytest.raises(WebhookRejected, match="no webhook secret"):
        app.verify_webhook(signed(body, "s3cret"), body, None)


def test_the_unsigned_ping_is_a_ping_and_topics_map() -> None:
    app = WooCommerceApp(config=CONFIG)
    assert app.verify_webhook({}, b"webhook_id=12", None).topic is WebhookTopic.PING
    body = b'{"id": 1}'
    deleted = app.verify_webhook(signed(body, "k", **{"X-WC-Webhook-Topic": "product.deleted"}), body, "k")
    assert deleted.topic is WebhookTopic.PRODUCT_DELETED and deleted.product_id == "1"
    other = app.verify_webhook(signed(body, "k", **{"X-WC-Webhook-Topic": "order.created"}), body, "k")
    assert other.topic is WebhookTopic.OTHER


# ----------------------------------------------------------------------------------- install


def test_authorize_url_asks_for_read_write_and_carries_the_state() -> None:
    app = WooCommerceApp(app_name="Image Connector")
    url = app.authorize_url("Store.test/wp/", "abc", "https://connector.test/install/woocommerce/callback")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://store.test/wp/wc-auth/v1/authorize"
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert q["scope"] == "read_write" and q["user_id"] == "abc" and q["app_name"] == "Image Connector"
    assert q["return_url"] == "https://connector.test/"
    callback = parse_qs(urlsplit(q["callback_url"]).query)
    assert callback == {"shop": ["https://store.test/wp"], "state_hint": ["abc"]}


@pytest.mark.parametrize(
    "body,state,message",
    [
        (b"", "s", "no WooCommerce keys"),
        (b'{"consumer_key": "ck"}', "s", "no WooCommerce keys"),
        (
            b'{"key_id":1,"user_id":"x","consumer_key":"ck","consumer_secret":"cs","key_permissions":"read_write"}',
            "s",
            "state mismatch",
        ),
        (
            b'{"key_id":1,"user_id":"s","consumer_key":"ck","consumer_secret":"cs","key_permissions":"read"}',
            "s",
            "needs read_write",
        ),
    ],
)
def test_complete_install_refuses_forged_or_weak_grants(body: bytes, state: str, message: str) -> None:
    with pytest.raises(AuthError, match=message):
        WooCommerceApp(config=CONFIG).complete_install({"shop": SHOP}, body, state)


def test_shop_urls_are_normalised() -> None:
    assert normalize_shop("Shop.Example/") == "https://shop.example"
    assert normalize_shop("http://127.0.0.1:8080/site//") == "http://127.0.0.1:8080/site"
    with pytest.raises(AuthError):
        normalize_shop("ftp://x")
