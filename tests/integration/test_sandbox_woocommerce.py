"""The WooCommerce sandbox over real HTTP: each rule rejects what a real WooCommerce store rejects."""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from PIL import Image
from sandbox.woocommerce import RunningWooSandbox, SiteCredentials, WooSandboxConfig, serve_sandbox
from woocommerce import API
from woocommerce.oauth import OAuth

from tests.woo_support import Receiver, receiver

pytestmark = pytest.mark.integration

_names = itertools.count(1)


@pytest.fixture(scope="module")
def woo() -> Iterator[RunningWooSandbox]:
    running = serve_sandbox(WooSandboxConfig(webhook_delay=0.2, webhook_timeout=2))
    yield running
    running.stop()


@pytest.fixture
def shop(woo: RunningWooSandbox) -> SiteCredentials:
    return woo.create_site(f"shop{next(_names)}", seed=3, size=12, profile="clean")


@pytest.fixture(scope="module")
def outside() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


def api(creds: SiteCredentials, **kw: Any) -> API:
    return API(
        url=creds.url,
        consumer_key=creds.consumer_key,
        consumer_secret=creds.consumer_secret,
        timeout=10,
        **kw,
    )


def app_auth(creds: SiteCredentials) -> tuple[str, str]:
    return creds.app_user, creds.app_password


def jpeg(size: tuple[int, int] = (64, 48), colour: str = "red") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG")
    return buf.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def state(woo: RunningWooSandbox, creds: SiteCredentials, product_id: int) -> dict[str, Any]:
    return requests.get(f"{woo.url}/__sandbox/sites/{creds.site}/products/{product_id}", timeout=10).json()


def assert_error(resp: requests.Response, status: int, code: str) -> dict[str, Any]:
    body = resp.json()
    assert resp.status_code == status, body
    assert body["code"] == code, body
    assert body["data"]["status"] == status
    return body


def first_product(creds: SiteCredentials) -> dict[str, Any]:
    return api(creds).get("products", params={"orderby": "id", "order": "asc", "per_page": 1}).json()[0]


# ----------------------------------------------------------------------------------- authentication


def test_oauth_signed_requests_over_http_are_accepted_with_sha256_and_sha1(shop: SiteCredentials) -> None:
    assert api(shop).get("products").status_code == 200
    url = OAuth(
        f"{shop.api_url}/products", shop.consumer_key, shop.consumer_secret, version="wc/v3"
    ).get_oauth_url()
    assert requests.get(url, timeout=10).status_code == 200
    # the same request with HMAC-SHA1, signed the way WooCommerce checks it
    from sandbox.woocommerce.auth import sign

    params = {
        "oauth_consumer_key": shop.consumer_key,
        "oauth_timestamp": str(int(time.time())),
        "oauth_nonce": "sha1nonce",
        "oauth_signature_method": "HMAC-SHA1",
    }
    params["oauth_signature"] = sign(
        "GET", f"{shop.api_url}/products", params, shop.consumer_secret, "HMAC-SHA1"
    )
    assert requests.get(f"{shop.api_url}/products", params=params, timeout=10).status_code == 200


def test_basic_auth_with_consumer_keys_over_http_is_anonymous(shop: SiteCredentials) -> None:
    resp = requests.get(
        f"{shop.api_url}/products", auth=(shop.consumer_key, shop.consumer_secret), timeout=10
    )
    assert_error(resp, 401, "woocommerce_rest_cannot_view")
    assert_error(requests.get(f"{shop.api_url}/products", timeout=10), 401, "woocommerce_rest_cannot_view")
    resp = requests.put(f"{shop.api_url}/products/1", json={}, timeout=10)
    assert_error(resp, 401, "woocommerce_rest_cannot_edit")


