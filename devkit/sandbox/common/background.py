"""One daemon thread that loops until stopped, its state guarded by a condition variable."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import Self


class BackgroundLoop(ABC):
    """Starts and stops a daemon thread running :meth:`_loop`; subclasses share ``_cond`` for their state.

    ``_loop`` returns once ``_running`` is false (checked under ``_cond``); :meth:`stop` wakes it.
    """

    def __init__(self, thread_name: str) -> None:
        self._cond = threading.Condition()
        self._thread_name = thread_name
        self._thread: threading.Thread | None = None
        self._running = False

    def start(self) -> Self:
        """Start the background thread (idempotent)."""
        with self._cond:
            if self._running:
                return self
            self._running = True
            self._thread = threading.Thread(target=self._loop, name=self._thread_name, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the background thread and wait for it (up to :meth:`_join_timeout` seconds)."""
        with self._cond:
            self._running = False
            self._cond.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self._join_timeout())

    def _join_timeout(self) -> float:
        return 5.0

    @abstractmethod
    def _loop(self) -> None:
        """The thread's work; return when ``_running`` is false."""
