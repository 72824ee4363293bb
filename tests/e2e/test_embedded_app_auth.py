"""The embedded app over loopback without a browser: a fresh shop installs from the emulated admin by
token exchange (no ``?shop=`` link), and every embedded request is authenticated by its session token —
forged, expired and other-shop tokens get 401 and change nothing; a valid one acts."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator

import pytest
import requests
from sandbox.devstack import DevStack
from sqlalchemy import select

from connector.crypto import decrypt_json
from connector.imaging import preset_settings
from connector.models import Image, ImageStatus, ImageVersion, Run, Store
from tests.conftest import base_env
from tests.e2e.embedded_support import (
    app_in_admin,
    deploy_app_config,
    launch_params,
    session_token,
    snapshot,
    store_id_of,
)
from tests.helpers import approved_result, png

pytestmark = [pytest.mark.e2e]

SHOP = "embedded-auth.myshopify.com"
OTHER = "embedded-other.myshopify.com"


def install_from_admin(stack: DevStack, shop: str) -> requests.Response:
    """The merchant opens the app in their admin, installs it, and the admin loads it: the app's answer."""
    admin = requests.Session()
    page = admin.get(app_in_admin(stack, shop), timeout=30)
    assert "Install" in page.text and "write_files" in page.text
    installed = admin.post(app_in_admin(stack, shop) + "/install", timeout=30)
    assert installed.status_code == 200, installed.text[:300]
    src = re.search(r'<iframe[^>]* src="([^"]+)"', installed.text)
    assert src is not None, installed.text[:500]
    return requests.get(html.unescape(src.group(1)), timeout=60)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    env = base_env(tmp_path_factory.mktemp("embedded-auth"), DEFAULT_MODE="review")
    with DevStack(env) as running:
        deploy_app_config(running)
        running.shopify.sandbox.create_shop(SHOP, seed=2, size=5, profile="clean")
        yield running


@pytest.fixture(scope="module")
def held(stack: DevStack) -> int:
    """SHOP installed from its admin, mirrored, with one result held for review; the image id."""
    answer = install_from_admin(stack, SHOP)
    assert answer.status_code == 200, answer.text[:300]
    assert '<meta name="shopify-api-key" content="sandbox-app-key">' in answer.text
    assert "https://cdn.shopify.com/shopifycloud/app-bridge.js" in answer.text
    assert "frame-ancestors" in answer.headers["Content-Security-Policy"]
    store_id = store_id_of(stack, SHOP)
    assert store_id is not None
    with stack.services.session() as s:
        store = s.get(Store, store_id)
        assert store is not None
        credentials = decrypt_json(stack.services.settings.encryption_key, store.credentials_encrypted)
        store.mode = "paused"  # mirror only: these tests are about who may act, not about the pipeline
    assert credentials["refresh_token"] and credentials["access_token_expires_at"]  # expiring offline token
    assert stack.run_burst() == 0
    with stack.services.session() as s:
        image_id = s.scalars(select(Image.id).where(Image.store_id == store_id).order_by(Image.id)).first()
    assert image_id is not None
    version = approved_result(stack.services, image_id, png((250, 250, 250)))
    with stack.services.session() as s:
        s.get(ImageVersion, version).state = "review"  # type: ignore[union-attr]
        s.get(Image, image_id).status = ImageStatus.REVIEW.value  # type: ignore[union-attr]
    return image_id


def test_fresh_shop_installs_by_token_exchange_with_the_configured_webhooks(
    stack: DevStack, held: int
) -> None:
    subs = stack.shopify.sandbox.state.shop(SHOP).subscriptions.values()  # type: ignore[union-attr]
    assert {s.topic for s in subs} == {
        "PRODUCTS_CREATE",
        "PRODUCTS_UPDATE",
        "PRODUCTS_DELETE",
        "APP_UNINSTALLED",
    }
    assert {s.callback_url for s in subs} == {f"{stack.web.url}/webhooks/shopify"}
    grants = [
        t for t in stack.shopify.sandbox.state.tokens.values() if t.shop == SHOP and t.kind == "refresh"
    ]
    assert len(grants) == 1  # one token exchange on the first load


