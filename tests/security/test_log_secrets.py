"""Secrets never reach a log: a whole WooCommerce install, with the web server's access log on, then
every line this process logged is searched for the keys, passwords, secrets and states it handled."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox.devstack import DevStack

from connector.models import Store
from connector.redaction import MASK, redact
from connector.stores import credentials_of
from tests.conftest import base_env

pytestmark = [pytest.mark.security, pytest.mark.e2e]


class Lines(logging.Handler):
    """Every formatted record, from every logger of the process."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logged() -> Iterator[Lines]:
    handler, root = Lines(), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_a_whole_install_logs_no_secret(tmp_path: Path, logged: Lines) -> None:
    with DevStack(base_env(tmp_path), access_log=True) as stack:
        store_id = stack.install_woocommerce("logged", seed=3, size=5)
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
    text = "\n".join(logged.lines)
    assert "/install/woocommerce/followup?" in text, "the access log was not captured"
    assert f"password={MASK}" in text
    leaked = [secret for secret in secrets if secret in text]
    assert leaked == [], f"secrets in the log: {len(leaked)}"
    assert not any(
        f"{name}=" in line and f"{name}={MASK}" not in line
        for line in logged.lines
        for name in ("oauth_signature", "state_hint", "consumer_secret")
    )


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
    assert secret not in redact(line) and MASK in redact(line)
