"""The Shopify sandbox's embedded-app surface: app configuration from shopify.app.toml, the admin's
install page and launch, the token-exchange grant, and the Billing API with its confirmation page
and usage records."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sandbox.shopify import AppConfig, RunningSandbox, fast_config, sandbox_of, start
from sandbox.shopify.client import AdminGraphQL, SandboxAdmin
from sandbox.shopify.session_tokens import mint

from adapters.shopify import documents as docs
from adapters.shopify.managed_install import GRANT_TYPE, ID_TOKEN, OFFLINE_TOKEN
from connector.settings import PROJECT_ROOT
from tests.integration.shopify_sandbox_support import shop_fixtures

pytestmark = pytest.mark.integration

KEY, SECRET = "embedded-key", "embedded-secret-long-enough-for-hs256-0123"


@pytest.fixture(scope="module")
def running() -> Iterator[RunningSandbox]:
    with start(fast_config(apps=(AppConfig(KEY, SECRET),))) as sandbox:
        yield sandbox


admin, shop, gql = shop_fixtures("emb", seed=1, size=5, profile="clean")


def _deploy(running: RunningSandbox, **extra: str) -> requests.Response:
    body = {"toml": (PROJECT_ROOT / "shopify.app.toml").read_text(), "client_id": KEY, **extra}
    return requests.post(f"{running.url}/__sandbox/apps/config", json=body, timeout=30)


def _exchange(running: RunningSandbox, shop: str, token: str) -> requests.Response:
    form = {
        "client_id": KEY,
        "client_secret": SECRET,
        "grant_type": GRANT_TYPE,
        "subject_token": token,
        "subject_token_type": ID_TOKEN,
        "requested_token_type": OFFLINE_TOKEN,
        "expiring": "1",
    }
    return requests.post(f"{running.url}/{shop}/admin/oauth/access_token", data=form, timeout=30)


def test_managed_install_and_token_exchange(running: RunningSandbox, admin: SandboxAdmin, shop: str) -> None:
    assert (
        requests.post(f"{running.url}/__sandbox/apps/config", json={"toml": "x ="}, timeout=30).status_code
        == 400
    )
    assert _deploy(running, dev_url="http://127.0.0.1:9/app").status_code == 201
    page = requests.get(f"{running.url}/{shop}/admin/apps/{KEY}", timeout=30)
    assert "Install Image Connector" in page.text and "write_files" in page.text
    sb = sandbox_of(running.app)
    state = sb.state.shop(shop)
    assert state is not None
    token = mint(sb.app(KEY), state)  # type: ignore[arg-type]
    refused = _exchange(running, shop, token)
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")  # not installed yet
    loaded = requests.post(f"{running.url}/{shop}/admin/apps/{KEY}/install", timeout=30)
    src = html.unescape(re.search(r'<iframe[^>]* src="([^"]+)"', loaded.text).group(1))  # type: ignore[union-attr]
    launch = parse_qs(urlsplit(src).query)
    assert src.startswith("http://127.0.0.1:9/app/embedded/shopify?")
    assert {k for k in launch} >= {"embedded", "hmac", "host", "id_token", "shop", "timestamp"}
    forged = mint(AppConfig(KEY, "another-secret-long-enough-for-hs256-012345"), state)
    assert _exchange(running, shop, forged).json()["error"] == "invalid_subject_token"
    granted = _exchange(running, shop, launch["id_token"][0]).json()
    assert granted["refresh_token"] and granted["expires_in"] > 0
    assert set(granted["scope"].split(",")) >= {
        "read_products",
        "write_products",
        "read_files",
        "write_files",
    }
    topics = {s["topic"] for s in admin.get(f"/shops/{shop}/webhooks")}
    assert topics == {"PRODUCTS_CREATE", "PRODUCTS_UPDATE", "PRODUCTS_DELETE", "APP_UNINSTALLED"}


def _subscribe(gql: AdminGraphQL, cap: str = "0.10") -> dict[str, Any]:
    line = {
        "plan": {
            "appUsagePricingDetails": {
                "terms": "5 cents an image",
                "cappedAmount": {"amount": cap, "currencyCode": "USD"},
            }
        }
    }
    variables = {
        "name": "Per image",
        "returnUrl": "https://app.example/back",
        "test": True,
        "lineItems": [line],
    }
    return gql(docs.APP_SUBSCRIPTION_CREATE, variables)["appSubscriptionCreate"]


def _charge(gql: AdminGraphQL, line: str, key: str, amount: str = "0.05") -> dict[str, Any]:
    variables = {
        "subscriptionLineItemId": line,
        "price": {"amount": amount, "currencyCode": "USD"},
        "description": "image",
        "idempotencyKey": key,
    }
    return gql(docs.APP_USAGE_RECORD_CREATE, variables)["appUsageRecordCreate"]


def test_billing_confirmation_usage_records_idempotency_and_cap(
    running: RunningSandbox, admin: SandboxAdmin, shop: str, gql: AdminGraphQL
) -> None:
    created = _subscribe(gql)
    url = created["confirmationUrl"]
    assert created["appSubscription"]["status"] == "PENDING" and created["userErrors"] == []
    assert gql(docs.ACTIVE_SUBSCRIPTIONS)["currentAppInstallation"]["activeSubscriptions"] == []
    assert requests.get(url.replace("signature=", "signature=0"), timeout=30).status_code == 403
    page = requests.get(url, timeout=30)
    assert "test charge" in page.text and "Approve" in page.text
    signature = parse_qs(urlsplit(url).query)["signature"][0]
    back = requests.post(
        url, data={"signature": signature, "decision": "approve"}, allow_redirects=False, timeout=30
    )
    assert back.headers["Location"].startswith("https://app.example/back?charge_id=")
    (active,) = gql(docs.ACTIVE_SUBSCRIPTIONS)["currentAppInstallation"]["activeSubscriptions"]
    line = active["lineItems"][0]["id"]
    assert active["lineItems"][0]["plan"]["pricingDetails"]["cappedAmount"]["amount"] == "0.10"
    first = _charge(gql, line, "op-1")["appUsageRecord"]
    assert _charge(gql, line, "op-1")["appUsageRecord"]["id"] == first["id"]  # same key: charged once
    assert _charge(gql, line, "op-2")["userErrors"] == []
    over = _charge(gql, line, "op-3")
    assert over["appUsageRecord"] is None and "exceeds balance remaining" in over["userErrors"][0]["message"]
    (sub,) = admin.get(f"/shops/{shop}/billing")
    assert [r["idempotency_key"] for r in sub["usage_records"]] == ["op-1", "op-2"]
