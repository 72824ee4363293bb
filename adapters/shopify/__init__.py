"""Shopify behind the platform port: GraphQL Admin API, expiring offline tokens, Files API media."""

from dataclasses import replace

from adapters.outbound import OutboundPolicy
from adapters.shopify.app import ShopifyApp
from adapters.shopify.client import ShopifyClient
from adapters.shopify.config import ShopifyConfig
from adapters.shopify.shared_bucket import SharedBuckets
from connector.port import PlatformContext

__all__ = ["ShopifyApp", "ShopifyClient", "ShopifyConfig", "build_app"]


def build_app(context: PlatformContext) -> ShopifyApp:
    """The Shopify app from the service's configuration.

    Shopify's cost bucket is per app and shop: with the deployment's shared state, every worker
    spends from one bucket per shop kept in Redis; without it, each process keeps its own.
    """
    config = replace(
        ShopifyConfig.from_env(context.env, timeout=context.http_timeout),
        outbound=OutboundPolicy.from_context(context),
    )
    shared = context.shared
    buckets = SharedBuckets(shared, context.http_timeout) if shared is not None else None
    return ShopifyApp(config, bucket_factory=buckets)
