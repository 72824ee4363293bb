"""``python -m sandbox.shopify``: serve the Shopify sandbox on loopback.

python -m sandbox.shopify --port 8081 --shop demo:1:20:demo --api-key KEY --api-secret SECRET
"""

from __future__ import annotations

import argparse

from sandbox.shopify.app import run
from sandbox.shopify.config import AppConfig, ShopifySandboxConfig, ShopSeed


def _shop(text: str) -> ShopSeed:
    """``name[:seed[:size[:profile]]]``."""
    parts = text.split(":")
    name = parts[0]
    seed = int(parts[1]) if len(parts) > 1 and parts[1] else 1
    size = int(parts[2]) if len(parts) > 2 and parts[2] else 20
    profile = parts[3] if len(parts) > 3 and parts[3] else "mixed"
    return ShopSeed(name, seed, size, profile)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.shopify", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--shop", action="append", type=_shop, default=[], help="name[:seed[:size[:profile]]]"
    )
    parser.add_argument("--api-key", default="sandbox-api-key")
    parser.add_argument("--api-secret", default="sandbox-api-secret")
    parser.add_argument("--compliance-url", default=None)
    parser.add_argument(
        "--public-url", default=None, help="base URL the sandbox puts in the URLs it hands out"
    )
    parser.add_argument("--media-delay", type=float, default=2.0, help="seconds of media processing")
    args = parser.parse_args(argv)
    config = ShopifySandboxConfig(
        apps=(AppConfig(args.api_key, args.api_secret, compliance_url=args.compliance_url),),
        shops=tuple(args.shop),
        public_url=args.public_url,
        media_processing_delay=args.media_delay,
    )
    run(args.host, args.port, config)


if __name__ == "__main__":
    main()
