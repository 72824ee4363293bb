"""Handle a webhook delivery: verify, de-duplicate, and queue work — fast (well under 5 s).

A delivery that fails verification changes nothing.  A delivery seen before (same platform,
shop and event id) is answered 200 and ignored.  Product changes queue a sync of that one
product; the sync's loop guard ignores media the connector created itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from connector.confirmations import Unconfirmed, confirm_uninstall, redact_when_due
from connector.enqueue import enqueue, job_key
from connector.errors import WebhookRejected
from connector.models import WebhookEventRecord
from connector.port import WebhookEvent, WebhookTopic
from connector.services import Services
from connector.stores import credentials_of, find_store
from connector.sync import mark_product_deleted, store_accepts_work


@dataclass(frozen=True)
class WebhookAnswer:
    """HTTP status and a short text for the platform (and the log)."""

    status: int
    outcome: str


def _secret_for(services: Services, platform: str, shop: str | None) -> str | None:
    if not shop:
        return None
    with services.session() as s:
        store = find_store(s, platform, shop)
        if store is None or not store.credentials_encrypted:
            return None
        return credentials_of(services, store).get("webhook_secret")


def _dedupe(services: Services, event: WebhookEvent) -> bool:
    """Record the event; False when it was seen before."""
    try:
        with services.session() as s:
            s.add(
                WebhookEventRecord(
                    platform=event.platform,
                    shop=event.shop,
                    event_id=event.event_id,
                    topic=event.topic.value,
                    product_id=event.product_id,
                )
            )
    except IntegrityError:
        return False
    return True


def _set_outcome(services: Services, event: WebhookEvent, outcome: str) -> None:
    with services.session() as s:
        row = s.scalar(
            select(WebhookEventRecord).where(
                WebhookEventRecord.platform == event.platform,
                WebhookEventRecord.shop == event.shop,
                WebhookEventRecord.event_id == event.event_id,
            )
        )
        if row is not None:
            row.outcome = outcome


def _forget(services: Services, event: WebhookEvent) -> None:
    """Drop an event's record, so the platform's retry of it is acted on."""
    with services.session() as s:
        s.execute(
            delete(WebhookEventRecord).where(
                WebhookEventRecord.platform == event.platform,
                WebhookEventRecord.shop == event.shop,
                WebhookEventRecord.event_id == event.event_id,
            )
        )


@dataclass(frozen=True)
class _Target:
    """The store a verified delivery is about."""

    store_id: int
    active: bool
    accepting: bool


def _target(services: Services, event: WebhookEvent) -> _Target | None:
    with services.session() as s:
        store = find_store(s, event.platform, event.shop)
        if store is None:
            return None
        return _Target(store.id, store.active, store_accepts_work(store))


def _act(services: Services, event: WebhookEvent, target: _Target) -> str:
    topic, store_id = event.topic, target.store_id
    if topic in (WebhookTopic.PRODUCT_CREATED, WebhookTopic.PRODUCT_UPDATED) and event.product_id:
        if not target.accepting:
            return "store paused" if target.active else "store uninstalled"
        from jobs.tasks import sync_product_job

        queued = enqueue(
            services,
            sync_product_job,
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
    try:
        event = app.verify_webhook(headers, body, _secret_for(services, platform, shop))
    except WebhookRejected as exc:
        return WebhookAnswer(401, f"rejected: {exc}")
    if event.topic == WebhookTopic.PING:
        return WebhookAnswer(200, "ping")
    target = _target(services, event)
    if target is None:
        return WebhookAnswer(200, "unknown shop: nothing held")
    if not _dedupe(services, event):
        return WebhookAnswer(200, "duplicate ignored")
    try:
        outcome = _act(services, event, target)
    except Unconfirmed as exc:  # the platform could not confirm a destructive topic now: let it retry
        _forget(services, event)
        return WebhookAnswer(503, f"not confirmed yet: {exc}")
    _set_outcome(services, event, outcome)
    return WebhookAnswer(200, outcome)
