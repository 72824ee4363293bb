"""The dashboard, media URLs and start-up: who may see and act, what a page shows, what production demands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from connector.errors import ConfigurationError
from connector.safety import refuse_unsafe_start
from connector.services import Services
from connector.settings import Settings
from connector.stores import save_install
from connector.web import create_app
from connector.web.media import media_token_valid, signed_media_path
from tests.conftest import base_env
from tests.security.conftest import strict_services
from tests.security.support import snapshot

pytestmark = pytest.mark.security

LOCAL = {"REMOTE_ADDR": "127.0.0.1"}


def _csrf(client: FlaskClient) -> str:
    page = client.get("/", environ_base=LOCAL)
    assert page.status_code == 200
    with client.session_transaction() as session:
        return str(session["csrf"])


# ----------------------------------------------------------------------------- who may open it


def test_without_a_password_only_this_machine_sees_the_dashboard(client: FlaskClient) -> None:
    assert client.get("/", environ_base=LOCAL).status_code == 200
    assert client.get("/", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 403


@pytest.mark.parametrize(
    "header", ["X-Forwarded-For", "X-Real-IP", "Forwarded", "X-Forwarded-Host"], ids=lambda h: h.lower()
)
def test_a_proxied_request_is_not_local_without_trusted_proxies(client: FlaskClient, header: str) -> None:
    """Behind a reverse proxy on the same host every TCP peer is 127.0.0.1: forwarded means remote."""
    value = "for=203.0.113.9" if header == "Forwarded" else "203.0.113.9"
    assert client.get("/", environ_base=LOCAL, headers={header: value}).status_code == 403


def test_with_trusted_proxies_the_forwarded_client_decides(tmp_path: Path) -> None:
    client = create_app(strict_services(tmp_path, TRUSTED_PROXY_HOPS="1")).test_client()
    remote = {"X-Forwarded-For": "203.0.113.9"}
    assert client.get("/", environ_base=LOCAL, headers=remote).status_code == 403
    spoofed = {"X-Forwarded-For": "127.0.0.1, 203.0.113.9"}  # only the last hop is the proxy's word
    assert client.get("/", environ_base=LOCAL, headers=spoofed).status_code == 403
    local = {"X-Forwarded-For": "127.0.0.1"}
    assert client.get("/", environ_base=LOCAL, headers=local).status_code == 200


def test_with_a_password_everyone_must_log_in(tmp_path: Path) -> None:
    client = create_app(strict_services(tmp_path, DASHBOARD_PASSWORD="long-password")).test_client()
    assert client.get("/", environ_base=LOCAL).status_code == 401
    wrong = {"Authorization": "Basic b3A6d3Jvbmc="}  # op:wrong
    assert client.get("/", environ_base=LOCAL, headers=wrong).status_code == 401


# ----------------------------------------------------------------------------- what it does


def test_actions_need_the_csrf_token_and_redirect_only_to_the_dashboard(
    svc: Services, client: FlaskClient, stores: dict[str, int]
) -> None:
    store_id = next(iter(stores.values()))
    before = snapshot(svc)
    forged = client.post(f"/stores/{store_id}/resync", data={}, environ_base=LOCAL)
    assert forged.status_code == 400 and snapshot(svc) == before
    token = _csrf(client)
    for referer, back in (
        ("https://evil.example/phish", f"/stores/{store_id}"),
        ("http://localhost//evil.example/x", f"/stores/{store_id}"),
        ("javascript:alert(1)", f"/stores/{store_id}"),
        ("http://localhost/stores/1?status=review", "/stores/1?status=review"),  # its own page: kept
    ):
        answer = client.post(
            f"/stores/{store_id}/resync",
            data={"csrf": token, "dry_run": "1"},
            environ_base=LOCAL,
            headers={"Referer": referer},
        )
        assert answer.status_code == 302 and answer.headers["Location"] == back, referer


def test_stored_markup_is_shown_as_text(svc: Services, client: FlaskClient) -> None:
    save_install(svc, "fake", "<script>alert(1)</script>.fake", {"token": "t"})
    page = client.get("/", environ_base=LOCAL).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_media_urls_are_signed_and_expire(svc: Services, client: FlaskClient) -> None:
    digest = svc.blobs.put(b"\x89PNG\r\n\x1a\n" + b"0" * 32)
    secret = client.application.config["SECRET_KEY"]
    url = signed_media_path(secret, digest)
    assert client.get(url, environ_base=LOCAL).status_code == 200
    other = svc.blobs.put(b"\xff\xd8 another blob")
    token = url.split("t=", 1)[1]
    for forged in (
        f"/media/{other}?t={token}",  # a signature for another blob
        url[:-2] + ("AA" if not url.endswith("AA") else "BB"),  # tampered
        signed_media_path("dev-only-not-secret", digest),  # the old public fallback key
        f"/media/{digest}?e=99999999999&s=00",  # the old format
        f"/media/{digest}",
    ):
        assert client.get(forged, environ_base=LOCAL).status_code == 403, forged
    assert media_token_valid(secret, digest, token) and not media_token_valid(
        secret, digest, token, max_age=-1
    )


# ----------------------------------------------------------------------------- start-up


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"ENCRYPTION_KEY": ""}, "ENCRYPTION_KEY"),
        ({"DASHBOARD_PASSWORD": ""}, "DASHBOARD_PASSWORD"),
    ],
)
def test_production_refuses_to_start_without_its_secrets(tmp_path: Path, missing: dict, message: str) -> None:
    env = {"DASHBOARD_PASSWORD": "long-password", "SECRET_KEY": "s" * 32, **missing}
    for production in ({"CONNECTOR_ENV": "production"}, {"PUBLIC_URL": "https://connector.example"}):
        settings = Settings.from_env(base_env(tmp_path, **production, **env))
        assert settings.production
        with pytest.raises(ConfigurationError, match=message):
            refuse_unsafe_start(settings)
        with pytest.raises(ConfigurationError, match=message):
            create_app(Services(settings))


def test_production_may_keep_the_dashboard_local_only_when_it_says_so(tmp_path: Path) -> None:
    settings = Settings.from_env(
        base_env(tmp_path, CONNECTOR_ENV="production", SECRET_KEY="s" * 32, DASHBOARD_LOCAL_ONLY="1")
    )
    refuse_unsafe_start(settings)


def test_without_a_secret_key_development_signs_with_a_random_key(tmp_path: Path) -> None:
    keys = {
        create_app(strict_services(tmp_path / str(i), SECRET_KEY="")).config["SECRET_KEY"] for i in range(2)
    }
    assert len(keys) == 2 and "dev-only-not-secret" not in keys
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32,}", key) for key in keys)
