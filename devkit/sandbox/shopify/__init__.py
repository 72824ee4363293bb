"""A local emulator of the Shopify Admin GraphQL API (the 2025-01 schema, answered for 2025-01 to
2026-10), many shops on one loopback server.

from sandbox.shopify import ShopifySandboxConfig, create_app, start
running = start(fast_config(shops=(ShopSeed("demo", seed=1, size=20),)))
running.url  # http://127.0.0.1:PORT ; shop base URL: f"{running.url}/demo.myshopify.com"
"""

from sandbox.shopify.app import RunningSandbox, create_app, run, sandbox_of, start
from sandbox.shopify.config import (
    API_VERSION,
    DEFAULT_SCOPES,
    AppConfig,
    ShopifySandboxConfig,
    ShopSeed,
    fast_config,
)
from sandbox.shopify.store import Sandbox

__all__ = [
    "API_VERSION",
    "DEFAULT_SCOPES",
    "AppConfig",
    "RunningSandbox",
    "Sandbox",
    "ShopSeed",
    "ShopifySandboxConfig",
    "create_app",
    "fast_config",
    "run",
    "sandbox_of",
    "start",
]