def test_bad_signatures_unknown_keys_replays_and_stale_timestamps_are_refused(shop: SiteCredentials) -> None:
    forged = api(shop)
    forged.consumer_secret = "cs_wrong"
    body = assert_error(forged.get("products"), 401, "woocommerce_rest_authentication_error")
    assert body["message"] == "Invalid signature - provided signature does not match."

    unknown = api(shop)
    unknown.consumer_key = "ck_" + "0" * 40
    assert api(shop).get("products").ok
    assert unknown.get("products").json()["message"] == "Consumer key is invalid."

    url = OAuth(
        f"{shop.api_url}/products", shop.consumer_key, shop.consumer_secret, version="wc/v3"
    ).get_oauth_url()
    assert requests.get(url, timeout=10).ok
    replay = requests.get(url, timeout=10)
    assert_error(replay, 401, "woocommerce_rest_authentication_error")
    assert "nonce has already been used" in replay.json()["message"]

    stale = OAuth(
        f"{shop.api_url}/products",
        shop.consumer_key,
        shop.consumer_secret,
        version="wc/v3",
        oauth_timestamp=int(time.time()) - 3600,
    ).get_oauth_url()
    assert requests.get(stale, timeout=10).json()["message"] == "Invalid timestamp."

    partial = requests.get(
        f"{shop.api_url}/products", params={"oauth_consumer_key": shop.consumer_key}, timeout=10
    )
    assert_error(partial, 401, "woocommerce_rest_authentication_missing_parameter")


def test_a_param_with_a_slash_breaks_the_python_clients_signature_as_on_real_woocommerce(
    shop: SiteCredentials,
) -> None:
    # the client encodes "/" with quote(safe="/"), WooCommerce with rawurlencode: the signatures differ
    assert_error(
        api(shop).get("products", params={"search": "a/b"}), 401, "woocommerce_rest_authentication_error"
    )


def test_signed_url_for_another_host_spelling_is_refused(shop: SiteCredentials) -> None:
    other = api(shop)
    other.url = shop.url.replace("127.0.0.1", "localhost")
    assert_error(other.get("products"), 401, "woocommerce_rest_authentication_error")


def test_read_only_keys_cannot_write(woo: RunningWooSandbox, shop: SiteCredentials) -> None:
    key = woo.sandbox.site(shop.site).create_key(1, "read only", "read")
    ro = API(url=shop.url, consumer_key=key.consumer_key, consumer_secret=key.consumer_secret, timeout=10)
    assert ro.get("products").ok
    body = assert_error(
        ro.put(f"products/{first_product(shop)['id']}", {}), 401, "woocommerce_rest_authentication_error"
    )
    assert body["message"] == "The API key provided does not have write permissions."


def test_application_password_works_for_wc_and_wp_namespaces(shop: SiteCredentials) -> None:
    assert requests.get(f"{shop.api_url}/products", auth=app_auth(shop), timeout=10).ok
    assert requests.get(f"{shop.url}/wp-json/wp/v2/media", auth=app_auth(shop), timeout=10).ok
    wrong = requests.get(
        f"{shop.api_url}/products", auth=(shop.app_user, "aaaa bbbb cccc dddd eeee ffff"), timeout=10
    )
    assert_error(wrong, 401, "incorrect_password")
    # consumer keys do not authenticate WordPress routes
    resp = api(shop, version="wp/v2").post("media", None)
    assert_error(resp, 401, "rest_cannot_create")


def test_unknown_routes_and_sites(woo: RunningWooSandbox, shop: SiteCredentials) -> None:
    assert_error(api(shop).get("nothing-here"), 404, "rest_no_route")
    assert_error(
        requests.get(f"{woo.url}/no-such-site/wp-json/wc/v3/products", timeout=10), 404, "rest_no_route"
    )
    assert_error(api(shop).get("products/999999"), 404, "woocommerce_rest_product_invalid_id")


# ----------------------------------------------------------------------------------- lists


