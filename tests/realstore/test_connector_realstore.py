"""The connector end to end on a real WooCommerce 7.9 store: browser install, sync, process, publish,
live webhooks, CLI by the store's product ids, and a whole-store rollback to the merchant's original bytes.

The seeded store (``sandbox.real_woocommerce.seed``) holds what the emulator never showed: two
products sharing one attachment, photos only variations show, and an upload over 2560 px.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
import requests
from click.testing import CliRunner
from sandbox.devstack import DevStack
from sandbox.real_woocommerce import RealWooStore, SeededCatalog
from sqlalchemy import func, select

from connector import actions
from connector.cli import main as cli
from connector.models import Image, ImageVersion, Job, Product, Run, Store, WebhookEventRecord
from connector.stores import credentials_of
from tests.conftest import base_env
from tests.realstore.connector_support import (
    RealConnector,
    install_in_browser,
    start_connector,
    stop_connector,
    webhooks_to,
)
from tests.realstore.stores import ContractStore, sha

pytestmark = [pytest.mark.realstore, pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def connector(
    real_store: tuple[RealWooStore, SeededCatalog],
    test_certificate: tuple[Path, Path],
    tmp_path_factory: pytest.TempPathFactory,
    browser: Any,
) -> Iterator[RealConnector]:
    """The connector installed on the real store through a browser, its first sync published."""
    store, catalog = real_store
    stack = DevStack(env=base_env(tmp_path_factory.mktemp("connector"))).start()
    tls, web, log = start_connector(stack, test_certificate)
    try:
        api = ContractStore("real", store.url, dict(store.credentials), deliver=store.run_queue)
        running = RealConnector(stack, tls, store, catalog, api, log)
        running.landing = install_in_browser(running, browser)
        with stack.services.session() as s:
            row = s.scalar(select(Store).where(Store.platform == "woocommerce"))
            assert row is not None, "the install created no store"
            running.store_id = row.id
        running.settle()
        approve_held(running)  # what an operator does on the dashboard: results QA held back go out too
        running.settle()
        yield running
    finally:
        stop_connector(web, tls, log)
        stack.stop()


def approve_held(connector: RealConnector) -> None:
    """Approve every result waiting for review."""
    with connector.stack.services.session() as s:
        held = list(s.scalars(select(Image.id).where(Image.status == "review")))
    services = connector.stack.services
    for image_id in held:
        actions.approve(services, actions.latest_result(services, image_id).id)


def images(connector: RealConnector, product_key: str) -> list[Image]:
    pid = str(connector.catalog.products[product_key])
    with connector.stack.services.session() as s:
        product = s.scalar(select(Product).where(Product.platform_id == pid))
        assert product is not None, f"product {pid} not synced"
        rows = list(s.scalars(select(Image).where(Image.product_id == product.id).order_by(Image.id)))
        s.expunge_all()
        return rows


def status_of(connector: RealConnector, image_id: int) -> str:
    with connector.stack.services.session() as s:
        image = s.get(Image, image_id)
        assert image is not None
        return image.status


def original_blob(connector: RealConnector, image: Image) -> bytes:
    with connector.stack.services.session() as s:
        version = s.get(ImageVersion, image.original_version_id)
        assert version is not None
        digest = version.blob_hash
    return connector.stack.services.blobs.get(digest)


def test_install_through_both_consents_in_a_browser(connector: RealConnector) -> None:
    assert "/stores/" in connector.landing
    with connector.stack.services.session() as s:
        store = s.get(Store, connector.store_id)
        assert store is not None and store.domain == connector.store.url
        creds = credentials_of(connector.stack.services, store)
    assert creds["consumer_key"].startswith("ck_") and creds["app_password"] and creds["app_user"] == "admin"
    # WordPress hands the Application Password over in the redirect's query string: never in the access log
    handed_over = [line for line in connector.access_log.lines if "/install/woocommerce/followup" in line]
    assert handed_over and "password=[redacted]" in handed_over[0]
    secret = creds["app_password"]
    assert not [line for line in connector.access_log.lines if secret in unquote_plus(line)]
    hooks = webhooks_to(connector.api, f"{connector.public_url}/webhooks/woocommerce")
    assert sorted(h["topic"] for h in hooks) == sorted(
        ["product.created", "product.updated", "product.deleted", "product.restored"]
    )
    assert {h["status"] for h in hooks} == {"active"}


def test_a_photo_two_products_share_is_processed_once_and_replaced_in_one(connector: RealConnector) -> None:
    shared = str(connector.catalog.media["car1"])
    owner = next(i for i in images(connector, "car") if i.original_media_id == shared)
    copy = next(i for i in images(connector, "car_copy") if i.original_media_id == shared)
    assert owner.status == "published" and owner.platform_media_id != shared
    assert (copy.status, copy.failure_code, copy.platform_media_id) == ("skipped", "shared_media", shared)
    assert connector.api.shown(connector.catalog.products["car_copy"]) == [int(shared)]  # left as it was
    with connector.stack.services.session() as s:
        results = s.scalar(
            select(func.count(ImageVersion.id)).where(
                ImageVersion.image_id.in_([owner.id, copy.id]), ImageVersion.kind == "result"
            )
        )
    assert results == 1


def test_photos_only_variations_show_are_replaced_through_them(connector: RealConnector) -> None:
    jacket, variations = connector.catalog.products["jacket"], connector.catalog.variations["jacket"]
    rows = {i.original_media_id: i for i in images(connector, "jacket")}
    for option, key in (("Blue", "blue"), ("Green", "anime")):
        row = rows[str(connector.catalog.media[key])]
        assert (row.status, row.position) == ("published", -1), row.failure_reason
        assert connector.api.variation_images(jacket)[variations[option]] == int(row.platform_media_id)
    assert connector.api.variation_images(jacket)[variations["Grey"]] is None  # had none, still has none
    assert len(connector.api.shown(jacket)) == 1  # the gallery gained nothing


def test_an_upload_over_2560_px_is_backed_up_as_the_merchant_uploaded_it(connector: RealConnector) -> None:
    (poster,) = images(connector, "poster")
    assert poster.status == "published"
    assert sha(original_blob(connector, poster)) == sha(connector.catalog.big_upload.read_bytes())
    with connector.stack.services.session() as s:
        original = s.get(ImageVersion, poster.original_version_id)
        assert original is not None and original.mime == "image/jpeg"  # re-uploadable as what it is


def test_the_stores_deliveries_for_our_own_writes_queue_no_work(connector: RealConnector) -> None:
    with connector.stack.services.session() as s:
        jobs_before = s.scalar(select(func.count(Job.id)).where(Job.kind == "process"))
        received = s.scalar(select(func.count(WebhookEventRecord.id)))
    assert received, "the store delivered no webhook for the connector's writes"
    connector.api.wc("PUT", f"products/{connector.catalog.products['dog']}", {"name": "Dog, renamed"})
    connector.settle()
    with connector.stack.services.session() as s:
        assert s.scalar(select(func.count(WebhookEventRecord.id))) > received
        assert s.scalar(select(func.count(Job.id)).where(Job.kind == "process")) == jobs_before


def test_cli_takes_the_stores_product_id_and_refuses_unknown_ones(connector: RealConnector) -> None:
    runner = CliRunner()
    with connector.stack.services.session() as s:
        runs_before = s.scalar(select(func.count(Run.id)))
    unknown = runner.invoke(cli, ["rollback", str(connector.store_id), "--product", "987654"])
    assert unknown.exit_code == 2 and "no product '987654'" in unknown.output
    with connector.stack.services.session() as s:
        assert s.scalar(select(func.count(Run.id))) == runs_before  # no empty run left behind
    dog = str(connector.catalog.products["dog"])
    done = runner.invoke(cli, ["rollback", str(connector.store_id), "--product", dog])
    assert done.exit_code == 0 and ": 1 images queued" in done.output, done.output
    connector.settle()
    (row,) = images(connector, "dog")
    assert row.status == "rolled_back" and row.platform_media_id == str(connector.catalog.media["dog"])


def test_a_result_the_merchant_removes_and_adds_back_is_ours_again(connector: RealConnector) -> None:
    car, media = connector.catalog.products["car"], connector.catalog.media
    (row,) = (i for i in images(connector, "car") if i.original_media_id == str(media["car3"]))
    assert row.status == "published"
    shown, ours = connector.api.shown(car), int(row.platform_media_id)
    connector.api.wc("PUT", f"products/{car}", {"images": [{"id": i} for i in shown if i != ours]})
    connector.settle()
    assert status_of(connector, row.id) == "gone"
    connector.api.wc("PUT", f"products/{car}", {"images": [{"id": i} for i in shown]})
    connector.settle()
    assert status_of(connector, row.id) == "published"  # not queued for good: it is our result


def test_rollback_after_the_original_was_deleted_uploads_the_backup_under_the_merchants_name(
    connector: RealConnector,
) -> None:
    car3 = connector.catalog.media["car3"]
    (row,) = (i for i in images(connector, "car") if i.original_media_id == str(car3))
    assert row.status == "published"
    assert connector.api.wp("DELETE", f"media/{car3}", params={"force": "true"}).status_code == 200
    done = CliRunner().invoke(cli, ["rollback", str(connector.store_id), "--image", str(row.id)])
    assert done.exit_code == 0, done.output
    connector.settle()
    (row,) = (i for i in images(connector, "car") if i.id == row.id)
    assert row.status == "rolled_back" and row.platform_media_id != str(car3)
    media = connector.api.media(row.platform_media_id)
    name = media["media_details"]["file"].rsplit("/", 1)[-1]
    assert re.fullmatch(r"car-3-ic\d+\.jpg", name), name  # not car-3-ic3-ic20.png
    assert media["mime_type"] == "image/jpeg"  # the backup is what the merchant uploaded: a JPEG
    assert sha(requests.get(media["source_url"], timeout=60).content) == sha(original_blob(connector, row))


def test_whole_store_rollback_serves_the_merchants_original_bytes_again(connector: RealConnector) -> None:
    result = CliRunner().invoke(cli, ["rollback", str(connector.store_id)])
    assert result.exit_code == 0, result.output
    connector.settle()
    rows = [i for p in connector.catalog.products for i in images(connector, p)]
    owned = [i for i in rows if i.failure_code != "shared_media"]
    for key, media_id in connector.catalog.media.items():
        row = next(i for i in owned if i.original_media_id == str(media_id))
        assert row.status == "rolled_back", key
        assert row.platform_media_id == str(media_id) or key == "car3", key  # car3's original was deleted
        served = requests.get(row.src, timeout=60).content
        assert sha(served) == sha(original_blob(connector, row)), key
    served_products: dict[str, Any] = {
        key: connector.api.shown(pid) for key, pid in connector.catalog.products.items()
    }
    by_product = {
        p: [
            int(i.platform_media_id)
            for i in sorted(images(connector, p), key=lambda i: i.position)
            if i.position >= 0
        ]
        for p in served_products
    }
    assert served_products == by_product
    assert served_products["poster"] == [connector.catalog.media["big"]]


def test_a_new_product_showing_a_restored_original_is_processed(connector: RealConnector) -> None:
    poster, big = connector.catalog.products["poster"], connector.catalog.media["big"]
    connector.api.wc("DELETE", f"products/{poster}")  # the merchant moves the photo to a new product
    connector.settle()
    new, _ = connector.api.product("Poster, reframed", [big])
    connector.settle()
    with connector.stack.services.session() as s:
        rows = list(s.scalars(select(Image).join(Product).where(Product.platform_id == str(new))))
        assert [r.original_media_id for r in rows] == [str(big)]  # synced with its image
        assert rows[0].status not in ("new", "queued") and rows[0].original_version_id
