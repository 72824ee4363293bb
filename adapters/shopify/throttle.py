"""Client-side view of Shopify's leaky bucket, so requests wait instead of being THROTTLED.

Every GraphQL answer reports ``extensions.cost``: the query's requested and actual cost and the
bucket's ``throttleStatus`` (size, points left, restore rate).  Before sending a query the
client *reserves* its requested cost: when the bucket (refilled at the restore rate since the
last report) holds that many points they are taken and the query goes; otherwise nothing is
taken and the client waits the returned time and asks again.

Points taken for a query still in flight are a *hold*.  A report that arrives meanwhile (the
answer to another query) may not include that query yet, so the outstanding holds are
subtracted from it.  When a query's answer arrives its hold is released and the bucket becomes
the lower of two views: our own account (the hold's unused points refunded) and the server's
report minus the other holds — so neither a late, older report nor a missed charge lets two
queries count on the same points.  Until any report has been seen, one query at a time goes out
to learn the bucket.

:class:`Bucket` is what the GraphQL client needs; :class:`CostBucket` is the in-process one
(:class:`LocalBuckets` hands out one per shop).  The service passes a factory of buckets shared
by every worker of a deployment (kept in Redis), because Shopify's bucket is per app and shop,
not per process.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

#: While the bucket is unknown and another query is out learning it, ask again after this long.
PROBE_WAIT = 0.1


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


@dataclass(frozen=True)
class CostReport:
    """What one answer says: the bucket's state after it, and the points the query really cost."""

    status: ThrottleStatus
    actual: float  # 0 when the query was throttled or refused: nothing was charged

    @classmethod
    def from_extensions(cls, extensions: Mapping[str, Any] | None) -> CostReport | None:
        """Read it from a response's ``extensions`` (None without a ``throttleStatus``)."""
        status = ThrottleStatus.from_extensions(extensions)
        if status is None:
            return None
        actual = ((extensions or {}).get("cost") or {}).get("actualQueryCost")
        return cls(status, float(actual) if isinstance(actual, int | float) else 0.0)


@dataclass(frozen=True)
class Reservation:
    """The answer to asking for points: a hold on them, or how long to wait before asking again."""

    cost: float
    hold: str | None = None  # set when the points were taken
    wait: float = 0.0  # seconds to wait before asking again (when not granted)

    @property
    def granted(self) -> bool:
        """Whether the points were taken (send the query now)."""
        return self.hold is not None


class Bucket(Protocol):
    """One shop's leaky bucket as the GraphQL client uses it."""

    @property
    def known(self) -> bool:
        """Whether any answer has reported the bucket yet."""
        ...

    def reserve(self, cost: float) -> Reservation:
        """Take ``cost`` points if the bucket holds them (atomically), else say how long to wait."""
        ...

    def settle(self, reservation: Reservation, report: CostReport | None) -> None:
        """Release a granted reservation once its answer arrived; ``report`` is what it said.

        Without a report (no answer, an HTTP error) the points stay spent: the server may have
        charged them.
        """
        ...

    def delay_for(self, cost: float) -> float:
        """Seconds until a query of this requested cost would fit (0 when it fits now or unknown)."""
        ...


BucketFactory = Callable[[str], Bucket]


@dataclass(frozen=True)
class _Known:
    maximum: float
    restore_rate: float
    level: float  # points at ``at``, outstanding holds already taken off
    at: float

    def refilled(self, now: float) -> float:
        return min(self.maximum, self.level + max(0.0, now - self.at) * self.restore_rate)

    def wait_for(self, cost: float, now: float) -> float:
        if self.restore_rate <= 0:
            return 0.0
        return max(0.0, (min(cost, self.maximum) - self.refilled(now)) / self.restore_rate)


class CostBucket:
    """The bucket as this process sees it (thread-safe); time from ``clock`` (monotonic seconds)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._state: _Known | None = None
        self._holds: dict[str, float] = {}
        self._ids = itertools.count(1)

    @property
    def known(self) -> bool:
        """Whether any answer has reported the bucket yet."""
        return self._state is not None

    def available(self) -> float:
        """Points the bucket should hold now, outstanding holds taken off (inf while unknown)."""
        with self._lock:
            state = self._state
            return float("inf") if state is None else state.refilled(self.clock())

    def reserve(self, cost: float) -> Reservation:
        """Take ``cost`` points if the bucket holds them, else say how long to wait."""
        with self._lock:
            now, state = self.clock(), self._state
            if state is None:
                if self._holds:  # another query is out learning the bucket
                    return Reservation(cost, wait=PROBE_WAIT)
            else:
                wait = state.wait_for(cost, now)
                if wait > 0:
                    return Reservation(cost, wait=wait)
                self._state = _Known(state.maximum, state.restore_rate, state.refilled(now) - cost, now)
            hold = str(next(self._ids))
            self._holds[hold] = cost
            return Reservation(cost, hold=hold)

    def settle(self, reservation: Reservation, report: CostReport | None) -> None:
        """Release a granted reservation; take the answer's report into account."""
        with self._lock:
            if reservation.hold is None:
                return
            self._holds.pop(reservation.hold, None)
            if report is None:
                return
            now, state, status = self.clock(), self._state, report.status
            level = status.available - sum(self._holds.values())
            if state is not None:
                level = min(level, state.refilled(now) + reservation.cost - report.actual)
            self._state = _Known(status.maximum, status.restore_rate, min(level, status.maximum), now)

    def delay_for(self, cost: float) -> float:
        """Seconds until a query of this requested cost would fit (0 when it fits now or unknown)."""
        with self._lock:
            state = self._state
            return 0.0 if state is None else state.wait_for(cost, self.clock())


class LocalBuckets:
    """The default bucket factory: one :class:`CostBucket` per shop, shared by this process's clients."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, CostBucket] = {}

    def __call__(self, shop: str) -> CostBucket:
        """The bucket of one shop (created on first use)."""
        with self._lock:
            bucket = self._buckets.get(shop)
            if bucket is None:
                bucket = self._buckets[shop] = CostBucket(self.clock)
            return bucket
