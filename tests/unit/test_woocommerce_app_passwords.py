"""The WooCommerce install's second consent (an Application Password): URLs, callback checks, edge cases."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from sandbox.fake_platform import FakeApp

from adapters.woocommerce import RetryPolicy, WooCommerceApp, WooConfig
from adapters.woocommerce.app_passwords import login_from_callback, password_name
from adapters.woocommerce.config import DEFAULT_APP_ID
from connector.errors import AuthError
from connector.port import FollowUpConsent, followup_consent

pytestmark = pytest.mark.unit

SHOP = "https://store.test/wp"
CALLBACK = "https://connector.test/install/woocommerce/followup"
GOOD = {"state": "s1", "site_url": "https://store.test/wp", "user_login": "admin", "password": "A" * 24}


def app() -> WooCommerceApp:
    return WooCommerceApp(config=WooConfig(timeout=5), retry=RetryPolicy(attempts=1))


def test_only_woocommerce_has_a_second_consent() -> None:
    assert isinstance(app(), FollowUpConsent) and followup_consent(app()) is not None
    assert followup_consent(FakeApp()) is None  # apps without it install in one step


def test_the_key_grant_returns_the_browser_where_the_connector_asks() -> None:
    url = app().authorize_url(
        SHOP, "st", "https://c.test/install/woocommerce/callback", return_url="https://c.test/r"
    )
    assert parse_qs(urlsplit(url).query)["return_url"] == ["https://c.test/r"]


@responses.activate
def test_followup_url_is_the_discovered_page_with_our_state_in_both_redirects() -> None:
    page = "https://store.test/wp/wp-admin/authorize-application.php"
    responses.get(
        f"{SHOP}/wp-json/",
        json={"authentication": {"application-passwords": {"endpoints": {"authorization": page}}}},
    )
    url = app().followup_url("store.test/wp/", "s1", CALLBACK)
    assert url.startswith(page + "?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["app_id"] == DEFAULT_APP_ID and query["app_name"].startswith("Image Connector (")
    assert query["success_url"] == f"{CALLBACK}?state=s1"
    assert query["reject_url"] == f"{CALLBACK}?state=s1&success=false"


@responses.activate
def test_a_site_without_application_passwords_says_what_to_do() -> None:
    responses.get(f"{SHOP}/wp-json/", json={"name": "x", "authentication": []})  # PHP's empty array
    with pytest.raises(AuthError, match="does not offer WordPress Application Passwords") as caught:
        app().followup_url(SHOP, "s1", CALLBACK)
    assert "https" in (caught.value.hint or "")


def test_password_names_are_dated_because_wordpress_refuses_duplicates() -> None:
    moment = datetime(2024, 5, 1, 10, 0, 3, tzinfo=UTC)
    assert password_name("Image Connector", moment) == "Image Connector (2024-05-01 10:00:03 UTC)"


@pytest.mark.parametrize(
    "change,message",
    [
        ({"state": "other"}, "state mismatch"),
        ({"state": ""}, "state mismatch"),
        ({"success": "false", "site_url": "", "password": ""}, "was not approved"),
        ({"password": ""}, "lacks site_url, user_login or password"),
        ({"site_url": "https://evil.test/wp"}, "issued by https://evil.test/wp"),
    ],
)
def test_the_callback_is_refused_when_declined_forged_or_foreign(
    change: dict[str, str], message: str
) -> None:
    with pytest.raises(AuthError, match=message):
        login_from_callback(SHOP, {**GOOD, **change}, "s1")


def test_the_callback_accepts_the_same_site_in_another_spelling() -> None:
    assert login_from_callback(SHOP, {**GOOD, "site_url": "https://Store.test/"}, "s1") == ("admin", "A" * 24)


@responses.activate
def test_the_password_is_kept_only_when_it_works_and_may_upload() -> None:
    me = f"{SHOP}/wp-json/wp/v2/users/me"
    responses.get(me, json={"id": 1, "capabilities": {"upload_files": True}})
    assert app().complete_followup(SHOP, GOOD, "s1") == {"app_user": "admin", "app_password": "A" * 24}
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")
    assert "context=edit" in (responses.calls[0].request.url or "")

    responses.replace(responses.GET, me, json={"id": 2, "capabilities": {"read": True}})
    with pytest.raises(AuthError, match="may not upload files"):
        app().complete_followup(SHOP, GOOD, "s1")
    responses.replace(
        responses.GET,
        me,
        status=401,
        json={
            "code": "incorrect_password",
            "message": "The provided password is an invalid application password.",
        },
    )
    with pytest.raises(AuthError, match="does not work on"):
        app().complete_followup(SHOP, GOOD, "s1")
