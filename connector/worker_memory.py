"""A worker that gives memory back after every job, and the queues each kind of worker serves.

A job's decoded photo, mask and intermediate arrays are freed when it returns, but glibc keeps
freed heap pages for reuse, so a long-running worker's resident set creeps up with every image
size it has seen.  :func:`release_memory` collects cycles and asks the allocator to return its
free pages (``malloc_trim``) — a few milliseconds after a job that took hundreds.
:func:`tune_allocator` fixes glibc's mmap threshold at 1 MiB: by default it rises after the first
large free, so a worker's second big photo is built on the heap, where freed arrays are not
reused well, and peaks about 150 MiB higher than its first.

Returning memory has a price: the model's activations (about 270 MiB for u2netp) are mapped and
faulted in afresh by every inference, 64 000 page faults in 4 KiB pages, about a quarter of the
model's time.  :func:`huge_pages_environment` asks glibc for transparent huge pages on its mapped
chunks (``GLIBC_TUNABLES=glibc.malloc.hugetlb=1``; 2 MiB pages, about 130 faults an inference);
A long-running ``connector worker`` (not ``--burst``, not ``--publisher``) re-runs itself under it
once, as glibc reads tunables only at start.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import platform
import sys
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


#: glibc's mallopt parameter number for the mmap threshold, and the threshold the worker uses.
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1024 * 1024


def tune_allocator() -> None:
    """Serve every allocation of 1 MiB or more by mmap (returned to the system when freed)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)


#: The glibc tunable that puts malloc's mapped chunks on transparent huge pages.
HUGE_PAGES_TUNABLE = "glibc.malloc.hugetlb=1"


def huge_pages_environment(environ: dict[str, str], wanted: bool) -> dict[str, str] | None:
    """The environment to re-run the worker under for huge pages, or None when there is nothing to do.

    Nothing to do when they are not ``wanted`` (``WORKER_HUGE_PAGES=false``), the C library is not
    glibc, or a ``glibc.malloc.hugetlb`` tunable is set already (the re-run, or the operator's own).
    """
    current = environ.get("GLIBC_TUNABLES", "")
    if not wanted or platform.libc_ver()[0] != "glibc" or "glibc.malloc.hugetlb" in current:
        return None
    return {**environ, "GLIBC_TUNABLES": ":".join(filter(None, [current, HUGE_PAGES_TUNABLE]))}


def rerun_with_huge_pages(argv: list[str], wanted: bool) -> None:
    """Replace this process by ``python -m connector <argv>`` under the huge-pages tunable (if needed)."""
    environment = huge_pages_environment(dict(os.environ), wanted)
    if environment is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(sys.executable, [sys.executable, "-m", "connector", *argv], environment)


def release_memory(freeze: bool = False) -> None:
    """Free unreachable objects and return the allocator's free pages to the system (glibc only).

    ``freeze`` then moves every surviving object out of the collector's sight (``gc.freeze``): a
    worker's long-lived objects (modules, the GraphQL schema, the model session, ORM mappers) are
    hundreds of thousands, and a full collection walking them after every job cost about half a
    second; once a worker's first jobs are frozen (``FREEZE_AFTER_JOBS``), only what later jobs
    create is walked.
    """
    gc.collect()
    if freeze:
        gc.freeze()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


#: Objects still alive after each of a worker's first jobs are frozen (see :func:`release_memory`).
FREEZE_AFTER_JOBS = 3


class LeanWorker(WatchedWorker):
    """The watched in-process worker (one model session for its life), releasing memory after each job."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        tune_allocator()
        super().__init__(*args, **kwargs)
        self._jobs_done = 0

    def perform_job(self, *args: Any, **kwargs: Any) -> bool:
        """Run the job as rq does, then give its memory back (freezing what the first jobs loaded)."""
        try:
            return bool(super().perform_job(*args, **kwargs))
        finally:
            self._jobs_done += 1
            # the first jobs (a sync, a process, a publish) load what every later job shares
            release_memory(freeze=self._jobs_done <= FREEZE_AFTER_JOBS)


def worker_queue_names(settings: Settings, publisher: bool) -> list[str]:
    """Queues a worker serves, most urgent first.

    An image worker takes image work (sync, process) first and store writes when it has none; a
    publisher serves only store writes, so publishing overlaps the model's work.
    """
    if publisher:
        return [settings.rq_publish_queue]
    return list(dict.fromkeys([settings.rq_queue, settings.rq_publish_queue]))
