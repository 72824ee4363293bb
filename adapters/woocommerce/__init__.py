"""The WooCommerce adapter: REST API v3 (OAuth 1.0a over http, Basic over https) and wp/v2 media."""

from adapters.woocommerce.app import WooCommerceApp
from adapters.woocommerce.client import WooCommerceClient
from adapters.woocommerce.config import WooConfig
from adapters.woocommerce.http import RetryPolicy

__all__ = ["RetryPolicy", "WooCommerceApp", "WooCommerceClient", "WooConfig"]
