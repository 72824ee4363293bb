"""Commands that run or look after the service: migrate, web, worker, resume, reconcile, status."""

from __future__ import annotations

import sys

import click

from connector.cli.base import (
    main,
    print_json,
    svc,
)
from connector.services import get_services


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema (one process at a time; the Procfile's release step)."""
    services = get_services()
    services.migrate()
    click.echo(f"database ready: {services.settings.database_url}")


main.add_command(migrate, "init")  # the older name of the same step


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
    from connector.worker_loop import wait_for_schema

    services = get_services()
    wait_for_schema(services, services.settings.schema_wait)
    create_app(services).run(host=host, port=port)


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
    reused, and memory is given back after every job.  It waits for `connector migrate`, reconciles
    the queue with the database at start and periodically (resuming what a killed worker left
    behind), and reconnects when Redis goes away.
    """
    from connector.logs import configure_logging
    from connector.safety import refuse_unsafe_start
    from connector.settings import Settings
    from connector.worker_loop import run_worker, wait_for_schema
    from connector.worker_memory import rerun_with_huge_pages, worker_queue_names

    if not (publisher or burst):  # a long-running image worker: its inferences pay for the re-run
        rerun_with_huge_pages(sys.argv[1:], Settings.from_env().worker_huge_pages)
    services = get_services()
    refuse_unsafe_start(services.settings)
    configure_logging(services.settings)
    wait_for_schema(services, services.settings.schema_wait)
    run_worker(services, worker_queue_names(services.settings, publisher), burst=burst, fork=fork)


@main.command()
def resume() -> None:
    """Finish (or undo) every operation a killed worker left unfinished."""
    from connector.rollback import resume_operation, unfinished_operations

    services = svc()
    ops = unfinished_operations(services)
    for op_id in ops:
        result = resume_operation(services, op_id)
        click.echo(f"operation {op_id}: {result.state}{' — ' + result.reason if result.reason else ''}")
    if not ops:
        click.echo("no unfinished operations")


@main.command()
@click.option("--grace", default=60.0, show_default=True, help="Seconds work may look stuck first.")
def reconcile(grace: float) -> None:
    """Repair the queue from the database: re-queue lost work, fail what no worker holds, end runs."""
    from connector.reconcile import reconcile as run_reconcile

    print_json(run_reconcile(svc(), actor="cli", grace=grace))


@main.command()
def status() -> None:
    """Queue depth per queue, live workers, running/stuck/failed work by reason, last reconcile."""
    from connector.status import service_status

    print_json(service_status(svc()))