def test_pagination_headers_links_and_limits(shop: SiteCredentials) -> None:
    client = api(shop)
    resp = client.get("products", params={"per_page": 5, "page": 2, "orderby": "id", "order": "asc"})
    assert resp.headers["X-WP-Total"] == "12" and resp.headers["X-WP-TotalPages"] == "3"
    assert 'rel="prev"' in resp.headers["Link"] and 'rel="next"' in resp.headers["Link"]
    ids: list[int] = []
    for page in (1, 2, 3, 4):
        got = client.get(
            "products", params={"per_page": 5, "page": page, "orderby": "id", "order": "asc"}
        ).json()
        ids += [p["id"] for p in got]
    assert len(ids) == 12 and ids == sorted(ids)
    body = assert_error(client.get("products", params={"per_page": 101}), 400, "rest_invalid_param")
    assert body["data"]["params"]["per_page"] == "per_page must be between 1 (inclusive) and 100 (inclusive)"
    assert_error(client.get("products", params={"page": 0}), 400, "rest_invalid_param")
    assert_error(client.get("products", params={"order": "up"}), 400, "rest_invalid_param")
    # validation runs before the permission check, as in WordPress
    assert_error(requests.get(f"{shop.api_url}/products?per_page=101", timeout=10), 400, "rest_invalid_param")


def test_modified_after_is_local_time_unless_dates_are_gmt(
    woo: RunningWooSandbox, shop: SiteCredentials
) -> None:
    client = api(shop)
    target = first_product(shop)
    started = datetime.now(UTC) - timedelta(seconds=2)
    since_utc = started.strftime("%Y-%m-%dT%H:%M:%S")
    since_local = (started + timedelta(minutes=woo.sandbox.config.utc_offset_minutes)).strftime(
        "%Y-%m-%dT%H:%M:%S"
    )
    requests.post(f"{woo.url}/__sandbox/sites/{shop.site}/products/{target['id']}/images/touch", timeout=10)

    def ids(**params: str) -> list[int]:
        return [p["id"] for p in client.get("products", params=params).json()]

    assert ids(modified_after=since_utc, dates_are_gmt="true") == [target["id"]]
    assert ids(modified_after=since_local) == [target["id"]]  # without the flag dates are site-local (UTC+2)
    assert ids(modified_after=since_local, dates_are_gmt="true") == []
    # an explicit zone is converted to site time first, so "Z" plus dates_are_gmt misses by the offset
    assert ids(modified_after=since_utc + "Z", dates_are_gmt="true") == []
    updated = client.get(f"products/{target['id']}").json()
    assert updated["date_modified_gmt"] > target["date_modified_gmt"]
    assert_error(client.get("products", params={"modified_after": "yesterday"}), 400, "rest_invalid_param")
    assert_error(client.get("products", params={"dates_are_gmt": "maybe"}), 400, "rest_invalid_param")


# ----------------------------------------------------------------------------------- images


def test_put_images_reorders_and_keeps_replaced_attachments(
    woo: RunningWooSandbox, shop: SiteCredentials
) -> None:
    client = api(shop)
    product = next(
        p for p in client.get("products", params={"per_page": 100}).json() if len(p["images"]) >= 2
    )
    ids = [i["id"] for i in product["images"]]
    reordered = client.put(f"products/{product['id']}", {"images": [{"id": i} for i in reversed(ids)]}).json()
    assert [i["id"] for i in reordered["images"]] == list(reversed(ids))
    dropped = client.put(f"products/{product['id']}", {"images": [{"id": ids[0]}]}).json()
    assert [i["id"] for i in dropped["images"]] == [ids[0]]
    for gone in ids[1:]:  # replaced attachments stay in the media library
        assert requests.get(f"{shop.url}/wp-json/wp/v2/media/{gone}", timeout=10).ok
    assert state(woo, shop, product["id"])["image_ids"] == [ids[0]]
    bad = client.put(f"products/{product['id']}", {"images": [{"id": ids[0]}, {"id": product["id"]}]})
    assert_error(bad, 400, "woocommerce_product_invalid_image_id")
    assert_error(client.put(f"products/{product['id']}", {"images": "x"}), 400, "rest_invalid_param")


