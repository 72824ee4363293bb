"""Client-side view of Shopify's leaky bucket, so requests wait instead of being THROTTLED.

Every GraphQL answer reports ``extensions.cost.throttleStatus`` (bucket size, points left,
restore rate).  Between answers the bucket refills at the restore rate; before sending a
query of a known requested cost we wait until the bucket holds that many points.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ThrottleStatus:
    """One ``throttleStatus`` report."""

    maximum: float
    available: float
    restore_rate: float

    @classmethod
    def from_extensions(cls, extensions: Mapping[str, Any] | None) -> ThrottleStatus | None:
        """Read it from a response's ``extensions`` (None when absent or malformed)."""
        try:
            status = (extensions or {})["cost"]["throttleStatus"]
            return cls(
                float(status["maximumAvailable"]),
                float(status["currentlyAvailable"]),
                float(status["restoreRate"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


class CostBucket:
    """The last reported bucket state, refilled by elapsed time, minus what we spent since."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._status: ThrottleStatus | None = None
        self._available = 0.0
        self._at = 0.0

    @property
    def known(self) -> bool:
        """Whether any answer has reported the bucket yet."""
        return self._status is not None

    def observe(self, status: ThrottleStatus, now: float) -> None:
        """Take the server's report as the truth at time ``now``."""
        with self._lock:
            self._status = status
            self._available = status.available
            self._at = now

    def available(self, now: float) -> float:
        """Points the bucket should hold at ``now``."""
        with self._lock:
            return self._refilled(now)

    def _refilled(self, now: float) -> float:
        status = self._status
        if status is None:
            return float("inf")
        return min(status.maximum, self._available + max(0.0, now - self._at) * status.restore_rate)

    def delay_for(self, cost: float, now: float) -> float:
        """Seconds to wait until a query of this requested cost fits (0 when it fits now)."""
        with self._lock:
            status = self._status
            if status is None or status.restore_rate <= 0:
                return 0.0
            needed = min(cost, status.maximum)
            missing = needed - self._refilled(now)
            return max(0.0, missing / status.restore_rate)

    def spend(self, cost: float, now: float) -> None:
        """Account for a query about to be sent, until its answer reports the real state."""
        with self._lock:
            if self._status is None:
                return
            self._available = self._refilled(now) - cost
            self._at = now
