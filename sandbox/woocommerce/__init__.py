"""A local WooCommerce 7.9 / WordPress 6.1 emulator: REST API v3, media, key grant and webhooks."""

from sandbox.woocommerce.app import RunningWooSandbox, SiteCredentials, WooSandbox, create_app, serve_sandbox
from sandbox.woocommerce.config import WooSandboxConfig

__all__ = [
    "RunningWooSandbox",
    "SiteCredentials",
    "WooSandbox",
    "WooSandboxConfig",
    "create_app",
    "serve_sandbox",
]
