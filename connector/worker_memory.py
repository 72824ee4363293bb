"""A worker that gives memory back after every job, and the queues each kind of worker serves.

A job's decoded photo, mask and intermediate arrays are freed when it returns, but glibc keeps
freed heap pages for reuse, so a long-running worker's resident set creeps up with every image
size it has seen.  :func:`release_memory` collects cycles and asks the allocator to return its
free pages (``malloc_trim``) — a few milliseconds after a job that took hundreds.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import lru_cache
from typing import Any

from connector.settings import Settings
from connector.worker import WatchedWorker


@lru_cache(maxsize=1)
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release_memory() -> None:
    """Free unreachable objects and return the allocator's free pages to the system (glibc only)."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


class LeanWorker(WatchedWorker):
    """The watched in-process worker (one model session for its life), releasing memory after each job."""

    def perform_job(self, *args: Any, **kwargs: Any) -> bool:
        """Run the job as rq does, then give its memory back."""
        try:
            return bool(super().perform_job(*args, **kwargs))
        finally:
            release_memory()


def worker_queue_names(settings: Settings, publisher: bool) -> list[str]:
    """Queues a worker serves, most urgent first.

    An image worker takes image work (sync, process) first and store writes when it has none; a
    publisher serves only store writes, so publishing overlaps the model's work.
    """
    if publisher:
        return [settings.rq_publish_queue]
    return list(dict.fromkeys([settings.rq_queue, settings.rq_publish_queue]))
