"""One operation per product at a time: a Redis lock with expiry, fenced by a database token.

The Redis lock keeps two workers apart; the fencing token (``products.lock_token``, bumped on
every acquire) makes a worker whose lock expired unable to record further steps: its next
write sees a newer token and stops with a ConflictError.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm import Session

from connector.errors import ConflictError, TransientError
from connector.models import Product
from connector.services import Services


@dataclass(frozen=True)
class Fence:
    """Proof of holding a product's lock: its fencing token."""

    product_id: int
    token: int

    def check(self, session: Session) -> None:
        """Raise ConflictError when another worker took the product since we locked it."""
        current = session.get(Product, self.product_id, populate_existing=True)
        if current is None or current.lock_token != self.token:
            raise ConflictError(
                f"product {self.product_id} was taken over by another worker (lock expired)",
                hint="the other worker finishes the operation; nothing to do",
            )


@contextmanager
def product_lock(services: Services, product_id: int) -> Iterator[Fence]:
    """Hold the product's lock for the duration of the block."""
    key = f"connector:lock:product:{product_id}"
    me = uuid.uuid4().hex
    redis = services.redis
    if not redis.set(key, me, nx=True, ex=services.settings.lock_ttl):
        raise TransientError(
            f"product {product_id} is being changed by another worker",
            hint="the job is retried after that operation ends",
            retry_after=5,
        )
    try:
        with services.session() as s:
            s.execute(
                update(Product).where(Product.id == product_id).values(lock_token=Product.lock_token + 1)
            )
            token = s.get(Product, product_id, populate_existing=True).lock_token  # type: ignore[union-attr]
        yield Fence(product_id, token)
    finally:
        # release only our own lock (compare-and-delete)
        redis.eval(
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
            1,
            key,
            me,
        )
