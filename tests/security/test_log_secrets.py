"""Secrets never reach a log: a whole WooCommerce install, with the web server's access log on, then
every line this process logged is searched for the keys, passwords, secrets and states it handled."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sandbox.devstack import DevStack

from connector.logs import REDACTED, configure_logging, remove_service_handler, scrub
from connector.models import Store
from connector.stores import credentials_of
from tests.conftest import base_env

pytestmark = [pytest.mark.security, pytest.mark.e2e]


def test_a_whole_install_logs_no_secret(tmp_path: Path) -> None:
    """Every line the service's log handler writes during the install (web access log, the sandboxes'
    request lines, urllib3, the connector) is read back."""
    written = io.StringIO()
    with DevStack(base_env(tmp_path, LOG_LEVEL="DEBUG"), access_log=True) as stack:
        configure_logging(stack.services.settings, stream=written)
        try:
            store_id = stack.install_woocommerce("logged", seed=3, size=5)
        finally:
            remove_service_handler()
        with stack.services.session() as s:
            store = s.get(Store, store_id)
            assert store is not None
            credentials = credentials_of(stack.services, store)
    secrets = [
        credentials["consumer_key"],
        credentials["consumer_secret"],
        credentials["webhook_secret"],
        credentials["app_password"],
        credentials["app_password"].replace(" ", "+"),  # as a query string carries it
        credentials["app_password"].replace(" ", "%20"),
    ]
    text = written.getvalue()
    assert "/install/woocommerce/followup?" in text, "the access log was not captured"
    assert f"password={REDACTED}" in text
    leaked = [secret for secret in secrets if secret in text]
    assert leaked == [], f"secrets in the log: {len(leaked)}"
    for name in ("oauth_signature", "state_hint", "state", "consumer_secret", "hmac"):
        assert not re.search(rf"[?&]{name}=(?!{re.escape(REDACTED)})", text), name


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ('"GET /install/shopify/callback?code=abc123&hmac=deadbeef&shop=s.myshopify.com HTTP/1.1"', "abc123"),
        (
            '"GET /install/shopify/callback?code=abc123&hmac=deadbeef&shop=s.myshopify.com HTTP/1.1"',
            "deadbeef",
        ),
        ("Authorization: Basic YWRtaW46c2VjcmV0cGFzcw==", "YWRtaW46c2VjcmV0cGFzcw=="),
        ("Authorization: Bearer shpat_0123456789abcdef", "shpat_0123456789abcdef"),
        ("{'access_token': 'shpua_77aa', 'scope': 'read_products'}", "shpua_77aa"),
        ('{"consumer_secret": "cs_9f8e7d", "key_id": 3}', "cs_9f8e7d"),
        ("GET /media/abc?t=eyJ0.ZXhw.c2ln HTTP/1.1", "eyJ0.ZXhw.c2ln"),
    ],
)
def test_redaction_blanks_tokens_passwords_and_signatures(line: str, secret: str) -> None:
    assert secret not in scrub(line) and REDACTED in scrub(line)
