"""``connector sandbox``: both store emulators on loopback, seeded, until Ctrl-C."""

from __future__ import annotations

import json
import threading
from urllib.parse import urlsplit

import click

from sandbox.shopify import AppConfig, ShopifySandboxConfig, ShopSeed
from sandbox.shopify import start as start_shopify
from sandbox.woocommerce import WooSandboxConfig, serve_sandbox


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--shopify-port", default=8081, show_default=True)
@click.option("--woo-port", default=8082, show_default=True)
@click.option("--seed", default=1, show_default=True, help="Catalog seed.")
@click.option("--size", default=20, show_default=True, help="Products per store (5 to 10000).")
@click.option("--profile", type=click.Choice(["demo", "mixed", "clean"]), default="mixed", show_default=True)
@click.option("--api-key", default="sandbox-app-key", show_default=True, help="The Shopify app's key.")
@click.option(
    "--api-secret", default="sandbox-app-secret", show_default=True, help="The Shopify app's secret."
)
@click.option("--webhook-delay", default=5.0, show_default=True, help="WooCommerce delivery delay (s).")
def sandbox_command(
    host: str,
    shopify_port: int,
    woo_port: int,
    seed: int,
    size: int,
    profile: str,
    api_key: str,
    api_secret: str,
    webhook_delay: float,
) -> None:
    """Serve a Shopify shop and a WooCommerce site on loopback, seeded with a catalog."""
    shopify = start_shopify(
        ShopifySandboxConfig(
            apps=(AppConfig(api_key, api_secret),), shops=(ShopSeed("sandbox-shop", seed, size, profile),)
        ),
        host,
        shopify_port,
    )
    woo = serve_sandbox(
        WooSandboxConfig(webhook_delay=webhook_delay, allow_http_callback=True), host, woo_port
    )
    creds = woo.create_site("sandbox-site", seed=seed, size=size, profile=profile)
    click.echo(f"Shopify sandbox: {shopify.url}  shop sandbox-shop.myshopify.com")
    click.echo(
        f"  connector env: SHOPIFY_BASE_URL_TEMPLATE={shopify.url}/{{shop}} "
        f"SHOPIFY_API_KEY={api_key} SHOPIFY_API_SECRET={api_secret} "
        f"OUTBOUND_ALLOW_HOSTS={urlsplit(shopify.url).netloc},{urlsplit(woo.url).netloc}"
    )
    click.echo("  install: open <PUBLIC_URL>/install/shopify?shop=sandbox-shop.myshopify.com")
    click.echo(f"WooCommerce sandbox: {creds.url}")
    click.echo(f"  install: open <PUBLIC_URL>/install/woocommerce?shop={creds.url}")
    click.echo(f"  keys: {json.dumps(creds.as_dict())}")
    click.echo("state: GET /__sandbox/... on either server. Ctrl-C stops.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        woo.stop()
        shopify.stop()
