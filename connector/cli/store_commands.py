"""Commands on stores and their photos: add and configure stores, resync, review, approve, roll back."""

from __future__ import annotations

import json

import click
from sqlalchemy import select

from connector import actions
from connector.cli.base import (
    PRODUCT_HELP,
    announce,
    main,
    print_json,
    resolve_store,
    svc,
    wait_and_exit,
)
from connector.models import Image, ImageVersion, Product, Store
from connector.product_refs import resolve_product
from connector.runs import run_summary


@main.command("stores")
def list_stores() -> None:
    """List installed stores."""
    with svc().session() as s:
        for store in s.scalars(select(Store).order_by(Store.id)):
            state = "active" if store.active else "uninstalled"
            click.echo(f"{store.id}\t{store.platform}\t{store.domain}\tmode={store.mode}\t{state}")


@main.command("add-store")
@click.argument("platform")
@click.argument("domain")
@click.option("--credentials", "creds", required=True, help="JSON object of the store's credentials.")
@click.option("--mode", type=click.Choice(["auto", "review"]), default=None)
def add_store(platform: str, domain: str, creds: str, mode: str | None) -> None:
    """Register a store whose credentials you already have (the install link does this for merchants).

    The credentials are merged with the store's, checked on the store, then webhooks are registered
    and the first sync is queued."""
    from connector.onboarding import add_store_by_hand

    services = svc()
    store_id, shop = add_store_by_hand(services, platform, domain, json.loads(creds), mode=mode)
    click.echo(f"store {store_id}: {platform} {shop} (webhooks registered, first sync queued)")


@main.command()
@click.argument("store")
@click.option(
    "--mode", type=click.Choice(["auto", "review", "paused"]), help="auto publishes what passes QA."
)
@click.option("--preset", help="Studio preset: clean-white, transparent, marketplace.")
@click.option("--model", help="rembg model by name (its file must be in U2NET_HOME).")
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=JSON",
    help="Pipeline setting, e.g. --set margin=0.08 --set 'thresholds={\"halo\": [0.2, 0.4]}'.",
)
def configure(
    store: str, mode: str | None, preset: str | None, model: str | None, overrides: tuple[str, ...]
) -> None:
    """Change how a store's photos are processed and published (checked before saving)."""
    from connector.processing import store_pipeline_settings

    services = svc()
    with services.session() as s:
        row = s.get(Store, resolve_store(services, store))
        assert row is not None
        pipeline = dict((row.settings or {}).get("pipeline", {}))
        for item in overrides:
            key, _, value = item.partition("=")
            try:
                pipeline[key.strip()] = json.loads(value)
            except json.JSONDecodeError:
                pipeline[key.strip()] = value
        row.mode, row.preset, row.model = mode or row.mode, preset or row.preset, model or row.model
        row.settings = {**(row.settings or {}), "pipeline": pipeline}
        effective = store_pipeline_settings(services, row)  # ConfigurationError: unknown preset or setting
        click.echo(f"{row.domain}: mode={row.mode} preset={effective.preset} model={effective.model}")
        _warn_licence(effective.model)
        print_json(effective.to_dict())


def _warn_licence(model: str) -> None:
    from jobs.imaging.model_tiers import model_info

    info = model_info(model)
    if not info.commercial:
        click.echo(f"warning: {model} weights: {info.licence}; {info.note or 'check before commercial use'}")


@main.command()
@click.argument("store")
@click.option("--incremental", is_flag=True, help="Only products changed since the last sync.")
@click.option("--dry-run", is_flag=True, help="Process and report, but write nothing to the store.")
@click.option("--limit", type=int, help="Canary: only the first N products.")
@click.option("--wait", is_flag=True, help="Wait for the run's jobs and print its summary.")
def resync(store: str, incremental: bool, dry_run: bool, limit: int | None, wait: bool) -> None:
    """Mirror the store and process new images."""
    services = svc()
    run_id = actions.resync(
        services,
        resolve_store(services, store),
        full=not incremental,
        dry_run=dry_run,
        limit=limit,
        actor="cli",
    )
    announce(services, run_id, wait)


@main.command()
@click.argument("store")
@click.option("--image", "image_id", type=int)
@click.option("--product", "product", help=PRODUCT_HELP)
@click.option("--wait", is_flag=True)
def reprocess(store: str, image_id: int | None, product: str | None, wait: bool) -> None:
    """Process images again with the store's current settings."""
    services = svc()
    store_id = resolve_store(services, store)
    run_id = actions.reprocess(
        services,
        store_id=store_id,
        image_id=image_id,
        product_id=resolve_product(services, store_id, product) if product is not None else None,
        actor="cli",
    )
    announce(services, run_id, wait)