def test_src_is_sideloaded_from_the_store_itself(woo: RunningWooSandbox, shop: SiteCredentials) -> None:
    client = api(shop)
    product = first_product(shop)
    src = product["images"][0]["src"]
    original = requests.get(src, timeout=10).content
    updated = client.put(f"products/{product['id']}", {"images": [{"src": src}]})
    assert updated.status_code == 200, updated.json()
    new = updated.json()["images"][0]
    assert new["id"] != product["images"][0]["id"] and new["name"].endswith(".jpg")
    assert sha(requests.get(new["src"], timeout=10).content) == sha(original)
    uploads = requests.get(f"{woo.url}/__sandbox/sites/{shop.site}/uploads", timeout=10).json()
    assert uploads[-1]["via"] == "sideload" and uploads[-1]["attachment_id"] == new["id"]


def test_src_on_another_loopback_port_is_refused_and_nothing_changes(
    woo: RunningWooSandbox, shop: SiteCredentials, outside: Receiver
) -> None:
    outside.files["/ok.jpg"] = (jpeg(), "image/jpeg")
    product = first_product(shop)
    before = state(woo, shop, product["id"])
    resp = api(shop).put(
        f"products/{product['id']}", {"name": "Renamed", "images": [{"src": f"{outside.url}/ok.jpg"}]}
    )
    body = assert_error(resp, 400, "woocommerce_product_image_upload_error")
    assert (
        body["message"]
        == f"Error getting remote image {outside.url}/ok.jpg. Error: A valid URL was not provided."
    )
    after = state(woo, shop, product["id"])
    assert after == before  # same images, same name, same date_modified
    assert api(shop).get(f"products/{product['id']}").json()["name"] == product["name"]


@pytest.fixture(scope="module")
def open_woo() -> Iterator[RunningWooSandbox]:
    """Stores that may sideload from private addresses (the http_request_host_is_external filter)."""
    running = serve_sandbox(
        WooSandboxConfig(webhook_delay=0.2, allow_private_src=True, big_image_threshold=256)
    )
    yield running
    running.stop()


def test_non_image_or_unreachable_src_fails_the_whole_put(
    open_woo: RunningWooSandbox, outside: Receiver
) -> None:
    shop = open_woo.create_site("sideload", seed=1, size=5, profile="clean")
    outside.files["/page.jpg"] = (b"<!DOCTYPE html><html><body>not an image</body></html>", "image/jpeg")
    outside.files["/good.png.jpg"] = (jpeg(), "image/jpeg")
    product = first_product(shop)
    before = state(open_woo, shop, product["id"])
    images = [{"src": f"{outside.url}/good.png.jpg"}, {"src": f"{outside.url}/page.jpg"}]
    body = assert_error(
        api(shop).put(f"products/{product['id']}", {"images": images}),
        400,
        "woocommerce_product_image_upload_error",
    )
    assert body["message"] == "Invalid image: Sorry, you are not allowed to upload this file type."
    missing = api(shop).put(f"products/{product['id']}", {"images": [{"src": f"{outside.url}/missing.jpg"}]})
    assert assert_error(missing, 400, "woocommerce_product_image_upload_error")["message"].endswith(
        "Error: NOT FOUND"
    )
    no_ext = api(shop).put(f"products/{product['id']}", {"images": [{"src": f"{outside.url}/good"}]})
    assert_error(no_ext, 400, "woocommerce_product_image_upload_error")
    assert state(open_woo, shop, product["id"]) == before
    # the entry sideloaded before the failing one stays in the library, as on WordPress
    uploads = requests.get(f"{open_woo.url}/__sandbox/sites/{shop.site}/uploads", timeout=10).json()
    assert [u.get("error") is None for u in uploads[:2]] == [True, False]
    ok = api(shop).put(f"products/{product['id']}", {"images": [{"src": f"{outside.url}/good.png.jpg"}]})
    assert ok.status_code == 200 and len(ok.json()["images"]) == 1


# ----------------------------------------------------------------------------------- media library


