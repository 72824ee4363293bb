"""The connector against the real WooCommerce store: the dev stack behind https, a browser install."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sandbox.common.serve import Served, serve
from sandbox.devstack import DevStack
from sandbox.real_woocommerce import RealWooStore, SeededCatalog, TlsTerminator

from connector.settings import Settings
from connector.web import create_app
from tests.realstore.stores import ContractStore


@dataclass
class RealConnector:
    """The connector (web app behind a TLS terminator, workers) installed on the real store."""

    stack: DevStack
    tls: TlsTerminator
    store: RealWooStore
    catalog: SeededCatalog
    api: ContractStore
    access_log: AccessLog
    store_id: int = 0
    landing: str = ""

    @property
    def public_url(self) -> str:
        """The connector's https address (what the store calls back and delivers to)."""
        return self.tls.url

    def settle(self, rounds: int = 3) -> None:
        """Run workers until idle, deliver the store's waiting webhooks, and again, until nothing is left."""
        for _ in range(rounds):
            assert self.stack.run_burst(timeout=900) == 0
            if not self.store.run_queue():
                assert self.stack.run_burst(timeout=900) == 0
                return


class AccessLog(logging.Handler):
    """The web server's access log lines, as its handlers would write them."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def start_connector(stack: DevStack, cert: tuple[Path, Path]) -> tuple[TlsTerminator, Served, AccessLog]:
    """Serve the web app with an access log behind https; the connector calls itself by that address."""
    web = serve(create_app(stack.services), quiet=False)
    log = AccessLog()
    logging.getLogger("werkzeug").addHandler(log)
    tls = TlsTerminator(web.server.server_port, cert[0], cert[1]).start()
    stack.env["PUBLIC_URL"] = tls.url
    stack.services.settings = Settings.from_env(stack.env)
    return tls, web, log


def stop_connector(web: Served, tls: TlsTerminator, log: AccessLog) -> None:
    """Stop what :func:`start_connector` started."""
    logging.getLogger("werkzeug").removeHandler(log)
    tls.stop()
    web.stop()


def install_in_browser(connector: RealConnector, browser: Any) -> str:
    """A merchant installs from the connector's install link in chromium: logs in to the store, approves
    WooCommerce's key grant, then WordPress's Application Password page; the page it ends on."""
    link = f"{connector.public_url}/install/woocommerce?{urlencode({'shop': connector.store.url})}"
    context = browser.new_context(ignore_https_errors=True)
    try:
        page = context.new_page()
        page.set_default_timeout(120_000)
        page.goto(link)
        page.fill("#username", "admin")  # WooCommerce's key grant shows its login form first
        page.fill("#password", connector.store.admin_password)
        page.click("button[name=login]")
        page.click("a.wc-auth-approve")  # the keys go to the connector's https callback
        page.wait_for_selector("#approve")  # WordPress's Application Password page
        page.click("#approve")
        page.wait_for_url("**/stores/*", wait_until="load")
        return str(page.url)
    finally:
        context.close()


def webhooks_to(api: ContractStore, url: str) -> list[dict[str, Any]]:
    """The store's webhooks delivering to ``url``."""
    return [w for w in api.wc("GET", "webhooks", per_page=100) if w["delivery_url"] == url]
