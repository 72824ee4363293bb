"""The Flask app of the Shopify sandbox, and helpers to run it.

Every Shopify route is prefixed by the shop's domain, so one server hosts many shops::

    POST /<shop>.myshopify.com/admin/api/2025-01/graphql.json
    GET  /<shop>.myshopify.com/admin/oauth/authorize      POST .../admin/oauth/access_token
    POST /<shop>.myshopify.com/staged-uploads/<token>      (form POST; PUT for PUT targets)
    GET  /<shop>.myshopify.com/cdn/files/<id>/<filename>   GET /<shop>.myshopify.com/bulk/<id>.jsonl

and the sandbox's own routes live under ``/__sandbox`` (see :mod:`sandbox.shopify.admin`).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from sandbox.common.serve import Served, serve
from sandbox.shopify.admin import admin_blueprint
from sandbox.shopify.admin_merchant import merchant_blueprint
from sandbox.shopify.billing import billing_blueprint
from sandbox.shopify.config import ShopifySandboxConfig
from sandbox.shopify.embedded_admin import embedded_admin_blueprint
from sandbox.shopify.graphql_api import graphql_blueprint
from sandbox.shopify.oauth import oauth_blueprint
from sandbox.shopify.schema import admin_schema
from sandbox.shopify.store import Sandbox
from sandbox.shopify.uploads import storage_blueprint

EXTENSION_KEY = "shopify_sandbox"
_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def shopify_error(status: int, code: str, message: str) -> Response:
    """An injected fault in the shape Shopify's edge answers with."""
    text = "Throttled" if status == 429 else _REASONS.get(status, message)
    return Response(json.dumps({"errors": text}), status=status, mimetype="application/json")


def create_app(config: ShopifySandboxConfig | None = None) -> Flask:
    """A Flask app emulating the Shopify Admin API for many shops (:func:`sandbox_of` gives its state)."""
    config = config or ShopifySandboxConfig()
    admin_schema()  # load the big schema once, before the first request
    sb = Sandbox(config)
    app = Flask(__name__)
    app.extensions[EXTENSION_KEY] = sb
    sb.faults.install(app, exempt_prefixes=("/__sandbox",), render_error=shopify_error)

    @app.before_request
    def learn_base_url() -> None:
        sb.remember_base_url(request.host_url)

    @app.errorhandler(Exception)
    def internal_error(exc: Exception) -> Response | HTTPException:
        if isinstance(exc, HTTPException):
            return exc
        app.logger.exception("Shopify sandbox failed on %s %s", request.method, request.path)
        return shopify_error(500, "internal", "Internal Server Error")

    app.register_blueprint(admin_blueprint(sb))
    app.register_blueprint(merchant_blueprint(sb))
    app.register_blueprint(oauth_blueprint(sb))
    app.register_blueprint(graphql_blueprint(sb))
    app.register_blueprint(storage_blueprint(sb))
    app.register_blueprint(embedded_admin_blueprint(sb))
    app.register_blueprint(billing_blueprint(sb))
    sb.start()
    return app


def sandbox_of(app: Flask) -> Sandbox:
    """The :class:`Sandbox` behind an app made by :func:`create_app`."""
    sb: Sandbox = app.extensions[EXTENSION_KEY]
    return sb


@dataclass
class RunningSandbox:
    """A sandbox served on loopback: its URL, its state and a way to stop both."""

    app: Flask
    sandbox: Sandbox
    served: Served

    @property
    def url(self) -> str:
        return self.served.url

    def shop_url(self, shop: str) -> str:
        """Base URL of one shop (what the connector's ``{shop}`` URL template should produce)."""
        return f"{self.url}/{shop}"

    def stop(self) -> None:
        self.sandbox.stop()
        self.served.stop()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(
    config: ShopifySandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> RunningSandbox:
    """Serve a new sandbox in background threads (port 0: any free port)."""
    config = config or ShopifySandboxConfig()
    app = create_app(config)
    sb = sandbox_of(app)
    served = serve(app, host=host, port=port)
    if config.public_url is None:
        sb.remember_base_url(served.url)
    return RunningSandbox(app=app, sandbox=sb, served=served)


def run(host: str = "127.0.0.1", port: int = 8081, config: ShopifySandboxConfig | None = None) -> None:
    """Serve a sandbox in the foreground until interrupted (the ``connector sandbox`` command)."""
    running = start(config, host, port)
    shops = ", ".join(running.sandbox.state.shops) or "none yet (POST /__sandbox/shops)"
    print(f"Shopify sandbox serving on {running.url} — shops: {shops}", flush=True)
    stop = threading.Event()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
