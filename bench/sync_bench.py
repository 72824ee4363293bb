"""Catalog volume: a full sync of large sandbox stores through the connector's adapters.

    .venv/bin/python bench/sync_bench.py [--quick] [--shopify-products 10000] [--woo-products 2000]

A DevStack serves a Shopify shop of ``--shopify-products`` products twice (same seed: the same
catalog) and a WooCommerce site of ``--woo-products``; the connector is installed into each through
its install flow, in paused mode, and no worker runs, so nothing is processed.  Each sync is
``connector.sync.sync_store`` (a full sync into an empty database store) in its own subprocess, so
the figures are the sync's alone: wall time, products/s, HTTP requests the process sent, the
Shopify client's GraphQL counters (requests, throttled answers, seconds waited for cost points)
and the process's peak RSS (VmHWM) against its RSS before the sync.

Shopify is synced once by bulk operation (``SHOPIFY_BULK_THRESHOLD=1``) and once by pages (``0``).
The bulk sync's bound is the export's own time on the sync's clock: from the sync's start until
the platform's JSONL files are complete and downloaded (what any sync must wait for before it
knows the catalog); the ratio is the whole sync's time over it.  Paging is bounded by the cost
bucket (1000 points, restoring 50/s on a standard plan), so the paged sync stops listing after
``--pages-budget`` seconds and its rate is projected to the whole catalog.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from benchkit import bench_env, counting_http, machine_summary, peak_rss_mib, rss_mib
from sandbox.devstack import DevStack

from connector.port import PlatformApp, RemoteProduct, StoreClient

# ---------------------------------------------------------------------------- instrumentation


class BudgetedClient:
    """A store client whose product listing stops after a time budget; notes when the first product came.

    It also notes when the client last finished downloading a file (a bulk export's JSONL), as a
    ``time.perf_counter()`` reading, so the export's end is measured on the sync's clock.
    """

    def __init__(self, client: StoreClient, budget: float | None) -> None:
        self.client = client
        self.budget = budget
        self.first_product_after: float | None = None
        self.downloaded_at: float | None = None
        download = getattr(client, "_download", None)
        if download is not None:

            def timed(*args: Any, **kwargs: Any) -> Any:
                result = download(*args, **kwargs)
                self.downloaded_at = time.perf_counter()
                return result

            client._download = timed  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def iter_products(self, updated_since: datetime | None = None) -> Iterator[RemoteProduct]:
        started = time.perf_counter()
        for product in self.client.iter_products(updated_since):
            if self.first_product_after is None:
                self.first_product_after = time.perf_counter() - started
            yield product
            if self.budget is not None and time.perf_counter() - started > self.budget:
                return


class RecordingApp:
    """A platform app that hands out its usual clients, wrapped in :class:`BudgetedClient`, and keeps them."""

    def __init__(self, app: PlatformApp, budget: float | None) -> None:
        self.app = app
        self.budget = budget
        self.clients: list[BudgetedClient] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    def client(self, shop: str, credentials: Mapping[str, Any], on_credentials: Any = None) -> StoreClient:
        wrapped = BudgetedClient(self.app.client(shop, credentials, on_credentials), self.budget)
        self.clients.append(wrapped)
        return cast(StoreClient, wrapped)


# ------------------------------------------------------------------------------ one sync


@dataclass(frozen=True)
class SyncFigures:
    label: str
    catalog: int
    products: int
    images: int
    seconds: float
    first_product_after: float
    export_seconds: float  # from the sync's start until the last JSONL was downloaded (bulk only)
    http_requests: int
    graphql: dict[str, float] | None
    rss_before: float
    peak_rss: float

    @property
    def rate(self) -> float:
        return self.products / self.seconds if self.seconds else 0.0


def _sync_child(
    env: dict[str, str], store_id: int, bulk_threshold: int, budget: float | None, label: str, out: Any
) -> None:
    """Run one full sync in this (fresh) process and send its figures back."""
    from connector.platforms import build_platforms
    from connector.services import Services
    from connector.settings import Settings
    from connector.sync import sync_store

    settings = Settings.from_env({**env, "SHOPIFY_BULK_THRESHOLD": str(bulk_threshold)})
    apps = {name: RecordingApp(app, budget) for name, app in build_platforms(settings).items()}
    services = Services(settings, platforms=cast(dict[str, PlatformApp], apps))
    catalog = int(env.get("BENCH_CATALOG_SIZE", "0"))
    rss_before = rss_mib()
    with counting_http() as http:
        started = time.perf_counter()
        report = sync_store(services, store_id, full=True)
        seconds = time.perf_counter() - started
    client = next(c for app in apps.values() for c in app.clients)
    graphql = getattr(client.client, "graphql", None)
    stats = asdict(graphql.stats) if graphql is not None else None
    figures = SyncFigures(
        label,
        catalog,
        report.products,
        report.images,
        seconds,
        client.first_product_after or 0.0,
        client.downloaded_at - started if client.downloaded_at is not None else 0.0,
        http.sent,
        stats,
        rss_before,
        peak_rss_mib(),
    )
    out.put(asdict(figures))  # a plain dict: the class lives in __mp_main__ here


def run_sync(
    env: dict[str, str], store_id: int, label: str, catalog: int, bulk_threshold: int, budget: float | None
) -> SyncFigures:
    """One full sync of a store in a spawned subprocess."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    child_env = {**env, "BENCH_CATALOG_SIZE": str(catalog)}
    proc = ctx.Process(target=_sync_child, args=(child_env, store_id, bulk_threshold, budget, label, out))
    proc.start()
    figures = SyncFigures(**out.get(timeout=3600))
    proc.join(timeout=60)
    return figures


# ------------------------------------------------------------------------------ reporting


def platform_export_seconds(stack: DevStack, shop: str) -> float:
    """How long the Shopify sandbox ran the shop's bulk operations (created → completed), summed."""
    state = stack.shopify.sandbox.state.shop(shop)
    ops = state.bulk_operations.values() if state is not None else ()
    return sum(op.completed_at - op.created_at for op in ops if op.completed_at is not None)


def report(f: SyncFigures, platform_seconds: float = 0.0) -> None:
    partial = f.products < f.catalog
    print(f"\n--- {f.label}: {f.products} of {f.catalog} products, {f.images} images ---")
    print(
        f"{f.seconds:7.1f} s, {f.rate:7.1f} products/s; first product after {f.first_product_after:.1f} s; "
        f"{f.http_requests} HTTP requests"
    )
    if partial and f.rate:
        print(
            f"projected full sync of {f.catalog}: {f.catalog / f.rate / 60:.0f} min (stopped at the budget)"
        )
    if f.graphql is not None:
        g = f.graphql
        print(
            f"GraphQL: {g['requests']:.0f} requests, {g['throttled']:.0f} throttled, {g['retries']:.0f} "
            f"retries, {g['waited']:.1f} s waiting for cost points"
        )
        _bounds(f, g, platform_seconds)
    print(
        f"sync process RSS: {f.rss_before:.0f} MiB before, peak {f.peak_rss:.0f} MiB "
        f"(+{f.peak_rss - f.rss_before:.0f})"
    )


def _bounds(f: SyncFigures, g: dict[str, float], platform_seconds: float) -> None:
    """Each Shopify sync's figure against its platform bound, measured in the same sync."""
    if f.products and g.get("actual_points"):
        per_product = g["actual_points"] / f.products
        print(
            f"points: requested {g['requested_points']:.0f}, charged {g['actual_points']:.0f} "
            f"({per_product:.1f} a product); {f.products / max(g['requests'], 1):.1f} products a request"
        )
        if g.get("restore_rate") and "pages" in f.label:
            bound = g["restore_rate"] / per_product
            print(
                f"ratio products/s ÷ the bucket's bound ({g['restore_rate']:.0f} points/s ÷ "
                f"{per_product:.1f} points a product = {bound:.1f}/s): {f.rate / bound:.2f} "
                "(above 1 while the full starting bucket lasts)"
            )
    if f.export_seconds and f.products >= f.catalog and "bulk" in f.label:
        print(
            f"export: the platform ran its bulk operations for {platform_seconds:.1f} s; their JSONL "
            f"was downloaded {f.export_seconds:.1f} s after the sync started"
        )
        print(
            f"ratio sync ÷ export (both from the sync's start, the export until its JSONL is downloaded): "
            f"{f.seconds / f.export_seconds:.2f}  (goal ≤ 1.2)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 Shopify, 200 WooCommerce products")
    parser.add_argument("--shopify-products", type=int, default=10_000)
    parser.add_argument("--woo-products", type=int, default=2_000)
    parser.add_argument("--pages-budget", type=float, default=60.0, help="seconds of paged Shopify listing")
    parser.add_argument("--profile", default="mixed", help="sandbox catalog profile")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp folder")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (database)")
    args = parser.parse_args()
    shopify_n = 500 if args.quick else args.shopify_products
    woo_n = 200 if args.quick else args.woo_products
    budget = 15.0 if args.quick else args.pages_budget

    var_dir = Path(tempfile.mkdtemp(prefix="sync-bench-"))
    try:
        with DevStack(bench_env(var_dir, args.database_url)) as stack:
            seeded = time.perf_counter()
            bulk_store = stack.install_shopify(
                "sync-bulk.myshopify.com", seed=args.seed, size=shopify_n, profile=args.profile, mode="paused"
            )
            pages_store = stack.install_shopify(
                "sync-pages.myshopify.com",
                seed=args.seed,
                size=shopify_n,
                profile=args.profile,
                mode="paused",
            )
            woo_store = stack.install_woocommerce(
                "sync-woo", seed=args.seed, size=woo_n, profile=args.profile, mode="paused"
            )
            print(f"seeded and installed 3 stores in {time.perf_counter() - seeded:.1f} s")
            runs = [
                (bulk_store, "Shopify, bulk operation", shopify_n, 1, None),
                (pages_store, "Shopify, by pages", shopify_n, 0, budget),
                (woo_store, "WooCommerce, by pages", woo_n, 0, None),
            ]
            for store_id, label, catalog, threshold, limit in runs:
                figures = run_sync(stack.env, store_id, label, catalog, threshold, limit)
                report(figures, platform_export_seconds(stack, "sync-bulk.myshopify.com"))
            print(f"\nsandboxes + web app (this process): peak RSS {peak_rss_mib():.0f} MiB")
    finally:
        if args.keep:
            print(f"kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)
    print(f"catalog profile {args.profile!r}, seed {args.seed}; database {args.database_url or 'SQLite'}")
    for line in machine_summary():
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
