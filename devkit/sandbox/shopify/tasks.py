"""Delayed background work (media processing, reorder jobs, bulk operations) on one timer thread."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.common.background import BackgroundLoop

log = logging.getLogger(__name__)


@dataclass(order=True)
class _Task:
    due: float
    seq: int
    label: str = field(compare=False)
    action: Callable[[], None] = field(compare=False)


class Scheduler(BackgroundLoop):
    """Runs callables after a delay on a timer thread; :meth:`run_pending` runs all now (tests, admin)."""

    def __init__(self) -> None:
        super().__init__("shopify-sandbox-tasks")
        self._heap: list[_Task] = []
        self._seq = itertools.count()
        self._run_lock = threading.Lock()  # one task at a time, in due order

    def call_later(self, delay: float, label: str, action: Callable[[], None]) -> None:
        """Run ``action`` after ``delay`` seconds."""
        with self._cond:
            heapq.heappush(
                self._heap, _Task(time.monotonic() + max(delay, 0.0), next(self._seq), label, action)
            )
            self._cond.notify_all()

    def pending(self) -> list[str]:
        """Labels of the tasks still waiting, soonest first."""
        with self._cond:
            return [t.label for t in sorted(self._heap)]

    def run_pending(self, limit: int = 10_000) -> int:
        """Run every waiting task now, including tasks those tasks schedule; how many ran."""
        ran = 0
        while ran < limit:
            with self._cond:
                if not self._heap:
                    return ran
                task = heapq.heappop(self._heap)
            self._run(task)
            ran += 1
        return ran

    def _run(self, task: _Task) -> None:
        with self._run_lock:
            try:
                task.action()
            except Exception:  # a broken task must not kill the timer thread
                log.exception("sandbox task %s failed", task.label)

    def _loop(self) -> None:
        while True:
            with self._cond:
                if not self._running:
                    return
                now = time.monotonic()
                if not self._heap or self._heap[0].due > now:
                    wait = (self._heap[0].due - now) if self._heap else 1.0
                    self._cond.wait(min(wait, 1.0))
                    continue
                task = heapq.heappop(self._heap)
            self._run(task)
