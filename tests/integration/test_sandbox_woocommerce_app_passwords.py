"""The sandbox's Application Password flow: discovery, ``authorize-application.php``, ``users/me``."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from sandbox.woocommerce import (
    MerchantBrowser,
    RunningWooSandbox,
    SiteCredentials,
    WooSandboxConfig,
    serve_sandbox,
)

pytestmark = pytest.mark.integration

_names = itertools.count(1)
APP_ID = str(uuid.uuid4())
BACK = "http://127.0.0.1:9/connector/back?state=s1"


@pytest.fixture(scope="module")
def woo() -> Iterator[RunningWooSandbox]:
    running = serve_sandbox(WooSandboxConfig(webhook_delay=0.2))
    yield running
    running.stop()


@pytest.fixture
def shop(woo: RunningWooSandbox) -> SiteCredentials:
    return woo.create_site(f"apps{next(_names)}", size=5, profile="clean")


def consent_page(browser: MerchantBrowser, creds: SiteCredentials, **query: str) -> requests.Response:
    defaults = {"app_name": "Image Connector", "app_id": APP_ID, "success_url": BACK}
    return browser.open(f"{creds.url}/wp-admin/authorize-application.php?{urlencode({**defaults, **query})}")


def app_passwords(woo: RunningWooSandbox, creds: SiteCredentials) -> list[dict[str, str]]:
    found: list[dict[str, str]] = requests.get(
        f"{woo.url}/__sandbox/sites/{creds.site}/app-passwords", timeout=10
    ).json()
    return found


def test_the_rest_index_names_the_authorization_page_and_users_me_needs_a_login(
    shop: SiteCredentials,
) -> None:
    index = requests.get(f"{shop.url}/wp-json/", timeout=10).json()
    endpoint = index["authentication"]["application-passwords"]["endpoints"]["authorization"]
    assert endpoint == f"{shop.url}/wp-admin/authorize-application.php"
    anonymous = requests.get(f"{shop.url}/wp-json/wp/v2/users/me", timeout=10)
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "rest_not_logged_in"
    keys = requests.get(f"{shop.url}/wp-json/wp/v2/users/me", auth=(shop.consumer_key, shop.consumer_secret))
    assert keys.status_code == 401  # consumer keys are no WordPress login
    me = requests.get(
        f"{shop.url}/wp-json/wp/v2/users/me",
        params={"context": "edit"},
        auth=(shop.app_user, shop.app_password),
    ).json()
    assert me["username"] == "admin" and me["capabilities"]["upload_files"] is True
    assert (
        "capabilities"
        not in requests.get(
            f"{shop.url}/wp-json/wp/v2/users/me", auth=(shop.app_user, shop.app_password), timeout=10
        ).json()
    )


def test_approving_redirects_with_a_new_password_that_works(
    woo: RunningWooSandbox, shop: SiteCredentials
) -> None:
    browser = MerchantBrowser()
    page = consent_page(browser, shop)
    assert page.status_code == 200 and "Image Connector" in page.text and "Logged in as admin" in page.text
    done = browser.submit(page, "approve", follow=False)
    assert done.status_code == 302
    back = urlsplit(done.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == BACK.split("?")[0]
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    assert query["state"] == "s1" and query["site_url"] == shop.url and query["user_login"] == "admin"
    assert len(query["password"]) == 24 and query["password"].isalnum()

    created = next(p for p in app_passwords(woo, shop) if p["app_id"] == APP_ID)
    assert created["name"] == "Image Connector" and created["last_used"] is None
    upload = requests.post(
        f"{shop.url}/wp-json/wp/v2/media",
        data=b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        headers={"Content-Type": "image/gif", "Content-Disposition": 'attachment; filename="dot.gif"'},
        auth=("admin", query["password"]),
        timeout=10,
    )
    assert upload.status_code == 201
    assert next(p for p in app_passwords(woo, shop) if p["app_id"] == APP_ID)["last_used"]

    again = browser.submit(consent_page(browser, shop), "approve", follow=False)
    assert again.status_code == 200 and "Each application name should be unique." in again.text


def test_rejecting_goes_to_the_reject_url_or_back_with_success_false(
    woo: RunningWooSandbox, shop: SiteCredentials
) -> None:
    browser = MerchantBrowser()
    named = browser.submit(
        consent_page(browser, shop, reject_url="https://app.test/no"), "reject", follow=False
    )
    assert named.status_code == 302 and named.headers["Location"] == "https://app.test/no"
    default = browser.submit(consent_page(browser, shop), "reject", follow=False)
    assert default.headers["Location"] == f"{BACK}&success=false"
    assert not [p for p in app_passwords(woo, shop) if p["app_id"] == APP_ID]


def test_without_a_success_url_the_password_is_shown(shop: SiteCredentials) -> None:
    browser = MerchantBrowser()
    shown = browser.submit(consent_page(browser, shop, success_url=""), "approve", follow=False)
    assert shown.status_code == 200 and "Your new password for Image Connector is" in shown.text


@pytest.mark.parametrize(
    "query,message",
    [
        ({"app_id": "not-a-uuid"}, "The application ID must be a UUID."),
        ({"app_id": APP_ID.upper()}, "The application ID must be a UUID."),
        ({"success_url": "javascript:alert(1)"}, "Invalid URL format."),
        ({"reject_url": "/relative"}, "Invalid URL format."),
    ],
)
def test_bad_requests_are_not_allowed(shop: SiteCredentials, query: dict[str, str], message: str) -> None:
    page = consent_page(MerchantBrowser(), shop, **query)
    assert page.status_code == 500 and "The Authorize Application request is not allowed." in page.text
    assert message in page.text


def test_a_stale_form_is_refused(shop: SiteCredentials) -> None:
    response = requests.post(
        f"{shop.url}/wp-admin/authorize-application.php",
        data={
            "action": "authorize_application_password",
            "_wpnonce": "stale",
            "app_name": "x",
            "approve": "1",
        },
        timeout=10,
    )
    assert response.status_code == 403 and "The link you followed has expired." in response.text


def test_a_production_site_over_http_offers_no_application_passwords() -> None:
    with serve_sandbox(WooSandboxConfig(webhook_delay=0.2, environment_type="production")) as strict:
        creds = strict.create_site("strict", size=5, profile="clean")
        assert requests.get(f"{creds.url}/wp-json/", timeout=10).json()["authentication"] == []
        insecure = consent_page(MerchantBrowser(), creds)
        assert (
            insecure.status_code == 500
            and "The URL must be served over a secure connection." in insecure.text
        )
        unavailable = consent_page(MerchantBrowser(), creds, success_url="https://app.test/back")
        assert (
            unavailable.status_code == 501 and "Application passwords are not available." in unavailable.text
        )
