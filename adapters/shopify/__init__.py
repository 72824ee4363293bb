"""Shopify behind the platform port: GraphQL Admin API, expiring offline tokens, Files API media."""

from adapters.shopify.app import ShopifyApp
from adapters.shopify.client import ShopifyClient
from adapters.shopify.config import ShopifyConfig

__all__ = ["ShopifyApp", "ShopifyClient", "ShopifyConfig"]
