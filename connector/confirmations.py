"""Destructive webhooks are confirmed before they are acted on.

A webhook's signature proves only its body; a captured body can be replayed under another
topic or shop.  So ``app/uninstalled`` stops a store only when the platform confirms it: the
store's token no longer works.  ``shop/redact`` erases a shop only once the app has been
uninstalled for the platform's grace period (``SHOP_REDACT_GRACE_SECONDS``, Shopify's 48 hours,
during which a merchant may reinstall and keep everything); an earlier one schedules the erasure
for then, and the erasure checks again when it runs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connector.enqueue import job_key
from connector.erasure import erase_store
from connector.errors import AuthError, ConnectorError
from connector.models import Store, utcnow
from connector.services import Services, get_services
from connector.stores import mark_uninstalled, open_client

#: A product id no store has: reading it costs one cheap call that only a working token may make.
PROBE_PRODUCT_ID = "0"


class Unconfirmed(Exception):
    """The platform could not be asked (unreachable, throttled): the delivery should be retried."""


def token_revoked(services: Services, store_id: int) -> bool:
    """Whether the platform refuses the store's token (the app was uninstalled there).

    Unconfirmed when the platform cannot say (a transient failure).
    """
    try:
        open_client(services, store_id).get_product(PROBE_PRODUCT_ID)
    except AuthError:
        return True
    except ConnectorError as exc:
        if exc.code in {"transient", "rate_limited"}:
            raise Unconfirmed(exc.message) from exc
        return False  # the store answered, and not with "who are you?"
    return False


def confirm_uninstall(services: Services, store_id: int) -> str:
    """app/uninstalled: stop the store's work when the platform confirms; the outcome."""
    with services.session() as s:
        store = s.get(Store, store_id)
        if store is None or store.uninstalled_at is not None:
            return "store uninstalled"
    if not token_revoked(services, store_id):
        return "uninstall not confirmed by the platform (the token still works): ignored"
    mark_uninstalled(services, store_id)
    return "uninstalled: work stopped, history kept"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def erasure_due(services: Services, store: Store) -> datetime | None:
    """When the shop's data may be erased (None while the app is installed)."""
    if store.uninstalled_at is None:
        return None
    return _aware(store.uninstalled_at) + timedelta(seconds=services.settings.shop_redact_grace)


def redact_when_due(services: Services, store_id: int) -> str:
    """shop/redact: erase now when the grace period is over, else schedule it for then; the outcome."""
    with services.session() as s:
        store = s.get(Store, store_id)
        installed = store is not None and store.uninstalled_at is None
    if installed:
        if not token_revoked(services, store_id):
            return "shop/redact for a shop that still has the app: ignored"
        mark_uninstalled(services, store_id)  # the uninstall webhook was lost: the grace starts now
    with services.session() as s:
        store = s.get(Store, store_id)
        due = erasure_due(services, store) if store is not None else None
    if due is None:
        return "nothing held"
    if utcnow() >= due:
        erase_store(services, store_id)
        return "shop data erased"
    services.queue().enqueue_at(
        due,
        erase_when_due_job,
        store_id,
        job_id=job_key(services.settings.redis_namespace, "erase-store", store_id),
        description=f"erase store {store_id} after the uninstall grace period",
    )
    return f"erasure scheduled for {due.isoformat(timespec='seconds')}"


def erase_when_due_job(store_id: int) -> bool:
    """rq job: erase a shop whose grace period is over and that was not reinstalled meanwhile."""
    services = get_services()
    with services.session() as s:
        store = s.get(Store, store_id)
        due = erasure_due(services, store) if store is not None else None
    if due is None or utcnow() < due:
        return False
    erase_store(services, store_id)
    return True
