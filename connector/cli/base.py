"""The ``connector`` command group and what its commands share: the service, store look-up, runs.

Commands live in :mod:`connector.cli.service_commands` and :mod:`connector.cli.store_commands`;
installed extras add theirs through the ``connector.commands`` entry points (the devkit adds
``demo`` and ``sandbox``), so the product never names them.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from importlib.metadata import entry_points
from typing import Any

import click
from sqlalchemy import or_, select

from connector.errors import ConnectorError, NotFound
from connector.models import Store
from connector.runs import run_summary
from connector.services import Services, get_services
from connector.states import RunStatus

#: Commands that live in their own modules, imported only when used (a worker never loads the sandboxes).
LAZY_COMMANDS = {
    "try": ("connector.cli.try_command", "try_command"),
}
#: Entry-point group through which installed extras add commands.
COMMAND_GROUP = "connector.commands"


def _plugin_commands() -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group=COMMAND_GROUP)}


class ConnectorGroup(click.Group):
    """Turns the service's errors into one clear line and exit code 2 instead of a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS, *_plugin_commands()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = LAZY_COMMANDS.get(cmd_name) or _plugin_commands().get(cmd_name, "").partition(":")[::2]
        if target and target[0]:
            module, attr = target
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
    """The services, after checking the database schema is the one this code needs."""
    services = get_services()
    services.require_schema()  # ConfigurationError: says to run `connector migrate`
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


#: ``--wait`` exit codes: the run ended with failures or was cancelled; it did not end in time
EXIT_FAILURES, EXIT_TIMEOUT = 1, 3


def wait_for_run(services: Services, run_id: int, timeout: float = 3600) -> dict[str, Any]:
    """Poll a run until it has ended (none of its jobs is live any more) or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    summary = run_summary(services, run_id)
    while not summary.get("finished") and time.monotonic() < deadline:
        time.sleep(0.5)
        summary = run_summary(services, run_id)
    return summary


def wait_and_exit(services: Services, run_id: int, timeout: float) -> None:
    """Wait for a run, print its summary, and exit non-zero unless it ended "done"."""
    summary = wait_for_run(services, run_id, timeout)
    print_json(summary)
    if not summary.get("finished"):
        click.echo(f"run {run_id} has not ended after {timeout:.0f} s; see `connector status`", err=True)
        sys.exit(EXIT_TIMEOUT)
    click.echo(f"run {run_id}: {summary['outcome']}", err=True)
    if summary["status"] != RunStatus.DONE.value:
        sys.exit(EXIT_FAILURES)


def announce(services: Services, run_id: int, wait: bool, timeout: float = 3600) -> None:
    """Say a run was queued; with --wait, wait for it, print its summary and exit with its outcome."""
    click.echo(f"run {run_id} queued")
    if wait:
        wait_and_exit(services, run_id, timeout)


def print_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, default=str))
