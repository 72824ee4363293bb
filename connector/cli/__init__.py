"""``connector`` — the operator's command line.  Every command loads ``.env`` first."""

from __future__ import annotations

import importlib
import json
import sys
import time
from typing import Any

import click
from sqlalchemy import or_, select

from connector import actions
from connector.errors import ConnectorError, NotFound
from connector.models import Image, ImageVersion, Product, Store
from connector.product_refs import resolve_product
from connector.runs import run_summary
from connector.services import Services, get_services

#: Commands that live in their own modules, imported only when used (a worker never loads the sandboxes).
LAZY_COMMANDS = {
    "try": ("connector.cli.try_command", "try_command"),
    "sandbox": ("sandbox.cli", "sandbox_command"),
    "demo": ("sandbox.demo", "demo_command"),
}


class ConnectorGroup(click.Group):
    """Turns the service's errors into one clear line and exit code 2 instead of a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            module, attr = LAZY_COMMANDS[cmd_name]
            command: click.Command = getattr(importlib.import_module(module), attr)
            return command
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConnectorError as exc:
            click.echo(f"error: {exc.message}", err=True)
            if exc.hint:
                click.echo(f"  what to do: {exc.hint}", err=True)
            sys.exit(2)


@click.group(cls=ConnectorGroup)
def main() -> None:
    """Image connector: product photos through a production workflow, safely back to the store."""


def svc() -> Services:
    """The services, with the database schema brought up to date."""
    services = get_services()
    services.migrate()
    return services


PRODUCT_HELP = "The store's product id (or id:<n> for the connector's id, as `history` shows)."


def resolve_store(services: Services, ref: str) -> int:
    """A store id from an id or a domain."""
    with services.session() as s:
        query = select(Store.id).where(
            or_(Store.domain == ref, Store.id == (int(ref) if ref.isdigit() else -1))
        )
        store_id = s.scalar(query)
    if store_id is None:
        raise NotFound(f"no store {ref!r}", hint="list them with `connector stores`")
    return store_id


def wait_for_run(services: Services, run_id: int, timeout: float = 3600) -> dict[str, Any]:
    """Poll a run until none of its jobs is queued or retrying."""
    deadline = time.monotonic() + timeout
    summary = run_summary(services, run_id)
    while time.monotonic() < deadline:
        summary = run_summary(services, run_id)
        jobs = summary.get("jobs", {})
        if jobs and not jobs.get("queued") and not jobs.get("retrying"):
            break
        time.sleep(0.5)
    return summary


def _announce(services: Services, run_id: int, wait: bool) -> None:
    """Say a run was queued; with --wait, wait for it and print its summary."""
    click.echo(f"run {run_id} queued")
    if wait:
        _print(wait_for_run(services, run_id))


def _print(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, default=str))


@main.command()
def init() -> None:
    """Create or upgrade the database schema."""
    services = svc()
    click.echo(f"database ready: {services.settings.database_url}")


@main.command()
def keygen() -> None:
    """Print a new ENCRYPTION_KEY."""
    from connector.crypto import new_key

    click.echo(new_key())


@main.command()
def model() -> None:
    """Fetch the default model (u2netp) into U2NET_HOME, checked by md5."""
    from connector.model_fetch import ensure_u2netp

    click.echo(ensure_u2netp(get_services().settings.u2net_home))


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
def web(host: str, port: int) -> None:
    """Run the web app (development server; production uses gunicorn, see Procfile)."""
    from connector.web import create_app

    create_app(svc()).run(host=host, port=port)


@main.command()
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@click.option(
    "--fork", is_flag=True, help="Run each job in a forked child (isolation; reloads the model per job)."
)
@click.option(
    "--publisher", is_flag=True, help="Serve only store writes (publish, rollback, resume); loads no model."
)
def worker(burst: bool, fork: bool, publisher: bool) -> None:
    """Run an rq worker on the image queue, then the publish queue (production: many of these).

    By default jobs run in the worker process itself, so the model session is loaded once and
    reused, and memory is given back after every job.  On start the worker queues the resumption
    of operations a killed worker left behind.
    """
    from connector.logs import configure_logging
    from connector.safety import refuse_unsafe_start
    from connector.worker import WatchedForkWorker
    from connector.worker_memory import LeanWorker, worker_queue_names
    from jobs.tasks import queue_resumptions

    services = svc()
    refuse_unsafe_start(services.settings)
    configure_logging(services.settings)
    resumed = queue_resumptions(services)
    if resumed:
        click.echo(f"queued resumption of {resumed} unfinished operation(s)", err=True)
    worker_class = WatchedForkWorker if fork else LeanWorker
    queues = [services.queue(name) for name in worker_queue_names(services.settings, publisher)]
    rq_worker = worker_class(queues, connection=services.redis)
    rq_worker.work(burst=burst, with_scheduler=not burst, logging_level=services.settings.log_level)


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
        _print(effective.to_dict())


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
    _announce(services, run_id, wait)


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
    _announce(services, run_id, wait)


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
    if wait and n:
        _print(wait_for_run(services, new_run))


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


@main.command()
def resume() -> None:
    """Finish (or undo) every operation a killed worker left unfinished."""
    from connector.publish import resume_operation, unfinished_operations

    services = svc()
    ops = unfinished_operations(services)
    for op_id in ops:
        result = resume_operation(services, op_id)
        click.echo(f"operation {op_id}: {result.state}{' — ' + result.reason if result.reason else ''}")
    if not ops:
        click.echo("no unfinished operations")


@main.command("run")
@click.argument("run_id", type=int)
def show_run(run_id: int) -> None:
    """Summary of a run."""
    _print(run_summary(svc(), run_id))
