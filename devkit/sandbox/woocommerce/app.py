"""The WooCommerce sandbox application: many sites under path prefixes of one Flask app."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response

from sandbox.common.faults import FaultInjector
from sandbox.common.outbox import Outbox
from sandbox.common.serve import Served, serve
from sandbox.seeds.catalog import build_catalog
from sandbox.woocommerce.config import WooSandboxConfig
from sandbox.woocommerce.errors import WPError, error_response, no_route
from sandbox.woocommerce.site import Site
from sandbox.woocommerce.webhooks import WebhookDispatcher

SITE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
RESERVED = frozenset({"__sandbox", "wp-json", "wp-admin", "wp-content", "wc-auth"})


@dataclass(frozen=True)
class SiteCredentials:
    """What a new site hands out: its URL, a read/write REST key and an Application Password."""

    site: str
    url: str
    consumer_key: str
    consumer_secret: str
    key_id: int
    app_user: str
    app_password: str

    @property
    def api_url(self) -> str:
        """Base of the ``wc/v3`` routes."""
        return f"{self.url}/wp-json/wc/v3"

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly view."""
        return {
            "site": self.site,
            "url": self.url,
            "api_url": self.api_url,
            "consumer_key": self.consumer_key,
            "consumer_secret": self.consumer_secret,
            "key_id": self.key_id,
            "key_permissions": "read_write",
            "app_user": self.app_user,
            "app_password": self.app_password,
        }


class WooSandbox:
    """All sites, the webhook outbox and the fault injector of one sandbox app."""

    def __init__(self, config: WooSandboxConfig | None = None) -> None:
        self.config = config or WooSandboxConfig()
        self.sites: dict[str, Site] = {}
        self.credentials: dict[str, SiteCredentials] = {}
        self._lock = threading.Lock()
        self.outbox = Outbox(delay=self.config.webhook_delay, timeout=self.config.webhook_timeout)
        self.webhooks = WebhookDispatcher(self.config, self.outbox, self.sites.get)
        self.faults = FaultInjector(self.config.faults)

    def create_site(
        self, name: str, base_url: str, seed: int = 0, size: int = 5, profile: str = "mixed"
    ) -> SiteCredentials:
        """A new site at ``<base_url>/<name>`` seeded with ``build_catalog(seed, size, profile)``."""
        if not SITE_NAME.match(name) or name in RESERVED:
            raise ValueError(
                f"site name {name!r} must match {SITE_NAME.pattern} and not be one of {sorted(RESERVED)}"
            )
        catalog = build_catalog(seed, size, profile)
        site = Site(name, f"{base_url.rstrip('/')}/{name}", self.config, self.webhooks.notify)
        site.seed(catalog)
        key = site.create_key(1, "Sandbox seed key - API", "read_write")
        password = site.create_app_password(1, "image-connector")
        creds = SiteCredentials(
            name,
            site.home_url,
            key.consumer_key,
            key.consumer_secret,
            key.key_id,
            self.config.admin_user,
            password,
        )
        with self._lock:
            if name in self.sites:
                raise ValueError(f"site {name!r} already exists")
            self.sites[name] = site
            self.credentials[name] = creds
        return creds

    def site(self, name: str) -> Site:
        """The site called ``name`` (KeyError when there is none)."""
        return self.sites[name]

    def delete_site(self, name: str) -> bool:
        """Forget a site."""
        with self._lock:
            self.credentials.pop(name, None)
            return self.sites.pop(name, None) is not None

    def start(self) -> None:
        """Start delivering webhooks."""
        self.outbox.start()

    def stop(self) -> None:
        """Stop delivering webhooks and release requests hanging on an injected timeout."""
        self.faults.release()
        self.outbox.stop()


def create_app(config: WooSandboxConfig | None = None) -> Flask:
    """The Flask app serving every site; its :class:`WooSandbox` is ``app.extensions["woo_sandbox"]``."""
    from sandbox.woocommerce import (
        admin,
        api_app_passwords,
        api_media,
        api_products,
        api_webhooks,
        api_wp,
        authorize_app,
        wcauth,
    )

    sandbox = WooSandbox(config)
    app = Flask("sandbox.woocommerce")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["woo_sandbox"] = sandbox
    sandbox.faults.install(app, exempt_prefixes=("/__sandbox",), render_error=error_response)
    for bp in (
        admin.bp,
        api_products.bp,
        api_webhooks.bp,
        api_wp.bp,
        api_app_passwords.bp,
        api_media.bp,
        wcauth.bp,
        authorize_app.bp,
    ):
        app.register_blueprint(bp)

    @app.errorhandler(WPError)
    def wp_error(exc: WPError) -> Response:
        return exc.response()

    @app.errorhandler(404)
    def not_found(_exc: Exception) -> Response:
        return no_route().response()

    @app.errorhandler(405)
    def wrong_method(_exc: Exception) -> Response:
        return no_route().response()

    sandbox.start()
    return app


@dataclass
class RunningWooSandbox:
    """A sandbox served on loopback."""

    app: Flask
    served: Served

    @property
    def sandbox(self) -> WooSandbox:
        """The state behind the app."""
        found: WooSandbox = self.app.extensions["woo_sandbox"]
        return found

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self.served.url

    def create_site(self, name: str, seed: int = 0, size: int = 5, profile: str = "mixed") -> SiteCredentials:
        """A seeded site at ``<url>/<name>``."""
        return self.sandbox.create_site(name, self.url, seed, size, profile)

    def stop(self) -> None:
        """Stop the server and the webhook sender."""
        self.sandbox.stop()
        self.served.stop()

    def __enter__(self) -> RunningWooSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_sandbox(
    config: WooSandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> RunningWooSandbox:
    """Create the app and serve it on ``host:port`` (0: a free port)."""
    app = create_app(config)
    return RunningWooSandbox(app, serve(app, host, port))
