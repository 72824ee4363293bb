"""Fault injection for tests: make this process die or raise at a named stage.

``CONNECTOR_KILL_AT=<stage>:<when>`` SIGKILLs the process there (a killed worker);
``CONNECTOR_FAIL_AT=<stage>`` raises :class:`InjectedFault` there, an error that is none of the
connector's own (like a PIL or database error would be).  Both are empty in production.
"""

from __future__ import annotations

import os
import signal

from connector.settings import Settings


class InjectedFault(RuntimeError):
    """An unexpected error raised on purpose by a test (deliberately not a ConnectorError)."""


def kill_point(settings: Settings, step: str, when: str) -> None:
    """SIGKILL this process at ``CONNECTOR_KILL_AT=step:when``."""
    if settings.kill_at == f"{step}:{when}":
        os.kill(os.getpid(), signal.SIGKILL)


def fail_point(settings: Settings, stage: str) -> None:
    """Raise :class:`InjectedFault` at ``CONNECTOR_FAIL_AT=stage``."""
    if settings.fail_at == stage:
        raise InjectedFault(f"injected failure at {stage}")
