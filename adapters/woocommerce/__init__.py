"""The WooCommerce adapter: REST API v3 (OAuth 1.0a over http, Basic over https) and wp/v2 media."""

from adapters.outbound import OutboundPolicy
from adapters.woocommerce.app import WooCommerceApp
from adapters.woocommerce.client import WooCommerceClient
from adapters.woocommerce.config import WooConfig
from adapters.woocommerce.http import RetryPolicy
from connector.port import PlatformContext

__all__ = ["RetryPolicy", "WooCommerceApp", "WooCommerceClient", "WooConfig", "build_app"]


def build_app(context: PlatformContext) -> WooCommerceApp:
    """The WooCommerce app from the service's configuration (``WOO_APP_NAME``, ``WOO_ALLOW_HTTP_CALLBACK``:
    installs with an http callback, which only the sandbox's emulated stores accept)."""
    allow_http = (context.env.get("WOO_ALLOW_HTTP_CALLBACK") or "").strip().lower() in {"1", "true", "yes"}
    config = WooConfig(
        app_name=context.env.get("WOO_APP_NAME") or "Image Connector",
        timeout=context.http_timeout,
        outbound=OutboundPolicy.from_context(context),
        allow_http_callback=allow_http,
    )
    return WooCommerceApp(config=config)