def upload(creds: SiteCredentials, data: bytes, filename: str, **headers: str) -> requests.Response:
    return requests.post(
        f"{creds.url}/wp-json/wp/v2/media",
        data=data,
        headers={
            "Content-Type": "image/jpeg",
            "Content-Disposition": f'attachment; filename="{filename}"',
            **headers,
        },
        auth=app_auth(creds),
        timeout=10,
    )


def test_media_upload_raw_and_multipart_then_attach_by_id(shop: SiteCredentials) -> None:
    data = jpeg(colour="blue")
    resp = upload(shop, data, "result v1.jpg")
    assert resp.status_code == 201, resp.json()
    media = resp.json()
    assert media["source_url"].endswith("/result-v1.jpg") and media["mime_type"] == "image/jpeg"
    assert resp.headers["Location"].endswith(f"/wp/v2/media/{media['id']}")
    assert sha(requests.get(media["source_url"], timeout=10).content) == sha(data)
    again = upload(shop, data, "result v1.jpg").json()
    assert again["source_url"].endswith("/result-v1-1.jpg")
    found = requests.get(f"{shop.url}/wp-json/wp/v2/media", params={"search": "result-v1"}, timeout=10).json()
    assert {m["id"] for m in found} == {media["id"], again["id"]}

    multi = requests.post(
        f"{shop.url}/wp-json/wp/v2/media",
        files={"file": ("multi.png.jpg", data, "image/jpeg")},
        data={"alt_text": "A blue square"},
        auth=app_auth(shop),
        timeout=10,
    )
    assert multi.status_code == 201 and multi.json()["alt_text"] == "A blue square"

    product = first_product(shop)
    attached = api(shop).put(
        f"products/{product['id']}", {"images": [{"id": media["id"]}, *product["images"]]}
    )
    assert attached.json()["images"][0]["id"] == media["id"]


def test_media_upload_refusals(shop: SiteCredentials) -> None:
    url = f"{shop.url}/wp-json/wp/v2/media"
    no_disposition = requests.post(
        url, data=jpeg(), headers={"Content-Type": "image/jpeg"}, auth=app_auth(shop)
    )
    assert_error(no_disposition, 400, "rest_upload_no_content_disposition")
    assert_error(upload(shop, b"<html>hi</html>", "fake.jpg"), 500, "rest_upload_sideload_error")
    assert_error(
        upload(shop, b"<svg xmlns='http://www.w3.org/2000/svg'/>", "logo.svg"),
        500,
        "rest_upload_sideload_error",
    )
    assert_error(upload(shop, jpeg(), "x.jpg", **{"Content-MD5": "0" * 32}), 412, "rest_upload_hash_mismatch")
    anonymous = requests.post(url, data=jpeg(), headers={"Content-Disposition": "attachment; filename=a.jpg"})
    assert_error(anonymous, 401, "rest_cannot_create")
    assert_error(requests.get(f"{url}/999999", timeout=10), 404, "rest_post_invalid_id")


def test_big_uploads_are_served_scaled_and_exif_rotated_ones_rotated(open_woo: RunningWooSandbox) -> None:
    shop = open_woo.create_site("scaling", seed=2, size=5, profile="clean")
    big = jpeg((600, 300))
    media = upload(shop, big, "wide.jpg").json()
    assert media["source_url"].endswith("/wide-scaled.jpg")
    assert media["media_details"]["original_image"] == "wide.jpg"
    assert (media["media_details"]["width"], media["media_details"]["height"]) == (256, 128)
    served = requests.get(media["source_url"], timeout=10).content
    assert sha(served) != sha(big)
    original_url = media["source_url"].replace("wide-scaled.jpg", "wide.jpg")
    assert sha(requests.get(original_url, timeout=10).content) == sha(big)
    png = io.BytesIO()
    Image.new("RGB", (600, 300)).save(png, "PNG")
    assert (
        upload(shop, png.getvalue(), "wide.png").json()["source_url"].endswith("/wide.png")
    )  # PNGs are not scaled


# ----------------------------------------------------------------------------------- variations and batch


