"""A WooCommerce 7.9 / WordPress 6.1 emulator: REST v3, media, key grant, Application Passwords, webhooks."""

from sandbox.woocommerce.app import RunningWooSandbox, SiteCredentials, WooSandbox, create_app, serve_sandbox
from sandbox.woocommerce.browser import BrowserError, MerchantBrowser
from sandbox.woocommerce.config import WooSandboxConfig

__all__ = [
    "BrowserError",
    "MerchantBrowser",
    "RunningWooSandbox",
    "SiteCredentials",
    "WooSandbox",
    "WooSandboxConfig",
    "create_app",
    "serve_sandbox",
]
