"""The Shopify app in a real Chromium, inside the emulated admin: a fresh shop installs it (managed
install, token exchange, no ``?shop=`` link and no password), reviews held results side by side,
approves one (published on the shop, free), finds the next one waiting for a plan, approves the
plan on Shopify's confirmation page, and is charged one usage record per image published after
that — none for held or rejected ones; then rolls a product back to the original bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sandbox.devstack import DevStack
from sqlalchemy import select

from connector.billing_models import BillingUsage
from connector.models import Image, ImageVersion, Product
from tests.conftest import base_env
from tests.e2e.embedded_support import app_in_admin, deploy_app_config, store_id_of, usage_records
from tests.e2e.sandbox_support import num, sandbox_admin

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOP = "embedded-browser.myshopify.com"
APP_BRIDGE = "https://cdn.shopify.com/shopifycloud/app-bridge.js"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    env = base_env(
        tmp_path_factory.mktemp("embedded-browser"), DEFAULT_MODE="review", BILLING_FREE_IMAGES="1"
    )
    with DevStack(env) as running:
        deploy_app_config(running)
        running.shopify.sandbox.create_shop(SHOP, seed=3, size=5, profile="demo")
        yield running


def served_sha(stack: DevStack, product_gid: str) -> list[str]:
    """sha256 of the bytes each image of the product is served with now."""
    view = sandbox_admin(stack, "GET", f"/shops/{SHOP}/products/{num(product_gid)}")
    return [hashlib.sha256(requests.get(m["url"], timeout=30).content).hexdigest() for m in view["media"]]


def card_product(stack: DevStack, image_id: int) -> tuple[str, str | None, str | None]:
    """(product gid, original blob hash, newest result blob hash) of an image."""
    with stack.services.session() as s:
        image = s.get(Image, image_id)
        assert image is not None
        product = s.get(Product, image.product_id)
        original = s.get(ImageVersion, image.original_version_id) if image.original_version_id else None
        result = s.scalar(
            select(ImageVersion)
            .where(ImageVersion.image_id == image_id, ImageVersion.kind == "result")
            .order_by(ImageVersion.id.desc())
        )
        assert product is not None
        return (
            product.platform_id,
            original.blob_hash if original else None,
            result.blob_hash if result else None,
        )


def test_merchant_installs_reviews_subscribes_and_rolls_back(
    stack: DevStack, browser, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context()  # type: ignore[attr-defined]
    # Shopify's CDN is not reachable here: the sandbox's stand-in answers for App Bridge
    bridge = requests.get(f"{stack.shopify.url}/cdn/shopifycloud/app-bridge.js", timeout=30).text
    context.route(APP_BRIDGE, lambda route: route.fulfill(body=bridge, content_type="text/javascript"))
    page = context.new_page()
    page.goto(app_in_admin(stack, SHOP))
    page.get_by_role("button", name="Install").click()
    app = page.frame_locator("#app-iframe")
    app.get_by_role("heading", name="Product photos").wait_for()
    store_id = store_id_of(stack, SHOP)
    assert store_id is not None  # installed by token exchange on the first load

    assert stack.run_burst() == 0  # the install's sync and the pipeline, in review mode
    page.reload()
    review = app.locator("[data-section=review] [data-status=review]")
    review.first.wait_for()
    held = [int(i) for i in review.evaluate_all("cards => cards.map(c => c.dataset.imageId)")]
    assert len(held) >= 3, held
    first, second, rejected = held[:3]
    page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
    card = app.locator(f"[data-image-id='{first}']")
    assert card.get_by_role("img").count() == 2  # original and result side by side

    # approve: published on the shop within the free allowance (no charge)
    card.get_by_role("button", name="Approve").click()
    app.get_by_text("is being published").wait_for()
    assert stack.run_burst() == 0
    product_gid, original_hash, result_hash = card_product(stack, first)
    assert result_hash in served_sha(stack, product_gid)

    # the allowance is used up: the next approved result waits, saying why
    app.locator(f"[data-image-id='{second}']").get_by_role("button", name="Approve").click()
    app.get_by_text("is being published").wait_for()
    assert stack.run_burst() == 0
    page.reload()
    banner = app.locator("[data-section=plan-required]")
    assert "wait for a plan" in banner.inner_text()
    app.locator(f"[data-image-id='{rejected}']").get_by_role("button", name="Reject").click()
    app.get_by_text("keeps its original photo").wait_for()

    # subscribe: Shopify's confirmation page in the whole admin, then back to the app
    banner.get_by_role("button", name="Approve the plan").click()
    page.wait_for_url("**/admin/charges/**")
    assert "test charge" in page.content()
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"**/{SHOP}/admin/apps/**")
    app.get_by_role("heading", name="Product photos").wait_for()
    assert stack.run_burst() == 0  # the waiting result is published now, and charged
    second_product, _, second_result = card_product(stack, second)
    assert second_result in served_sha(stack, second_product)
    records = usage_records(stack, SHOP)
    assert len(records) == 1 and records[0]["amount"] == "0.05"
    with stack.services.session() as s:
        rows = list(s.scalars(select(BillingUsage).where(BillingUsage.store_id == store_id)))
    assert sorted((r.image_id, r.state) for r in rows) == sorted([(first, "free"), (second, "charged")])
    page.reload()
    assert app.locator("[data-usage=charged]").inner_text() == "1"

    # roll the first product back: the shop serves the original bytes again
    app.locator("[data-section=published] [data-product-id]").first.wait_for()
    with stack.services.session() as s:
        pid = s.get(Image, first).product_id  # type: ignore[union-attr]
    app.locator(f"[data-product-id='{pid}']").click()
    app.get_by_text("Rolling back").wait_for()
    assert stack.run_burst() == 0
    assert original_hash in served_sha(stack, product_gid)
    assert result_hash not in served_sha(stack, product_gid)
    page.screenshot(path=str(tmp_path / "after.png"), full_page=True)
    assert len(usage_records(stack, SHOP)) == 1  # held, rejected and rolled-back images charged nothing
    context.close()
