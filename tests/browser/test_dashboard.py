"""The dashboard in a real browser: review queue, approve, roll back, history, failures with reasons."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox.common.serve import Served, serve
from sandbox.fake_platform import FakeApp
from sqlalchemy import select

from connector.models import Image, ImageStatus, ImageVersion
from connector.publish import publish_version
from connector.services import Services, set_services
from connector.stores import save_install
from connector.sync import sync_store
from connector.web import create_app
from tests.conftest import make_services
from tests.helpers import approved_result, drain, png

pytestmark = pytest.mark.browser


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Services, Served, FakeApp]]:
    services = make_services(tmp_path)
    previous = set_services(services)
    app = services.platforms["fake"]
    assert isinstance(app, FakeApp)
    shop = app.store("browser.fake")
    shop.add_product("mug", [png((200, 10, 10)), png((10, 200, 10))], variants=1)
    shop.add_product("lamp", [png((10, 10, 200))])
    store_id = save_install(services, "fake", "browser.fake", {"token": "tok-browser.fake"})
    sync_store(services, store_id)
    with services.session() as s:
        images = list(s.scalars(select(Image).order_by(Image.id)))
    published, review, failed = images
    assert (
        publish_version(services, approved_result(services, published.id, png((255, 255, 255)))).state
        == "done"
    )
    review_version = approved_result(services, review.id, png((250, 250, 250)))
    with services.session() as s:
        s.get(ImageVersion, review_version).state = "review"  # type: ignore[union-attr]
        s.get(Image, review.id).status = ImageStatus.REVIEW.value  # type: ignore[union-attr]
        bad = s.get(Image, failed.id)
        assert bad is not None
        bad.status, bad.failure_code = ImageStatus.FAILED.value, "truncated"
        bad.failure_reason = "the file is truncated (re-upload the photo)"
    server = serve(create_app(services))
    yield services, server, app
    server.stop()
    set_services(previous)


def test_review_approve_rollback_and_history(site, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    services, server, _app = site
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(server.url + "/")
    page.click("text=browser.fake")
    assert page.locator("[data-status=review]").count() == 1
    assert page.locator("[data-status=published]").count() == 1
    assert "the file is truncated" in page.locator("[data-status=failed] .reason").inner_text()
    page.screenshot(path=str(tmp_path / "store.png"), full_page=True)

    page.locator("[data-status=review] [data-action=approve]").click()
    assert "approved, publication queued" in page.locator(".flash").inner_text()
    drain(services)
    page.reload()
    assert page.locator("[data-status=published]").count() == 2

    page.locator("[data-status=published] [data-action=rollback]").first.click()
    assert "rollback queued" in page.locator(".flash").inner_text()
    drain(services)
    page.goto(server.url + "/")
    page.click("text=browser.fake")
    assert page.locator("[data-status=rolled_back]").count() == 1

    page.locator("[data-status=rolled_back] a").first.click()
    kinds = page.locator("#history tr[data-kind]").evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert kinds == ["original", "result", "rollback"]
    assert page.locator("text=detach: done").count() >= 1
    page.screenshot(path=str(tmp_path / "image.png"), full_page=True)


def test_forms_need_the_csrf_token(site) -> None:  # type: ignore[no-untyped-def]
    import requests

    _services, server, _app = site
    answer = requests.post(server.url + "/stores/1/rollback", data={}, timeout=10)
    assert answer.status_code == 400