def test_variation_image_by_id(shop: SiteCredentials) -> None:
    client = api(shop)
    products = client.get("products", params={"per_page": 100, "type": "variable"}).json()
    product = products[0] if products else None
    if product is None:  # the catalog has no variable product: make one
        product = client.post("products", {"name": "Tee", "type": "variable"}).json()
        client.post(
            f"products/{product['id']}/variations",
            {"sku": "TEE-S", "attributes": [{"name": "Size", "option": "S"}]},
        )
        product = client.get(f"products/{product['id']}").json()
    media = upload(shop, jpeg(colour="green"), "variant.jpg").json()
    vid = product["variations"][0]
    updated = client.put(f"products/{product['id']}/variations/{vid}", {"image": {"id": media["id"]}}).json()
    assert updated["image"]["id"] == media["id"]
    assert (
        client.get(f"products/{product['id']}/variations/{vid}").json()["image"]["src"] == media["source_url"]
    )
    bad = client.put(f"products/{product['id']}/variations/{vid}", {"image": {"id": 0}})
    assert_error(bad, 400, "woocommerce_variation_invalid_image_id")
    assert_error(
        client.get(f"products/{product['id']}/variations/999999"),
        404,
        "woocommerce_rest_product_variation_invalid_id",
    )


def test_batch_limit_and_per_item_errors(shop: SiteCredentials) -> None:
    client = api(shop)
    too_many = client.post("products/batch", {"update": [{"id": i, "name": "x"} for i in range(101)]})
    body = assert_error(too_many, 413, "woocommerce_rest_request_entity_too_large")
    assert body["message"] == "Unable to accept more than 100 items for this request."
    ids = [p["id"] for p in client.get("products", params={"per_page": 2}).json()]
    result = client.post(
        "products/batch",
        {
            "create": [{"name": "New one"}],
            "update": [{"id": ids[0], "name": "Batch renamed"}, {"id": 999999}],
        },
    ).json()
    assert result["create"][0]["name"] == "New one"
    assert result["update"][0]["name"] == "Batch renamed"
    assert result["update"][1]["error"]["code"] == "woocommerce_rest_product_invalid_id"


# ----------------------------------------------------------------------------------- faults


def test_injected_faults_hit_the_api_but_never_the_admin_routes(
    woo: RunningWooSandbox, shop: SiteCredentials
) -> None:
    faults = f"{woo.url}/__sandbox/faults"
    requests.put(faults, json={"error_rate": 1.0, "kinds": ["429"], "retry_after": 3}, timeout=10)
    try:
        resp = api(shop).get("products")
        assert_error(resp, 429, "sandbox_rate_limited")
        assert resp.headers["Retry-After"] == "3"
        assert requests.get(f"{woo.url}/__sandbox/health", timeout=10).ok
    finally:
        requests.put(faults, json={"error_rate": 0.0}, timeout=10)
    assert api(shop).get("products").ok


def test_admin_reports_what_products_show(woo: RunningWooSandbox, shop: SiteCredentials) -> None:
    product = first_product(shop)
    seen = state(woo, shop, product["id"])
    assert [i["id"] for i in seen["images"]] == [i["id"] for i in product["images"]]
    assert [i["position"] for i in seen["images"]] == list(range(len(product["images"])))
    served = requests.get(product["images"][0]["src"], timeout=10).content
    assert seen["images"][0]["sha256"] == sha(served)
    data = base64.b64encode(jpeg(colour="yellow")).decode()
    edited = requests.post(
        f"{woo.url}/__sandbox/sites/{shop.site}/products/{product['id']}/images/replace",
        json={"position": 0, "data_base64": data, "filename": "merchant.jpg"},
        timeout=10,
    ).json()
    assert (
        edited["images"][0]["via"] == "merchant" and edited["images"][0]["id"] != product["images"][0]["id"]
    )
    bad = requests.post(f"{woo.url}/__sandbox/sites", json={"site": "Bad Name"}, timeout=10)
    assert bad.status_code == 400
