"""What the parts of :class:`~adapters.shopify.client.ShopifyClient` share (set by its ``__init__``)."""

from __future__ import annotations

import requests

from adapters.http_retry import RetryPolicy
from adapters.shopify.config import ShopifyConfig
from adapters.shopify.graphql import AdminGraphQL
from adapters.shopify.http import Runtime


class ClientState:
    """The shop, its configuration, HTTP session, retry policy and GraphQL endpoint."""

    config: ShopifyConfig
    shop: str
    runtime: Runtime
    session: requests.Session
    retry: RetryPolicy
    graphql: AdminGraphQL