@main.command()
@click.argument("store")
def review(store: str) -> None:
    """List results waiting for approval."""
    services = svc()
    with services.session() as s:
        for image in s.scalars(
            select(Image).where(Image.store_id == resolve_store(services, store), Image.status == "review")
        ):
            version = actions.latest_result(services, image.id)
            click.echo(f"image {image.id}\tversion {version.id}\t{'; '.join(version.reasons or [])}")


@main.command()
@click.argument("version_id", type=int)
def approve(version_id: int) -> None:
    """Approve a result version and queue its publication."""
    actions.approve(svc(), version_id, actor="cli")
    click.echo(f"version {version_id} approved; publication queued")


@main.command()
@click.argument("version_id", type=int)
def reject(version_id: int) -> None:
    """Reject a result version; the original stays."""
    actions.reject(svc(), version_id, actor="cli")
    click.echo(f"version {version_id} rejected")


@main.command()
@click.argument("store")
@click.option(
    "--apply", "apply_", is_flag=True, help="Save the proposed thresholds (default: only show them)."
)
def calibrate(store: str, apply_: bool) -> None:
    """Propose QA thresholds from the store's approve/reject decisions and show what would change."""
    from connector.qa_learning import apply_proposal, propose_for_store

    services = svc()
    store_id = resolve_store(services, store)
    proposal = propose_for_store(services, store_id)
    for line in proposal.lines():
        click.echo(line)
    if apply_ and proposal.changed_gates:
        apply_proposal(services, store_id, proposal)
        click.echo("applied: the store's thresholds are saved; reprocess to judge its photos with them")
    elif proposal.changed_gates:
        click.echo("not applied: run again with --apply to save these thresholds")


@main.command()
@click.argument("store")
@click.option("--image", "image_id", type=int)
@click.option("--product", "product", help=PRODUCT_HELP)
@click.option("--run", "run_id", type=int)
@click.option("--why", default="operator rollback")
@click.option("--wait", is_flag=True)
def rollback(
    store: str, image_id: int | None, product: str | None, run_id: int | None, why: str, wait: bool
) -> None:
    """Put originals back: one image, a product, a run, or (no option) the whole store."""
    services = svc()
    store_id = resolve_store(services, store)
    new_run, n = actions.rollback(
        services,
        store_id=store_id,
        image_id=image_id,
        product_id=resolve_product(services, store_id, product) if product is not None else None,
        run_id=run_id,
        actor="cli",
        why=why,
    )
    click.echo(f"rollback run {new_run}: {n} images queued")
    if wait:
        wait_and_exit(services, new_run, 3600)


@main.command()
@click.argument("store")
@click.argument("product")
def history(store: str, product: str) -> None:
    """Every version of every image of a product (the store's product id, or id:<connector id>)."""
    services = svc()
    store_id = resolve_store(services, store)
    with services.session() as s:
        prod = s.get(Product, resolve_product(services, store_id, product))
        assert prod is not None
        click.echo(f"{prod.title} ({prod.platform_id})")
        for image in prod.images:
            click.echo(
                f"  image {image.id} slot {image.position} [{image.status}] shows {image.platform_media_id}"
            )
            for v in s.scalars(
                select(ImageVersion).where(ImageVersion.image_id == image.id).order_by(ImageVersion.id)
            ):
                click.echo(
                    f"    v{v.id} {v.kind:8} {v.state:10} {v.verdict or '':6} blob {v.blob_hash[:12]} "
                    f"media {v.platform_media_id or '-'} by {v.actor} at {v.created_at:%Y-%m-%d %H:%M:%S} "
                    f"— {v.why}"
                )


@main.command("run")
@click.argument("run_id", type=int)
@click.option("--wait", is_flag=True, help="Wait for the run to end; exit 1 when anything failed.")
@click.option("--timeout", default=3600.0, show_default=True, help="Seconds --wait waits at most (exit 3).")
def show_run(run_id: int, wait: bool, timeout: float) -> None:
    """Summary of a run."""
    if wait:
        wait_and_exit(svc(), run_id, timeout)
    else:
        print_json(run_summary(svc(), run_id))


@main.command("cancel")
@click.argument("run_id", type=int)
def cancel(run_id: int) -> None:
    """Cancel a run: its queued jobs are taken off the queue, and it ends "cancelled"."""
    from connector.runs import cancel_run

    click.echo(f"run {run_id}: {cancel_run(svc(), run_id)} job(s) cancelled")
