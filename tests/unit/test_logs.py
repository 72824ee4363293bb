"""Log lines: context on every line, text or JSON, and no secret whatever its shape."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from connector.logs import REDACTED, configure_logging, log_context, redact_values, scrub
from connector.settings import Settings
from tests.conftest import base_env

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("GET /products?oauth_consumer_key=abc123def&oauth_signature=Zm9vYmFy%3D HTTP/1.1", "Zm9vYmFy%3D"),
        ("GET /products?oauth_consumer_key=abc123def&page=2", "abc123def"),
        ("GET /install/callback?code=0123456789abcdef&shop=a.myshopify.com", "0123456789abcdef"),
        ("callback?hmac=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "9f86d081884c7d"),
        ("followup?user_login=admin&password=hunter2hunter2", "hunter2hunter2"),
        ("{'X-Shopify-Access-Token': 'tok-abcdef123456'}", "tok-abcdef123456"),
        ('{"access_token": "tok-abcdef123456", "scope": "write_products"}', "tok-abcdef123456"),
        ('{"webhook_secret":"s3cr3t-value"}', "s3cr3t-value"),
        ("Authorization: Basic YWRtaW46cGFzc3dvcmQ=", "YWRtaW46cGFzc3dvcmQ="),
        ("header Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGciOiJIUzI1NiJ9"),
        ("token is shpat_0123456789abcdef0123456789abcdef now", "shpat_0123456789abcdef"),
        ("key ck_0123456789abcdef0123456789abcdef01234567 used", "ck_0123456789abcdef"),
    ],
)
def test_secret_shapes_are_scrubbed(line: str, secret: str) -> None:
    cleaned = scrub(line)
    assert secret not in cleaned and REDACTED in cleaned


def test_known_secret_values_are_scrubbed_anywhere_and_ordinary_words_are_kept() -> None:
    redact_values(
        ["plain-looking-credential-7731", "abc", 12345]
    )  # short and non-text values are not secrets
    line = scrub("uploading with plain-looking-credential-7731 to shop abc (page 12345)")
    assert "plain-looking-credential-7731" not in line
    assert "shop abc (page 12345)" in line


def _log_through(settings: Settings) -> str:
    stream = io.StringIO()
    handler = configure_logging(settings, stream=stream)
    try:
        log = logging.getLogger("connector.test")
        with log_context(store=3, run=9):
            with log_context(job="j-1", image=42, run=None):  # None leaves the outer value
                log.info("published %s", "ok")
            log.warning("outside the job")
        log.info("no context")
    finally:
        logging.getLogger().removeHandler(handler)
    return stream.getvalue()


def test_text_lines_carry_store_run_job_image(tmp_path: Path) -> None:
    lines = _log_through(Settings.from_env(base_env(tmp_path))).splitlines()
    assert lines[0].endswith("connector.test: published ok [store=3 run=9 job=j-1 image=42]")
    assert lines[1].endswith("outside the job [store=3 run=9]")
    assert lines[2].endswith("no context")


def test_json_lines_are_one_object_each_with_the_context(tmp_path: Path) -> None:
    settings = Settings.from_env(base_env(tmp_path, LOG_FORMAT="json", SHOPIFY_API_SECRET="app-secret-xyz"))
    out = _log_through(settings)
    entries = [json.loads(line) for line in out.splitlines()]
    assert entries[0] | {"time": None} == {
        "time": None,
        "level": "INFO",
        "logger": "connector.test",
        "message": "published ok",
        "store": 3,
        "run": 9,
        "job": "j-1",
        "image": 42,
    }
    assert "job" not in entries[1] and "store" not in entries[2]


def test_the_settings_secrets_never_reach_a_line(tmp_path: Path) -> None:
    settings = Settings.from_env(base_env(tmp_path, SHOPIFY_API_SECRET="app-secret-xyz"))
    stream = io.StringIO()
    handler = configure_logging(settings, stream=stream)
    try:
        logging.getLogger("any.library").error(
            "failed with %s and %s", "app-secret-xyz", settings.encryption_key
        )
    finally:
        logging.getLogger().removeHandler(handler)
    assert "app-secret-xyz" not in stream.getvalue() and settings.encryption_key not in stream.getvalue()


def test_an_unknown_log_format_is_refused(tmp_path: Path) -> None:
    from connector.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="LOG_FORMAT"):
        Settings.from_env(base_env(tmp_path, LOG_FORMAT="xml"))
