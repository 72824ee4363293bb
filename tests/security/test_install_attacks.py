"""Crafted install requests: no store is created, no state handed out for an internal address, no
request reaches anything but the store asked for, no redirect leaves it, no traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import responses
from flask.testing import FlaskClient

from adapters.woocommerce import WooCommerceApp, WooConfig
from adapters.woocommerce.app_passwords import authorization_endpoint
from adapters.woocommerce.http import RetryPolicy
from connector.errors import AuthError
from connector.services import Services
from connector.web import create_app
from tests.conftest import current
from tests.security.conftest import strict_services
from tests.security.support import INTERNAL_SECRET, Listener, snapshot

pytestmark = pytest.mark.security


@pytest.fixture
def bound(tmp_path: Path, store: Listener) -> Iterator[Services]:
    """Services that may reach exactly the store's host:port and nothing else on loopback.

    The test store listens on plain http, so its keys would go to an http callback: allowed here as the
    dev stack allows it (``WOO_ALLOW_HTTP_CALLBACK``), so that the attack itself is what gets refused."""
    allowed = {"OUTBOUND_ALLOW_HOSTS": store.netloc, "WOO_ALLOW_HTTP_CALLBACK": "1"}
    with current(strict_services(tmp_path, **allowed)) as services:
        yield services


def _install_states(services: Services) -> list[bytes]:
    return list(services.redis.scan_iter(services.settings.redis_key("install-state", "*")))


def _keys(state: str) -> bytes:
    return json.dumps(
        {
            "key_id": 1,
            "user_id": state,
            "consumer_key": "ck_made_up",
            "consumer_secret": "cs_made_up",
            "key_permissions": "read_write",
        }
    ).encode()


def _callback(client: FlaskClient, shop: str, state: str) -> tuple[int, str]:
    """POST made-up keys to the key callback as if from ``shop``; status and body."""
    query = urlencode({"shop": shop, "state_hint": state})
    answer = client.post(f"/install/woocommerce/callback?{query}", data=_keys(state))
    return answer.status_code, answer.get_data(as_text=True)


def _begin(client: FlaskClient, shop: str) -> str:
    """Start a WooCommerce install; the state the grant carries."""
    answer = client.get(f"/install/woocommerce?{urlencode({'shop': shop})}")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    location = answer.headers["Location"]
    assert location.startswith(f"{shop}/wc-auth/v1/authorize?")  # only ever to the store asked for
    return parse_qs(urlsplit(location).query)["user_id"][0]


@pytest.mark.parametrize(
    "shop",
    [
        "{internal}",
        "http://127.0.0.1:6379",
        "http://localhost:8000",
        "http://169.254.169.254/latest",
        "http://10.1.2.3",
        "http://[::1]:8000",
        "evil.example",  # does not resolve here; in production a name must resolve to public addresses
        "javascript:alert(1)",
        "https://shop.example:99999",
        "https://shop.example:abc",
        "https://user:pw@shop.example",
        "ftp://shop.example",
        "https://" + "a" * 300 + ".example",
    ],
)
def test_an_install_cannot_start_for_an_internal_or_malformed_store(
    shared: Services, shared_client: FlaskClient, internal: Listener, shop: str
) -> None:
    svc, client = shared, shared_client
    before = snapshot(svc)
    answer = client.get(f"/install/woocommerce?{urlencode({'shop': shop.format(internal=internal.url)})}")
    assert answer.status_code == 400 and "Location" not in answer.headers
    body = answer.get_json()
    assert body["error"] and body["hint"] and "Traceback" not in answer.get_data(as_text=True)
    assert _install_states(svc) == [] and snapshot(svc) == before and internal.hits() == []


def test_a_callback_naming_another_store_than_its_state_reaches_nothing(
    bound: Services, store: Listener, internal: Listener
) -> None:
    """The issue's attack: a state taken from a harmless install link, then the key callback posted
    with ``shop`` pointing inside the network.  Refused before any request; the state is used up."""
    client = create_app(bound).test_client()
    before = snapshot(bound)
    state = _begin(client, store.url)
    for shop in (internal.url, "http://127.0.0.1:6379", store.url + "/other"):
        answer = client.post(
            f"/install/woocommerce/callback?{urlencode({'shop': shop, 'state_hint': state})}",
            data=_keys(state),
        )
        assert answer.status_code == 401 and INTERNAL_SECRET not in answer.get_data(as_text=True)
    # the state was used up by the first forged callback: not even the right store can use it now
    answer = client.post(
        f"/install/woocommerce/callback?{urlencode({'shop': store.url, 'state_hint': state})}",
        data=_keys(state),
    )
    assert answer.status_code == 401
    assert internal.hits() == [] and store.hits() == [] and snapshot(bound) == before


def test_keys_that_do_not_work_on_the_store_create_nothing(bound: Services, store: Listener) -> None:
    client = create_app(bound).test_client()
    before = snapshot(bound)
    store.status = 401  # the store does not know these keys
    state = _begin(client, store.url)
    answer = client.post(
        f"/install/woocommerce/callback?{urlencode({'shop': store.url, 'state_hint': state})}",
        data=_keys(state),
    )
    assert answer.status_code == 401 and INTERNAL_SECRET not in answer.get_data(as_text=True)
    assert store.hits() == ["/wp-json/wc/v3/products"]  # the one check, on that store only
    assert snapshot(bound) == before


def test_a_callback_without_a_state_the_connector_started_is_refused(
    svc: Services, client: FlaskClient
) -> None:
    before = snapshot(svc)
    for query in ("", "?shop=alpha-shop.myshopify.com&code=c&state=s&hmac=h", "?state_hint=guess&shop=x"):
        for platform in ("shopify", "woocommerce"):
            answer = client.post(f"/install/{platform}/callback{query}", data=_keys("guess"))
            assert answer.status_code == 401
    assert snapshot(svc) == before


@pytest.mark.parametrize(
    "shop",
    [
        "",
        "evil.com",
        "x.myshopify.com.evil.com",
        "-shop.myshopify.com",
        "shop..myshopify.com",
        "shop.myshopify.co",
        "shop.myshopify.com@evil.com",
        "https://evil.com/shop.myshopify.com",
        "shop.myshopify.com%2F..",
        "sh op.myshopify.com",
        "shop.myshopify.com:8080",
        "javascript:alert(1)",
        "<script>.myshopify.com",
    ],
)
def test_malformed_shopify_shop_names_get_no_redirect(
    shared: Services, shared_client: FlaskClient, shop: str
) -> None:
    svc, client = shared, shared_client
    before = snapshot(svc)
    answer = client.get(f"/install/shopify?{urlencode({'shop': shop})}")
    assert answer.status_code in (400, 401) and "Location" not in answer.headers
    assert answer.get_json()["error"] and _install_states(svc) == [] and snapshot(svc) == before


@responses.activate
def test_the_application_password_page_must_be_on_the_store_itself() -> None:
    """The REST index names where the merchant is sent for the second consent: never another site."""
    responses.get(
        "https://store.example/wp-json/",
        json={
            "authentication": {
                "application-passwords": {"endpoints": {"authorization": "https://evil.example/a"}}
            }
        },
    )
    app = WooCommerceApp(config=WooConfig(timeout=5))
    with pytest.raises(AuthError, match="another site"), app._session() as session:
        authorization_endpoint(session, "https://store.example", 5, RetryPolicy(attempts=1))
