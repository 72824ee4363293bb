"""The whole connector against the Shopify sandbox (no image model): install through the
connector's link, token refresh and rotation (also by two workers at once), full sync of a
500-product shop by pages and by bulk export, throttling, and incremental catch-up by
``updated_at`` through ``connector resync --incremental``.

Everything runs as in production: the web app on loopback receives the OAuth callback and the
sandbox's webhooks, and real ``connector worker`` subprocesses do the syncing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sandbox.devstack import SHOPIFY_APP_KEY, DevStack
from sqlalchemy import select

from connector import actions
from connector.crypto import decrypt_json
from connector.models import Image, Store
from connector.settings import PROJECT_ROOT
from connector.stores import StoredCredentials
from tests.conftest import base_env
from tests.e2e.shopify_connector_support import (
    UNTHROTTLED,
    connector_mirror,
    consent_callback,
    image_statuses,
    install_through_link,
    job_results,
    num,
    refresh_tokens,
    release_probes,
    run_jobs,
    sandbox_admin,
    set_mode,
    set_throttle,
    settle_images,
    start_probes,
    store_row,
    store_truth,
    synced_at,
    with_query,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TOKENS = "token-shop.myshopify.com"  # 40 products: tokens, refresh, throttling
BIG = "big-shop.myshopify.com"  # 500 products: pages, bulk, incremental
FORGED = "forged-shop.myshopify.com"
ELSEWHERE = "someone-else.myshopify.com"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with DevStack(base_env(tmp_path_factory.mktemp("shopify-connector"))) as running:
        set_throttle(running, UNTHROTTLED)  # only the throttling test turns the bucket on
        yield running


@pytest.fixture(scope="module")
def tokens_store(stack: DevStack) -> int:
    """A paused 40-product shop, installed through the link and mirrored by a worker."""
    stack.shopify.sandbox.create_shop(TOKENS, seed=5, size=40, profile="clean")
    store_id = install_through_link(stack, TOKENS, mode="paused")
    assert stack.run_burst() == 0
    return store_id


@pytest.fixture(scope="module")
def big_store(stack: DevStack) -> int:
    """The 500-product shop, installed paused; the install's sync runs by pages (threshold 2000)."""
    stack.shopify.sandbox.create_shop(BIG, seed=11, size=500, profile="clean")
    store_id = install_through_link(stack, BIG, mode="paused")
    assert stack.run_burst() == 0
    return store_id


def live_access_tokens(stack: DevStack, shop: str) -> list[str]:
    now = time.time()
    tokens = stack.shopify.sandbox.state.tokens.values()
    return [t.value for t in tokens if t.shop == shop and t.kind == "access" and t.alive(now)]


def stored_credentials(stack: DevStack, store_id: int) -> tuple[str, dict[str, object]]:
    """The stores row's credentials column as stored, and decrypted."""
    raw = store_row(stack.services, store_id).credentials_encrypted
    return raw, decrypt_json(stack.services.settings.encryption_key, raw)


def api_log(stack: DevStack, shop: str) -> list[dict[str, Any]]:
    return list(sandbox_admin(stack, "GET", f"/shops/{shop}/api-log"))


# -------------------------------------------------------------------- install and tokens


def test_forged_install_callbacks_are_refused(stack: DevStack) -> None:
    stack.shopify.sandbox.create_shop(FORGED, seed=2, size=5, profile="clean")
    merchant = requests.Session()
    callback = consent_callback(stack, merchant, FORGED)

    stranger = requests.get(callback, timeout=30)  # a genuine callback, but no install of theirs
    assert stranger.status_code == 401, stranger.text
    tampered = merchant.get(with_query(callback, shop=ELSEWHERE), timeout=30)  # HMAC no longer matches
    assert tampered.status_code == 401, tampered.text
    unsigned = requests.Session()
    unsigned_callback = consent_callback(stack, unsigned, FORGED)
    assert unsigned.get(with_query(unsigned_callback, hmac="0" * 64), timeout=30).status_code == 401

    with stack.services.session() as s:
        assert s.scalar(select(Store).where(Store.domain.in_([FORGED, ELSEWHERE]))) is None
    assert stack.services.queue().count == 0


