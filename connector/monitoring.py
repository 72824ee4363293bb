"""The figures of the monitoring page, per store or overall: work per hour, failures, QA drift, live state.

History comes from the database (results, operations, image states), so it survives restarts and
needs no Prometheus; the live state (queue, workers, throttling) from Redis and the metrics files.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector import metrics
from connector.costs import store_costs
from connector.models import (
    Image,
    ImageStatus,
    ImageVersion,
    Operation,
    OperationKind,
    OperationState,
    Store,
    VersionKind,
    VersionState,
)
from connector.settings import Settings

VERDICTS = ("pass", "review", "fail", "skip")


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive UTC datetimes back; Postgres aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _hour(moment: datetime) -> datetime:
    return _aware(moment).astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _empty_hour(start: datetime) -> dict[str, Any]:
    return {
        "hour": start,
        "processed": 0,
        "published": 0,
        "held": 0,
        "failed": 0,
        "verdicts": dict.fromkeys(VERDICTS, 0),
        "scores": {},
    }


def timeline(
    session: Session, store_id: int | None, hours: int = 24, now: datetime | None = None
) -> list[dict]:
    """One row per hour of the last ``hours``, oldest first: images processed, published, held, failed,
    QA verdicts and the mean of each gate's score (drift in the photos a store sends shows here)."""
    now = now or datetime.now(UTC)
    first = _hour(now) - timedelta(hours=hours - 1)
    rows = {first + timedelta(hours=i): _empty_hour(first + timedelta(hours=i)) for i in range(hours)}
    since = first.replace(tzinfo=None) if session.bind and session.bind.dialect.name == "sqlite" else first
    scores: dict[datetime, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))

    results = (
        select(ImageVersion.created_at, ImageVersion.verdict, ImageVersion.state, ImageVersion.scores)
        .join(Image, Image.id == ImageVersion.image_id)
        .where(ImageVersion.kind == VersionKind.RESULT.value, ImageVersion.created_at >= since)
    )
    published = select(Operation.updated_at).where(
        Operation.kind == OperationKind.REPLACE.value,
        Operation.state == OperationState.DONE.value,
        Operation.updated_at >= since,
    )
    failed = select(Image.updated_at).where(
        Image.status == ImageStatus.FAILED.value, Image.updated_at >= since
    )
    if store_id is not None:
        results = results.where(Image.store_id == store_id)
        published = published.where(Operation.store_id == store_id)
        failed = failed.where(Image.store_id == store_id)

    for created, verdict, state, version_scores in session.execute(results):
        row = rows.get(_hour(created))
        if row is None:
            continue
        row["processed"] += 1
        row["verdicts"][verdict or "skip"] = row["verdicts"].get(verdict or "skip", 0) + 1
        if state == VersionState.REVIEW.value or verdict == "review":
            row["held"] += 1
        for gate, value in (version_scores or {}).items():
            scores[row["hour"]][gate].append(float(value))
    for (moment,) in session.execute(published):
        if (row := rows.get(_hour(moment))) is not None:
            row["published"] += 1
    for (moment,) in session.execute(failed):
        if (row := rows.get(_hour(moment))) is not None:
            row["failed"] += 1
    for hour, gates in scores.items():
        rows[hour]["scores"] = {gate: sum(v) / len(v) for gate, v in sorted(gates.items())}
    return list(rows.values())


def failure_reasons(session: Session, store_id: int | None, limit: int = 5) -> list[dict[str, Any]]:
    """The commonest reasons images are failed now: code, how many, one example of the full reason."""
    query = (
        select(Image.failure_code, func.count(Image.id), func.max(Image.failure_reason))
        .where(Image.status == ImageStatus.FAILED.value)
        .group_by(Image.failure_code)
        .order_by(func.count(Image.id).desc())
        .limit(limit)
    )
    if store_id is not None:
        query = query.where(Image.store_id == store_id)
    return [
        {"code": code or "unknown", "count": count, "example": example or ""}
        for code, count, example in session.execute(query)
    ]


def store_rows(session: Session, settings: Settings) -> list[dict[str, Any]]:
    """Every store with its image states and its cost per image."""
    rows = []
    for store in session.scalars(select(Store).order_by(Store.id)):
        states = Counter(session.scalars(select(Image.status).where(Image.store_id == store.id)))
        rows.append(
            {
                "id": store.id,
                "domain": store.domain,
                "platform": store.platform,
                "mode": store.mode,
                "states": dict(states),
                "cost": store_costs(session, settings, store.id).to_dict(),
            }
        )
    return rows


def live_state(settings: Settings, redis: Any) -> dict[str, Any]:
    """Queue depth, oldest job's age, live workers and their memory, and throttling by platform."""
    state: dict[str, Any] = {"redis": False, "queue": {}, "oldest_age": 0.0, "workers": 0, "memory": {}}
    for family in metrics.QueueCollector(settings, redis).collect():
        for sample in family.samples:
            if family.name == "connector_redis_up":
                state["redis"] = bool(sample.value)
            elif family.name == "connector_queue_depth":  # image and publish queues together
                label = sample.labels["state"]
                state["queue"][label] = state["queue"].get(label, 0) + int(sample.value)
            elif family.name == "connector_queue_oldest_job_age_seconds":
                state["oldest_age"] = max(state["oldest_age"], sample.value)
            elif family.name == "connector_workers":  # every worker serves the publish queue
                state["workers"] = max(state["workers"], int(sample.value))
            elif family.name == "connector_worker_memory_bytes":
                state["memory"][sample.labels["worker"]] = sample.value
    state["throttles"] = metrics.totals(settings, "connector_platform_throttles", "platform")
    state["throttle_seconds"] = metrics.totals(settings, "connector_platform_throttle_seconds", "platform")
    state["retries"] = metrics.totals(settings, "connector_platform_retries", "platform")
    return state


def overview(
    session: Session, settings: Settings, redis: Any, store_id: int | None, hours: int = 24
) -> dict[str, Any]:
    """Everything the monitoring page shows, as plain data (also served as JSON)."""
    return {
        "store": store_id,
        "hours": hours,
        "timeline": timeline(session, store_id, hours),
        "failures": failure_reasons(session, store_id),
        "stores": store_rows(session, settings),
        "cost": store_costs(session, settings, store_id).to_dict(),
        "live": live_state(settings, redis),
    }
