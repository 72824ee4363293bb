"""The intake's database work: the store a delivery names, and the delivery's record and outcome.

A few Core statements, built once and run on the one connection a delivery holds: the intake
answers hundreds of deliveries a second, and building ORM objects (or statements) for each would
cost more than the database does.  The moves of a record's state still follow connector/states.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Update, bindparam, case, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from connector.models import Store, WebhookEventRecord, utcnow
from connector.port import WebhookEvent
from connector.services import Services
from connector.states import WebhookState, sources
from connector.stores import webhook_secret
from connector.sync import accepts_work

_FIND_STORE = select(Store.id, Store.active, Store.mode, Store.credentials_encrypted).where(
    Store.platform == bindparam("platform"), Store.domain == bindparam("domain")
)
_INSERT_EVENT = insert(WebhookEventRecord).returning(WebhookEventRecord.id)
_FIND_EVENT = select(WebhookEventRecord.id, WebhookEventRecord.state).where(
    WebhookEventRecord.platform == bindparam("platform"),
    WebhookEventRecord.shop == bindparam("shop"),
    WebhookEventRecord.event_id == bindparam("event_id"),
)


@dataclass(frozen=True)
class Target:
    """The store a delivery names, as one query reads it."""

    store_id: int
    active: bool
    accepting: bool
    secret: str | None  # the store's own webhook secret (None: the platform app's)


def find_target(services: Services, conn: Connection, platform: str, shop: str | None) -> Target | None:
    """The store a delivery names, installed or not; None when the connector holds nothing on it."""
    if not shop:
        return None
    with conn.begin():
        row = conn.execute(_FIND_STORE, {"platform": platform, "domain": shop}).first()
    if row is None:
        return None
    secret = webhook_secret(services, row.credentials_encrypted) if row.credentials_encrypted else None
    return Target(row.id, row.active, accepts_work(row.active, row.mode), secret)


def record_event(conn: Connection, event: WebhookEvent) -> int | None:
    """Record the delivery (committed); its row id, or None when it was seen and acted on already."""
    params: dict[str, Any] = {
        "platform": event.platform,
        "shop": event.shop,
        "event_id": event.event_id,
        "topic": event.topic.value,
        "product_id": event.product_id,
        "state": WebhookState.RECEIVED.value,
    }
    try:
        with conn.begin():
            return int(conn.execute(_INSERT_EVENT, params).scalar_one())
    except IntegrityError:  # a replay (unique by platform, shop and event id)
        pass
    with conn.begin():
        found = conn.execute(_FIND_EVENT, params).first()
    if found is None or found.state == WebhookState.DONE.value:
        return None
    return int(found.id)  # recorded, never acted on to the end: act now (idempotent)


def set_outcome(conn: Connection, row_id: int, state: WebhookState, outcome: str) -> None:
    """Record what acting did, committed; the state moves only as the state table allows (done stays)."""
    with conn.begin():  # no row: erased meanwhile (shop/redact)
        if conn.dialect.name == "postgresql":
            # no WAL flush to wait for: a mark a server crash loses leaves the record unfinished,
            # and the reconciler acts on it again (acting is idempotent); the record itself is durable
            conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        conn.execute(_outcome_statement(state), {"row_id": row_id, "text": outcome[:64], "now": utcnow()})


@cache
def _outcome_statement(state: WebhookState) -> Update:
    events = WebhookEventRecord
    movable = [literal(s.value) for s in sorted(sources(state))]
    return (
        update(events)
        .where(events.id == bindparam("row_id"))
        .values(
            state=case((events.state.in_(movable), state.value), else_=events.state),
            outcome=bindparam("text"),
            attempts=events.attempts + 1,
            handled_at=bindparam("now") if state == WebhookState.DONE else events.handled_at,
        )
    )