def test_install_keeps_tokens_encrypted_and_a_rejected_token_is_refreshed_and_rotated(
    stack: DevStack, tokens_store: int
) -> None:
    raw, creds = stored_credentials(stack, tokens_store)
    first_refresh = refresh_tokens(stack, TOKENS)[-1].value
    assert creds["access_token"] in live_access_tokens(stack, TOKENS)
    assert creds["refresh_token"] == first_refresh
    assert str(creds["access_token"]) not in raw and first_refresh not in raw
    assert connector_mirror(stack.services, tokens_store) == store_truth(stack, TOKENS)

    expired = sandbox_admin(
        stack, "POST", f"/shops/{TOKENS}/tokens/expire", json={"api_key": SHOPIFY_APP_KEY}
    )
    assert expired["expired"] >= 1
    before = store_row(stack.services, tokens_store).last_synced_at
    run_id = actions.resync(stack.services, tokens_store)
    assert stack.run_burst() == 0

    assert run_jobs(stack.services, run_id) == {"sync": ["done"]}  # work went on after the 401
    after = store_row(stack.services, tokens_store).last_synced_at
    assert before is not None and after is not None and after > before
    issued = refresh_tokens(stack, TOKENS)
    assert issued[-2].value == first_refresh and issued[-2].revoked  # used once, then dead
    raw, rotated = stored_credentials(stack, tokens_store)
    assert rotated["refresh_token"] == issued[-1].value != first_refresh
    assert rotated["access_token"] != creds["access_token"]
    assert rotated["access_token"] in live_access_tokens(stack, TOKENS)
    assert str(rotated["access_token"]) not in raw and str(rotated["refresh_token"]) not in raw


@pytest.mark.parametrize("trigger", ["rejected", "expiring"])
def test_two_workers_holding_the_same_token_refresh_it_once(
    stack: DevStack, tokens_store: int, trigger: str
) -> None:
    if trigger == "expiring":  # the stored token is within the refresh leeway: both refresh ahead of time
        StoredCredentials(stack.services, tokens_store)({"access_token_expires_at": time.time() + 30})
    probes = start_probes(stack, tokens_store)  # both hold the stored token now
    if trigger == "rejected":
        sandbox_admin(stack, "POST", f"/shops/{TOKENS}/tokens/expire", json={"api_key": SHOPIFY_APP_KEY})
    issued = len(refresh_tokens(stack, TOKENS))

    results = release_probes(probes)

    assert all(r["ok"] for r in results), results
    assert len(refresh_tokens(stack, TOKENS)) == issued + 1  # one refresh on the store, not two
    _raw, stored = stored_credentials(stack, tokens_store)
    assert {r["token"] for r in results} == {stored["access_token"]}
    assert stored["refresh_token"] == refresh_tokens(stack, TOKENS)[-1].value


def test_without_coordination_the_second_refresh_presents_a_dead_token(
    stack: DevStack, tokens_store: int
) -> None:
    """The race the refresh lock closes, shown with plain savers (what workers did before)."""
    probes = start_probes(stack, tokens_store, plain=True)
    sandbox_admin(stack, "POST", f"/shops/{TOKENS}/tokens/expire", json={"api_key": SHOPIFY_APP_KEY})

    results = release_probes(probes)

    assert sorted(r["ok"] for r in results) == [False, True], results
    assert next(r for r in results if not r["ok"])["error"] == "AuthError"
    (after,) = release_probes(start_probes(stack, tokens_store, count=1))
    assert after["ok"], after  # the tokens the winner saved still work


def run_burst_sync(stack: DevStack, store_id: int, **env: str) -> dict[str, list[str]]:
    run_id = actions.resync(stack.services, store_id)
    assert stack.run_burst(extra_env=env) == 0
    return run_jobs(stack.services, run_id)


# -------------------------------------------------------------------------- throttling


