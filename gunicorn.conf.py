"""gunicorn's settings for the web process (gunicorn reads ./gunicorn.conf.py; the Procfile runs it here).

Command-line options (workers, bind, timeout in the Procfile) are applied on top of these.
"""

from __future__ import annotations

import gc
from typing import Any


def post_worker_init(worker: Any) -> None:
    """Move everything the app loaded (adapters, GraphQL schema, ORM mappers) out of the garbage
    collector's sight: its full passes over those objects paused requests by 100 ms and more."""
    gc.freeze()
