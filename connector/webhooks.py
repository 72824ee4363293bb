"""Handle a webhook delivery: verify, record, act, then mark it done — fast (well under 5 s).

A delivery that fails verification changes nothing.  A verified one is recorded first (unique by
platform, shop and event id), acted on (idempotently: work is queued under job ids), and marked
done only after acting.  A delivery already done is answered 200 and ignored; one whose acting
failed (Redis down, a crash) stays retryable: the platform's retry or the reconciler acts again.
Product changes queue a sync of that one product; the sync's loop guard ignores media the
connector created itself.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection

from connector.confirmations import Unconfirmed, confirm_uninstall, redact_when_due
from connector.enqueue import enqueue, job_key
from connector.errors import WebhookRejected
from connector.models import WebhookEventRecord
from connector.port import WebhookEvent, WebhookTopic
from connector.services import Services
from connector.states import WebhookState
from connector.sync import mark_product_deleted
from connector.webhook_records import Target, find_target, record_event, set_outcome

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookAnswer:
    """HTTP status and a short text for the platform (and the log)."""

    status: int
    outcome: str


def act_on_record(services: Services, row_id: int) -> str:
    """Act (again) on a recorded delivery and mark it done; the reconciler's way to finish one."""
    with services.session() as s:
        row = s.get(WebhookEventRecord, row_id)
        if row is None or row.state == WebhookState.DONE.value:
            return "done already"
        event = WebhookEvent(
            platform=row.platform,
            shop=row.shop,
            topic=WebhookTopic(row.topic),
            event_id=row.event_id,
            product_id=row.product_id,
        )
    with services.engine.connect() as conn:
        target = find_target(services, conn, event.platform, event.shop)
        return _act_and_mark(services, conn, event, row_id, target).outcome


def _act_and_mark(
    services: Services, conn: Connection, event: WebhookEvent, row_id: int, target: Target | None
) -> WebhookAnswer:
    if target is None:
        set_outcome(conn, row_id, WebhookState.DONE, "unknown shop: nothing held")
        return WebhookAnswer(200, "unknown shop: nothing held")
    try:
        outcome = _act(services, event, target)
    except Unconfirmed as exc:  # the platform could not confirm a destructive topic now: let it retry
        set_outcome(conn, row_id, WebhookState.FAILED, "not confirmed yet")
        return WebhookAnswer(503, f"not confirmed yet: {exc}")
    except Exception as exc:  # Redis down, a database error: the platform retries, so does the reconciler
        log.exception("acting on webhook %s failed", event.event_id)
        set_outcome(conn, row_id, WebhookState.FAILED, f"failed: {type(exc).__name__}")
        return WebhookAnswer(503, f"not handled yet ({type(exc).__name__}); retry later")
    set_outcome(conn, row_id, WebhookState.DONE, outcome)
    return WebhookAnswer(200, outcome)


def _act(services: Services, event: WebhookEvent, target: Target) -> str:
    topic, store_id = event.topic, target.store_id
    if topic in (WebhookTopic.PRODUCT_CREATED, WebhookTopic.PRODUCT_UPDATED) and event.product_id:
        if not target.accepting:
            return "store paused" if target.active else "store uninstalled"
        queued = enqueue(
            services,
            "sync_product_job",
            store_id,
            event.product_id,
            job_id=job_key("sync-product", store_id, event.product_id),
            kind="sync_product",
        )
        return "sync queued" if queued else "sync already queued"
    if topic == WebhookTopic.PRODUCT_DELETED and event.product_id:
        with services.session() as s:
            mark_product_deleted(s, store_id, event.product_id)
        return "product marked deleted"
    if topic == WebhookTopic.APP_UNINSTALLED:  # only when the platform confirms (connector/confirmations.py)
        return confirm_uninstall(services, store_id)
    if topic == WebhookTopic.SHOP_REDACT:  # only after the uninstall's grace period
        return redact_when_due(services, store_id)
    if topic in (WebhookTopic.CUSTOMER_DATA_REQUEST, WebhookTopic.CUSTOMER_REDACT):
        return "no customer data held"
    return "ignored"


def handle_webhook(
    services: Services, platform: str, headers: Mapping[str, str], body: bytes
) -> WebhookAnswer:
    """Verify and act on one delivery; the answer to send back.

    Deliveries for a shop the connector holds nothing on (never installed, or erased by
    shop/redact — a late retry, say) are answered 200 and not recorded.
    """
    app = services.platform(platform)
    shop = app.webhook_shop(headers, body)
    with services.engine.connect() as conn:  # one connection for the delivery's few statements
        target = find_target(services, conn, platform, shop)
        try:
            event = app.verify_webhook(headers, body, target.secret if target else None)
        except WebhookRejected as exc:
            return WebhookAnswer(401, f"rejected: {exc}")
        if event.topic == WebhookTopic.PING:
            return WebhookAnswer(200, "ping")
        if event.shop != shop:  # the verified delivery names another shop than its header claimed
            target = find_target(services, conn, event.platform, event.shop)
        if target is None:
            return WebhookAnswer(200, "unknown shop: nothing held")
        row_id = record_event(conn, event)
        if row_id is None:
            return WebhookAnswer(200, "duplicate ignored")
        return _act_and_mark(services, conn, event, row_id, target)