def test_a_sync_waits_for_the_cost_bucket_instead_of_hammering(stack: DevStack, tokens_store: int) -> None:
    seen = len(api_log(stack, TOKENS))
    set_throttle(stack, 200.0)  # points per second; a page asks for up to ~900 of the 1000
    try:
        sandbox_admin(stack, "PUT", f"/shops/{TOKENS}/throttle", json={"currently_available": 0})
        assert run_burst_sync(stack, tokens_store) == {"sync": ["done"]}
    finally:
        set_throttle(stack, UNTHROTTLED)

    calls = api_log(stack, TOKENS)[seen:]
    pages = [c for c in calls if c["operation"] == "ProductsPage"]
    throttled = [c for c in calls if c["outcome"] == "throttled"]
    # pages are sized from what the first one held, so there are few, but they asked for far more
    # points than the empty bucket held: every one had to wait for the bucket to refill
    assert len(pages) >= 3 and sum(int(p["requested"] or 0) for p in pages) > 1000
    assert len(throttled) <= 1, throttled  # it waited for the bucket; at most its first guess was off
    assert connector_mirror(stack.services, tokens_store) == store_truth(stack, TOKENS)


# -------------------------------------------------------------------------------- sync


def test_a_500_product_shop_is_mirrored_by_pages_then_by_bulk_and_a_quiet_resync_queues_nothing(
    stack: DevStack, big_store: int
) -> None:
    truth = store_truth(stack, BIG)
    assert len(truth) == 500
    assert any(variants for _t, images in truth.values() for *_i, variants in images)
    assert connector_mirror(stack.services, big_store) == truth  # the install's sync, by pages
    assert "BulkOperationRunQuery" not in {c["operation"] for c in api_log(stack, BIG)}

    assert settle_images(stack.services, big_store) == 1545  # as if the pipeline had seen each
    set_mode(stack.services, big_store, "review")  # accepting work again
    first = synced_at(stack.services, big_store)
    run_id = actions.resync(stack.services, big_store)
    assert stack.run_burst(extra_env={"SHOPIFY_BULK_THRESHOLD": "100"}) == 0

    operations = sandbox_admin(stack, "GET", f"/shops/{BIG}/bulk")
    assert [op["status"] for op in operations] == ["COMPLETED", "COMPLETED"]  # products, variant media
    assert run_jobs(stack.services, run_id) == {"sync": ["done"]}  # nothing changed: nothing queued
    assert job_results(stack.services, run_id) == [{"products": 500, "images": 1545, "queued": 0}]
    assert connector_mirror(stack.services, big_store) == truth
    again = synced_at(stack.services, big_store)
    assert all(again[p] > first[p] for p in truth)  # every product was read again
    assert image_statuses(stack.services, big_store) == {"skipped": 1545}


def test_incremental_resync_catches_up_with_only_the_product_the_merchant_changed(
    stack: DevStack, big_store: int, tmp_path: Path
) -> None:
    settle_images(stack.services, big_store)  # (already done when the test above ran)
    set_mode(stack.services, big_store, "paused")  # webhooks are missed while paused
    edited = sorted(store_truth(stack, BIG))[123]
    sandbox_admin(
        stack, "PATCH", f"/shops/{BIG}/products/{num(edited)}", json={"title": "Renamed by merchant"}
    )
    added = sandbox_admin(
        stack, "POST", f"/shops/{BIG}/products/{num(edited)}/media", json={"kind": "on-white", "seed": 7}
    )
    stack.wait_idle(timeout=60)  # the products/update deliveries arrive and are ignored (paused)
    set_mode(stack.services, big_store, "review")
    before = synced_at(stack.services, big_store)

    env = {**os.environ, **stack.env, "PYTHONPATH": str(PROJECT_ROOT)}
    cli = subprocess.run(
        [sys.executable, "-m", "connector", "resync", BIG, "--incremental"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 0, cli.stderr
    run_id = int(cli.stdout.split()[1])  # "run N queued"
    assert stack.run_burst(extra_env={"SHOPIFY_BULK_THRESHOLD": "100"}) == 0

    with stack.services.session() as s:
        new_image = s.scalar(select(Image).where(Image.platform_media_id == added["id"]))
        assert new_image is not None and new_image.status != "new"  # queued and processed
    results = job_results(stack.services, run_id)
    assert {"products": 1, "images": len(store_truth(stack, BIG)[edited][1]), "queued": 1} in results
    assert sorted(run_jobs(stack.services, run_id)) == ["process", "sync"]
    after = synced_at(stack.services, big_store)
    assert [p for p in after if after[p] != before[p]] == [edited]
    assert connector_mirror(stack.services, big_store)[edited] == store_truth(stack, BIG)[edited]