def _approve(stack: DevStack, image_id: int, token: str) -> requests.Response:
    return requests.post(
        f"{stack.web.url}/embedded/shopify/api/images/{image_id}/approve",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def test_forged_expired_and_other_shop_tokens_get_401_and_change_nothing(stack: DevStack, held: int) -> None:
    # another shop with the app, installed through the authorization-code fallback
    stack.install_shopify(OTHER, seed=4, size=5, profile="clean", mode="paused")
    before = snapshot(stack)
    bad = {
        "forged": session_token(stack, SHOP, secret="not-the-app-secret"),
        "expired": session_token(stack, SHOP, ttl=-120),
        "not yet valid": session_token(stack, SHOP, nbf=int(time.time()) + 600),
        "other audience": session_token(stack, SHOP, aud="another-app"),
        "other shop": session_token(stack, OTHER),
        "issuer elsewhere": session_token(stack, SHOP, iss=f"https://{OTHER}/admin"),
    }
    for what, token in bad.items():
        answer = _approve(stack, held, token)
        assert answer.status_code == 401, (what, answer.text)
        assert answer.json()["hint"], what
    launch = requests.get(
        f"{stack.web.url}/embedded/shopify", params=launch_params(stack, SHOP, bad["other shop"]), timeout=30
    )
    assert launch.status_code == 401
    for path in ("/api/view", "/api/settings", "/api/billing/subscribe", "/api/products/1/rollback"):
        method = requests.get if path.endswith("view") else requests.post
        assert method(f"{stack.web.url}/embedded/shopify{path}", timeout=30).status_code == 401, path
    assert snapshot(stack) == before

    answer = _approve(stack, held, session_token(stack, SHOP))  # the same request, properly signed
    assert answer.status_code == 200, answer.text
    assert snapshot(stack) != before


def _api(stack: DevStack, path: str, body: dict[str, str] | None = None) -> requests.Response:
    return requests.post(
        f"{stack.web.url}/embedded/shopify/api{path}",
        json=body,
        headers={"Authorization": f"Bearer {session_token(stack, SHOP)}"},
        timeout=30,
    )


def test_settings_are_checked_before_they_are_saved(stack: DevStack, held: int) -> None:
    before = snapshot(stack)
    for wrong in ({"mode": "always"}, {"preset": "nope"}, {"model": "../../secrets"}, {"strictness": "max"}):
        body = {"mode": "review", "preset": "marketplace", "model": "u2netp", "strictness": "strict", **wrong}
        answer = _api(stack, "/settings", body)
        assert answer.status_code == 400 and answer.json()["hint"], wrong
    assert snapshot(stack) == before
    saved = _api(
        stack,
        "/settings",
        {"mode": "review", "preset": "marketplace", "model": "u2netp", "strictness": "strict"},
    )
    assert saved.status_code == 200, saved.text
    with stack.services.session() as s:
        store = s.scalar(select(Store).where(Store.domain == SHOP))
        assert store is not None
        assert (store.mode, store.preset, store.settings["qa_strictness"]) == (
            "review",
            "marketplace",
            "strict",
        )
        halo = store.settings["pipeline"]["thresholds"]["halo"]
    standard = preset_settings("marketplace").thresholds.halo
    assert halo[0] < standard[0] and halo[1] == standard[1]  # strict: passes less, the line to "fails" stays


def test_the_page_content_and_other_actions_answer_for_the_own_store_only(stack: DevStack, held: int) -> None:
    with stack.services.session() as s:
        for store in s.scalars(select(Store)):
            store.mode = "paused"  # mirror the other shop (its install's sync), process nothing
    assert stack.run_burst() == 0
    view = requests.get(
        f"{stack.web.url}/embedded/shopify/api/view",
        headers={"Authorization": f"Bearer {session_token(stack, SHOP)}"},
        timeout=30,
    )
    assert view.status_code == 200 and 'data-section="usage"' in view.text
    assert _api(stack, f"/images/{held}/frobnicate").status_code == 404
    assert _api(stack, f"/images/{held}/redo").status_code == 200
    with stack.services.session() as s:
        row = s.execute(
            select(Image.id, Image.product_id)
            .join(Store, Store.id == Image.store_id)
            .where(Store.domain == OTHER)
        ).first()
    assert row is not None
    other, other_product = row
    with stack.services.session() as s:
        runs = {
            domain: run_id
            for domain, run_id in s.execute(select(Store.domain, Run.id).join(Run, Run.store_id == Store.id))
        }
    assert (
        _api(stack, f"/runs/{runs[SHOP]}/rollback").json()["message"] == "Rolling back 0 image(s) of the run."
    )
    before = snapshot(stack)
    paths = [f"/images/{other}/reject", f"/images/{other}/rollback", f"/images/{other}/redo"]
    for path in [*paths, f"/runs/{runs[OTHER]}/rollback", f"/products/{other_product}/rollback"]:
        assert _api(stack, path).status_code == 401, path  # SHOP's token, OTHER's image
    assert snapshot(stack) == before
