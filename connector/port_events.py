"""Part of the platform port: where adapters report their traffic with a platform (calls, retries,
throttling), so the core can count it without adapters knowing who listens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class PlatformObserver(Protocol):
    """Told about an adapter's traffic with its platform (metrics, logs).  Must be fast."""

    def on_call(self, platform: str, status: int | None) -> None:
        """One HTTP request answered with ``status`` (None: the network failed)."""
        ...

    def on_retry(self, platform: str, error: str) -> None:
        """A transient failure is about to be retried."""
        ...

    def on_throttle(self, platform: str, seconds: float) -> None:
        """The platform's rate limit makes a call wait ``seconds``."""
        ...


class PlatformEvents:
    """Where adapters report their traffic; the core subscribes observers to it.

    Reporting never breaks a call: an observer that raises is ignored.
    """

    def __init__(self) -> None:
        self._observers: list[PlatformObserver] = []

    def subscribe(self, observer: PlatformObserver) -> None:
        """Add an observer (once)."""
        if observer not in self._observers:
            self._observers.append(observer)

    def unsubscribe(self, observer: PlatformObserver) -> None:
        """Remove an observer (no-op when absent)."""
        if observer in self._observers:
            self._observers.remove(observer)

    def _each(self, notify: Callable[[PlatformObserver], None]) -> None:
        for observer in list(self._observers):
            try:
                notify(observer)
            except Exception:
                continue

    def call(self, platform: str, status: int | None) -> None:
        """Report one request and its HTTP status (None: network failure)."""
        self._each(lambda o: o.on_call(platform, status))

    def retry(self, platform: str, error: str) -> None:
        """Report a retry of a transient failure."""
        self._each(lambda o: o.on_retry(platform, error))

    def throttle(self, platform: str, seconds: float) -> None:
        """Report a wait imposed by the platform's rate limit."""
        self._each(lambda o: o.on_throttle(platform, seconds))


#: The process's platform traffic reports (adapters report, connector.metrics listens).
platform_events = PlatformEvents()
