"""``make demo``: the whole job end to end against a local sandbox store, with a report.

Seeds a sandbox Shopify shop with the real example photos, installs the connector through OAuth
like a merchant, runs a real rq worker, lets the results through the quality gates (approving
what QA held for review, as an operator would after looking), then rolls one product back and
checks that the store serves the exact original bytes again.  Running it again resets its shop.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from connector import actions
from connector.erasure import erase_store
from connector.errors import ConnectorError
from connector.models import Image, ImageVersion, Product, Store, WebhookEventRecord
from connector.settings import get_settings, load_env_file
from sandbox.devstack import DevStack

SHOP = "demo-shop.myshopify.com"


def _reset(stack: DevStack) -> bool:
    with stack.services.session() as s:
        ids = list(s.scalars(select(Store.id).where(Store.domain == SHOP)))
    for store_id in ids:
        erase_store(stack.services, store_id)
    return bool(ids)


def _counts(stack: DevStack, store_id: int) -> dict[str, Any]:
    with stack.services.session() as s:
        images = list(s.scalars(select(Image).where(Image.store_id == store_id)))
        products = s.scalar(select(Product.id).where(Product.store_id == store_id).limit(1))
        verdicts = Counter(
            s.scalars(
                select(ImageVersion.verdict)
                .join(Image, Image.id == ImageVersion.image_id)
                .where(Image.store_id == store_id, ImageVersion.kind == "result")
            )
        )
        webhooks = Counter(
            s.scalars(select(WebhookEventRecord.outcome).where(WebhookEventRecord.shop == SHOP))
        )
        failed = [
            (i.product.title, i.failure_reason)
            for i in images
            if i.status in ("failed", "review") and i.failure_reason
        ]
        return {
            "products": len({i.product_id for i in images}) if products else 0,
            "images": len(images),
            "status": Counter(i.status for i in images),
            "verdicts": verdicts,
            "webhooks": webhooks,
            "reasons": failed,
        }


def _approve_reviews(stack: DevStack, store_id: int) -> list[str]:
    approved = []
    with stack.services.session() as s:
        held = list(s.scalars(select(Image).where(Image.store_id == store_id, Image.status == "review")))
        titles = {i.id: i.product.title for i in held}
    for image_id, title in titles.items():
        try:
            actions.approve(stack.services, actions.latest_result(stack.services, image_id).id, actor="demo")
            approved.append(title)
        except ConnectorError:
            continue  # no result to approve (a scene with no single subject): it stays for a person
    return approved


def run_demo(size: int, out: Any = click.echo) -> bool:
    """Run the demo; True when the rolled-back image is byte-identical to the original."""
    load_env_file()
    settings = get_settings()
    settings.require_secrets()
    env = {k: v for k, v in os.environ.items() if k.isupper()}
    env.setdefault("CONNECTOR_VAR_DIR", str(settings.var_dir))
    env["U2NET_HOME"] = str(settings.u2net_home)
    env["DEFAULT_MODE"] = "auto"
    log_dir = settings.var_dir / "demo"
    log_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with DevStack(env) as stack:
        if _reset(stack):
            out("reset the demo shop left by a previous run")
        stack.worker(log=log_dir / "worker.log")
        store_id = stack.install_shopify(SHOP, seed=7, size=size, profile="demo", mode="auto")
        before = stack.shopify_served(SHOP)
        out(
            f"installed the connector into {SHOP} (sandbox on {stack.shopify.url}) through OAuth; "
            f"first full sync queued"
        )
        stack.wait_idle(timeout=900)
        first = _counts(stack, store_id)
        approved = _approve_reviews(stack, store_id)
        stack.wait_idle(timeout=900)
        after_publish = _counts(stack, store_id)
        with stack.services.session() as s:  # roll back the first product the connector changed
            product = s.scalar(
                select(Product)
                .join(Image, Image.product_id == Product.id)
                .where(Product.store_id == store_id, Image.status == "published")
                .order_by(Product.id)
            )
            if product is None:
                raise ConnectorError("the demo published nothing", hint=f"see {log_dir / 'worker.log'}")
            product_id, platform_product_id, rollback_title = product.id, product.platform_id, product.title
        _run_id, queued = actions.rollback(
            stack.services,
            store_id=store_id,
            product_id=product_id,
            actor="demo",
            why="demo: show a byte-exact rollback",
        )
        stack.wait_idle(timeout=600)
        after = stack.shopify_served(SHOP)
        final = _counts(stack, store_id)
    identical = bool(queued) and after[platform_product_id] == before[platform_product_id]
    _report(
        out,
        first,
        after_publish,
        final,
        approved,
        (rollback_title, platform_product_id),
        queued,
        before,
        after,
        identical,
        settings.var_dir,
        time.monotonic() - started,
    )
    return identical


def _report(
    out: Any,
    first: dict,
    published: dict,
    final: dict,
    approved: list[str],
    product: tuple[str, str],
    queued: int,
    before: dict,
    after: dict,
    identical: bool,
    var_dir: Path,
    seconds: float,
) -> None:
    title, platform_id = product
    out("")
    out("=== Image connector demo: what it did ===")
    out(f"products synced:        {first['products']} ({first['images']} images)")
    v = first["verdicts"]
    out(
        f"images processed:       {sum(v.values())} — QA pass {v.get('pass', 0)}, "
        f"review {v.get('review', 0)}, "
        f"fail {v.get('fail', 0)}, already clean {v.get('skip', 0)}"
    )
    for product, reason in first["reasons"]:
        out(f"  {product}: {reason}")
    out(f"published automatically: {first['status'].get('published', 0)}")
    out(f"approved from review:   {len(approved)} ({', '.join(approved) or 'none'}) — as an operator would")
    out(f"replaced on the store:  {published['status'].get('published', 0)} images")
    hooks = final["webhooks"]
    again = sum(final["verdicts"].values()) - sum(first["verdicts"].values())
    out(
        f"webhooks from the store after our own changes: {sum(hooks.values())} "
        f"({', '.join(f'{k}: {n}' for k, n in hooks.items()) or 'none'}); "
        f"images reprocessed because of them: {again} (loop guard)"
    )
    out(f"rolled back:            product {title!r} ({queued} image)")
    for i, (b, a) in enumerate(zip(before[platform_id], after[platform_id], strict=False)):
        mark = "byte-identical" if a == b else "DIFFERENT"
        out(f"  slot {i}: original sha256 {b[:16]}… now served {a[:16]}… {mark}")
    out(f"final state:            {dict(final['status'])}")
    out(f"took {seconds:.0f} s")
    out("")
    out("where to look:")
    out(f"  database  {os.environ.get('DATABASE_URL') or var_dir / 'connector.db'}")
    out(f"  blobs     {var_dir / 'blobs'} (originals and results, by sha256)")
    out(f"  worker    {var_dir / 'demo' / 'worker.log'}")
    out("next:")
    out("  .venv/bin/connector web        # dashboard on http://127.0.0.1:8000 (history, review, rollback)")
    out(f"  .venv/bin/connector history {SHOP} {platform_id}")
    out("  .venv/bin/connector try devkit/sandbox/assets/rembg-examples  # the workflow, with a report")
    out("  make test                               # the whole suite")
    if not identical:
        out("ROLLBACK CHECK FAILED: the store does not serve the original bytes")


@click.command()
@click.option(
    "--size", default=8, show_default=True, help="Products in the demo shop (the first use real photos)."
)
def demo_command(size: int) -> None:
    """Run the main job end to end against a local sandbox store and print what it did."""
    if not run_demo(size):
        raise SystemExit(1)
