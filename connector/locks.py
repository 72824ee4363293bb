"""One operation per product at a time: a Redis lock with expiry, fenced by a database token.

The Redis lock keeps two workers apart; the fencing token (``products.lock_token``, bumped on
every acquire) makes a worker whose lock expired unable to record further steps: its next
write sees a newer token and stops with a ConflictError.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from redis import Redis
from sqlalchemy import update
from sqlalchemy.orm import Session

from connector.errors import ConflictError, TransientError
from connector.models import Product
from connector.services import Services


class FenceLost(ConflictError):
    """Another worker took the product over (our lock expired): stop, change nothing more."""

    code = "fence_lost"


_EXTEND = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) end return 0"
)


@dataclass(frozen=True)
class Fence:
    """Proof of holding a product's lock: its fencing token (and the lease to extend)."""

    product_id: int
    token: int
    redis: Redis | None = None
    key: str = ""
    holder: str = ""
    ttl: int = 0

    def check(self, session: Session) -> None:
        """Raise ConflictError when another worker took the product since we locked it; else
        extend the lock's lease, so a long operation keeps it while it makes progress."""
        current = session.get(Product, self.product_id, populate_existing=True)
        if current is None or current.lock_token != self.token:
            raise FenceLost(
                f"product {self.product_id} was taken over by another worker (lock expired)",
                hint="the other worker finishes the operation; nothing to do",
            )
        self.extend()

    def extend(self) -> bool:
        """Renew the lease for another ``ttl`` seconds while we still hold it."""
        if self.redis is None or not self.key:
            return False
        return bool(self.redis.eval(_EXTEND, 1, self.key, self.holder, self.ttl))


def _holder_is_dead(value: bytes | str | None) -> bool:
    """Whether a lock was left by a process on this host that no longer runs (a killed worker)."""
    if not value:
        return False
    text = value.decode() if isinstance(value, bytes) else value
    host, _, rest = text.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another host: wait for the lock to expire
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _take_from_dead(redis: Redis, key: str, me: str, ttl: int) -> bool:
    """Take over a lock whose holder died on this host (atomically: only if it still holds it)."""
    value = redis.get(key)
    if value is None or not _holder_is_dead(value):
        return False
    taken = redis.eval(
        "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[3]) "
        "return 1 end return 0",
        1,
        key,
        value,
        me,
        ttl,
    )
    return bool(taken)


def _acquire(redis: Redis, key: str, me: str, ttl: int) -> bool:
    return bool(redis.set(key, me, nx=True, ex=ttl)) or _take_from_dead(redis, key, me, ttl)


@contextmanager
def product_lock(services: Services, product_id: int, wait: float = 0.0) -> Iterator[Fence]:
    """Hold the product's lock for the duration of the block.

    When another worker holds it, wait up to ``wait`` seconds for it to be released (operations
    on one product take seconds; two images of a product are often worked on at once).
    """
    key = services.settings.redis_key("lock", "product", product_id)
    me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
    redis, ttl = services.redis, services.settings.lock_ttl
    deadline, pause = time.monotonic() + wait, 0.05
    while not _acquire(redis, key, me, ttl):
        if time.monotonic() >= deadline:
            raise TransientError(
                f"product {product_id} is being changed by another worker",
                hint="the job is retried after that operation ends",
                retry_after=5,
            )
        time.sleep(pause)
        pause = min(pause * 2, 0.25)
    try:
        with services.session() as s:
            s.execute(
                update(Product).where(Product.id == product_id).values(lock_token=Product.lock_token + 1)
            )
            token = s.get(Product, product_id, populate_existing=True).lock_token  # type: ignore[union-attr]
        yield Fence(product_id, token, redis, key, me, ttl)
    finally:
        # release only our own lock (compare-and-delete)
        redis.eval(
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
            1,
            key,
            me,
        )
