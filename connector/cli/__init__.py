"""``connector`` — the operator's command line.  Every command loads ``.env`` first."""

from connector.cli import service_commands, store_commands
from connector.cli.base import main

__all__ = ["main", "service_commands", "store_commands"]
