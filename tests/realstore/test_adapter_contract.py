"""One adapter contract, run against the WooCommerce emulator and a real WooCommerce 7.9 store.

Where the two differ, the emulator is wrong.  Known, deliberate differences are not asserted here:
the key grant's login page, the Application Password page's script, the User-Agent's WordPress
version, and that a real store delivers webhooks when its scheduler runs (``store.deliver``).
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from adapters.woocommerce import RetryPolicy, WooCommerceApp, WooCommerceClient, WooConfig
from adapters.woocommerce.config import DEFAULT_APP_ID
from connector.errors import AuthError, ConfigurationError, ConnectorError, NotFound, WebhookRejected
from connector.port import MediaState, WebhookTopic
from tests.realstore.stores import ContractStore, big_jpeg, example, png, sha, wait_for
from tests.woo_support import receiver


def app_of(store: ContractStore, **config: Any) -> WooCommerceApp:
    """The adapter as the service configures it, its outbound guard allowing exactly this store."""
    settings = WooConfig(timeout=60, per_page=2, outbound=store.outbound, **config)
    return WooCommerceApp(config=settings, retry=RetryPolicy(attempts=3, base=0.2, cap=1))


def client_of(store: ContractStore, **overrides: str) -> WooCommerceClient:
    return app_of(store).client(store.url, {**store.credentials, **overrides})


def test_lists_every_product_in_pages_with_total_headers(store: ContractStore) -> None:
    ids = [store.product(f"Listed {n}", [])[0] for n in range(3)]
    response = store.admin.get("products", params={"per_page": 2, "include": ",".join(map(str, ids))})
    assert response.headers["X-WP-Total"] == "3" and response.headers["X-WP-TotalPages"] == "2"
    assert len(response.json()) == 2
    listed = [p.product_id for p in client_of(store).iter_products()]  # pages of 2
    assert listed == sorted(listed, key=int) and len(listed) == len(set(listed))
    assert [p for p in listed if int(p) in ids] == [str(i) for i in ids]


def test_modified_after_lists_only_products_changed_since(store: ContractStore) -> None:
    untouched, _ = store.product("Untouched", [])
    touched, _ = store.product("Touched", [])
    time.sleep(2.1)  # WordPress keeps dates to the second; the adapter starts one second early
    since = datetime.now(UTC)
    time.sleep(1.1)
    store.wc("PUT", f"products/{touched}", {"name": "Touched again"})
    changed = [p.product_id for p in client_of(store).iter_products(updated_since=since)]
    assert str(touched) in changed and str(untouched) not in changed
    remote = client_of(store).get_product(str(touched))
    assert (
        remote is not None
        and remote.updated_at is not None
        and remote.updated_at >= since.replace(microsecond=0)
    )


def test_images_and_variations_including_photos_only_a_variation_shows(store: ContractStore) -> None:
    front, back, blue = store.photo("car-1.jpg"), store.photo("car-3.jpg"), store.photo("girl-1.jpg")
    pid, variations = store.product("Jacket", [front, back], {"Blue": blue, "Green": front, "Grey": None})
    remote = client_of(store).get_product(str(pid))
    assert remote is not None
    gallery = [i for i in remote.images if i.position >= 0]
    assert [(i.media_id, i.position) for i in gallery] == [(str(front), 0), (str(back), 1)]
    assert set(remote.variant_ids) == {str(v) for v in variations.values()}
    assert remote.image(str(front)).variant_ids == (str(variations["Green"]),)  # type: ignore[union-attr]
    only = remote.image(str(blue))  # shown by a variation, not in the gallery: still a photo to process
    assert only is not None and only.position == -1 and only.variant_ids == (str(variations["Blue"]),)
    assert sha(client_of(store).fetch_bytes(only.src)) == sha(example("girl-1.jpg").read_bytes())
    assert remote.image(str(front)).alt is None or isinstance(remote.image(str(front)).alt, str)  # type: ignore[union-attr]


def test_upload_is_idempotent_by_file_name_and_served_byte_for_byte(store: ContractStore) -> None:
    pid, _ = store.product("Upload", [store.photo("car-1.jpg")])
    client, data = client_of(store), png()
    name = f"ic-{pid}-0-{secrets.token_hex(3)}.png"
    assert client.find_media(name) is None
    media_id = client.upload_media(str(pid), data, name, "image/png", "Cut-out")
    assert client.upload_media(str(pid), data, name, "image/png", "Cut-out") == media_id
    assert client.find_media(name) == media_id
    status = client.media_status(media_id)
    assert status.state is MediaState.READY and status.src
    assert sha(client.fetch_bytes(status.src)) == sha(data)
    media = store.media(media_id)
    assert (media["mime_type"], media["alt_text"], media["post"]) == ("image/png", "Cut-out", pid)
    assert len(store.shown(pid)) == 1  # uploaded to the library, not shown yet


def test_replace_keeps_slot_alt_and_variation_links_and_rollback_restores_them(store: ContractStore) -> None:
    client = client_of(store)
    front, back, green = store.photo("car-1.jpg"), store.photo("car-3.jpg"), store.photo("anime-girl-1.jpg")
    original_bytes = example("car-1.jpg").read_bytes()
    pid, variations = store.product("Car", [front, back], {"Blue": front, "Green": green})
    before = client.get_product(str(pid))
    assert before is not None
    name = f"ic-{pid}-0-{secrets.token_hex(3)}.png"
    new = client.upload_media(str(pid), png(), name, "image/png", "Studio cut-out")  # the slot's alt
    for _ in range(2):  # every step twice: the second run changes nothing
        client.attach_media(str(pid), new)
        client.move_media(str(pid), new, 0)
        client.link_variants(str(pid), new, (str(variations["Blue"]),))
        client.detach_media(str(pid), str(front))
    assert store.shown(pid) == [int(new), back]
    assert store.variation_images(pid) == {variations["Blue"]: int(new), variations["Green"]: green}
    assert store.media(new)["alt_text"] == "Studio cut-out"
    assert client.media_exists(str(front))  # the original stays in the library
    with pytest.raises(NotFound):
        client.move_media(str(pid), str(front), 0)

    # a photo only a variation shows is replaced through the variation, the gallery left alone
    green_new = client.upload_media(
        str(pid), png(colour=(0, 160, 0)), f"ic-{pid}-g-{secrets.token_hex(3)}.png", "image/png", None
    )
    client.link_variants(str(pid), green_new, (str(variations["Green"]),))
    client.detach_media(str(pid), str(green))
    assert store.shown(pid) == [int(new), back]
    assert store.variation_images(pid)[variations["Green"]] == int(green_new)

    # rollback: the untouched original attachment goes back into its slot
    client.attach_media(str(pid), str(front))
    client.move_media(str(pid), str(front), 0)
    client.link_variants(str(pid), str(front), (str(variations["Blue"]),))
    client.detach_media(str(pid), new)
    client.link_variants(str(pid), str(green), (str(variations["Green"]),))
    after = client.get_product(str(pid))
    assert after is not None
    assert [(i.media_id, i.position, i.variant_ids) for i in after.images] == [
        (i.media_id, i.position, i.variant_ids) for i in before.images
    ]
    assert sha(client.fetch_bytes(after.images[0].src)) == sha(original_bytes)


def test_an_upload_over_2560_px_is_read_from_the_merchants_original(store: ContractStore) -> None:
    data = big_jpeg()
    name = f"poster-{secrets.token_hex(3)}"
    big = store.upload(data, f"{name}.jpg")
    details = store.media(big)["media_details"]
    assert details["original_image"] == f"{name}.jpg" and max(details["width"], details["height"]) == 2560
    pid, _ = store.product("Poster", [big])
    served = store.wc("GET", f"products/{pid}")["images"][0]["src"]
    assert served.endswith(f"{name}-scaled.jpg")  # what the product shows: WordPress's copy
    remote = client_of(store).get_product(str(pid))
    assert remote is not None
    assert sha(client_of(store).fetch_bytes(remote.images[0].src)) == sha(data)  # what the merchant uploaded


def test_webhooks_are_created_once_pinged_and_deliveries_signed(store: ContractStore) -> None:
    app = app_of(store)
    client = app.client(store.url, store.credentials)
    pid, _ = store.product("Hooked", [store.photo("car-1.jpg")])
    with receiver() as hooks:
        url = f"{hooks.url}/hooks/{secrets.token_hex(4)}"
        path = url.removeprefix(hooks.url)
        client.register_webhooks(url)
        mine = [w for w in store.wc("GET", "webhooks", per_page=100) if w["delivery_url"] == url]
        try:
            assert sorted(w["topic"] for w in mine) == sorted(
                ["product.created", "product.updated", "product.deleted", "product.restored"]
            )
            assert {w["status"] for w in mine} == {"active"}
            pings = hooks.wait_for(path, count=4)
            assert {app.verify_webhook(p.headers, p.body, None).topic for p in pings} == {WebhookTopic.PING}
            client.register_webhooks(url)  # idempotent: no second set, and no new ping (same URL)
            assert (
                len([w for w in store.wc("GET", "webhooks", per_page=100) if w["delivery_url"] == url]) == 4
            )
            assert len(hooks.at(path)) == 4

            store.wc("PUT", f"products/{pid}", {"name": "Hooked again"})
            delivery = wait_for(
                lambda: [r for r in hooks.at(path) if "X-Wc-Webhook-Signature" in r.headers], store
            )[0]
            event = app.verify_webhook(delivery.headers, delivery.body, client.webhook_secret())
            assert (event.topic, event.product_id, event.shop) == (
                WebhookTopic.PRODUCT_UPDATED,
                str(pid),
                store.url,
            )
            assert event.payload["name"] == "Hooked again" and [i["id"] for i in event.payload["images"]]
            assert delivery.headers["X-Wc-Webhook-Source"] == store.url + "/"
            with pytest.raises(WebhookRejected):
                app.verify_webhook(delivery.headers, delivery.body, "another-secret")
        finally:
            for hook in mine:
                store.wc("DELETE", f"webhooks/{hook['id']}", force="true")


def test_error_shapes(store: ContractStore) -> None:
    pid, _ = store.product("Errors", [store.photo("car-1.jpg")])
    client = client_of(store)
    assert client.get_product("99999999") is None
    with pytest.raises(AuthError) as bad_key:
        client_of(store, consumer_secret="cs_wrong").check_access()
    assert bad_key.value.hint
    with pytest.raises(AuthError):
        client_of(store, app_password="xxxx xxxx xxxx xxxx xxxx xxxx").upload_media(
            str(pid), png(), f"ic-{secrets.token_hex(3)}.png", "image/png", None
        )
    with pytest.raises(NotFound):
        client.detach_media("99999999", "1")
    with pytest.raises(ConnectorError) as wrong_site:
        app_of(store).client(store.url + "/no-such-site", store.credentials).check_access()
    assert wrong_site.value.hint


def test_the_key_grant_demands_an_https_callback_and_the_adapter_says_so_first(store: ContractStore) -> None:
    callback = "http://127.0.0.1:9/install/woocommerce/callback"
    lenient = app_of(store, allow_http_callback=True)
    page = requests.get(lenient.authorize_url(store.url, "st4te", callback), timeout=60)
    assert "The callback_url needs to be over SSL" in page.text  # what the merchant would see
    with pytest.raises(ConfigurationError) as refused:
        app_of(store).authorize_url(store.url, "st4te", callback)
    assert "PUBLIC_URL=https://" in (refused.value.hint or "")


def test_a_new_application_password_revokes_the_connectors_earlier_ones(store: ContractStore) -> None:
    def create(name: str, app_id: str) -> dict[str, Any]:
        made = store.wp("POST", "users/me/application-passwords", json={"name": name, "app_id": app_id})
        assert made.status_code == 201, made.text[:300]
        body: dict[str, Any] = made.json()
        return body

    tag = secrets.token_hex(3)
    earlier = create(f"Image Connector {tag} 1", DEFAULT_APP_ID)
    other = create(f"Another app {tag}", "1f3e9c3a-0000-4000-8000-000000000001")
    latest = create(f"Image Connector {tag} 2", DEFAULT_APP_ID)
    params = {"state": "st", "site_url": store.url, "user_login": "admin", "password": latest["password"]}
    assert app_of(store).complete_followup(store.url, params, "st")["app_password"] == latest["password"]
    left = {p["uuid"] for p in store.wp("GET", "users/me/application-passwords").json()}
    assert earlier["uuid"] not in left  # what this install replaced is revoked on the store
    assert {latest["uuid"], other["uuid"]} <= left  # the one in use and other applications' stay
