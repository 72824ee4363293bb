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

from adapters.base import WebhookEvent, WebhookTopic
from connector.enqueue import enqueue, job_key
from connector.errors import WebhookRejected
from connector.models import Store, WebhookEventRecord
from connector.services import Services
from connector.stores import credentials_of, find_store, mark_uninstalled
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


def erase_store(services: Services, store_id: int) -> None:
    """shop/redact: delete everything held about a shop (rows cascade; blobs are content-addressed)."""
    with services.session() as s:
        store = s.get(Store, store_id)
        if store is not None:
            s.execute(
                delete(WebhookEventRecord).where(
                    WebhookEventRecord.platform == store.platform, WebhookEventRecord.shop == store.domain
                )
            )
        s.execute(delete(Store).where(Store.id == store_id))


def _act(services: Services, event: WebhookEvent) -> str:
    with services.session() as s:
        store = find_store(s, event.platform, event.shop)
        if store is None:
            return "unknown shop"
        store_id, accepting = store.id, store_accepts_work(store)
    topic = event.topic
    if topic in (WebhookTopic.PRODUCT_CREATED, WebhookTopic.PRODUCT_UPDATED) and event.product_id:
        if not accepting:
            return "store paused"
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
    if topic == WebhookTopic.APP_UNINSTALLED:
        mark_uninstalled(services, store_id)
        return "uninstalled: work stopped, history kept"
    if topic == WebhookTopic.SHOP_REDACT:
        erase_store(services, store_id)
        return "shop data erased"
    if topic in (WebhookTopic.CUSTOMER_DATA_REQUEST, WebhookTopic.CUSTOMER_REDACT):
        return "no customer data held"
    return "ignored"


def handle_webhook(
    services: Services, platform: str, headers: Mapping[str, str], body: bytes
) -> WebhookAnswer:
    """Verify and act on one delivery; the answer to send back."""
    app = services.platform(platform)
    shop = app.webhook_shop(headers, body)
    try:
        event = app.verify_webhook(headers, body, _secret_for(services, platform, shop))
    except WebhookRejected as exc:
        return WebhookAnswer(401, f"rejected: {exc}")
    if event.topic == WebhookTopic.PING:
        return WebhookAnswer(200, "ping")
    if not _dedupe(services, event):
        return WebhookAnswer(200, "duplicate ignored")
    outcome = _act(services, event)
    _set_outcome(services, event, outcome)
    return WebhookAnswer(200, outcome)
