"""Charging per published image through the platform's billing (where it has one).

A store without an active plan publishes a free allowance of images per calendar month; after
that, approved results wait (``failure_code == "plan_required"``, with a message for the
merchant) until a plan is approved, and are then published.  With an active plan every
published image is one usage record on the plan's capped usage line; held, rejected or failed
results are never charged.  Platforms without billing (the port's ``BillingApp``) are not gated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.billing_models import BillingSubscription, BillingUsage, UsageState
from connector.errors import ConnectorError, TransientError
from connector.models import Image, ImageStatus, ImageVersion, Operation, OperationKind, OperationState
from connector.port_embedded import BillingApp, BillingClient, BillingPlan
from connector.services import Services
from connector.stores import StoredCredentials, get_store

PLAN_REQUIRED = "plan_required"
ACTIVE = "ACTIVE"


def plan_of(services: Services) -> BillingPlan:
    """The one plan the app offers, from the settings."""
    s = services.settings
    return BillingPlan(
        name=s.billing_plan_name,
        price_per_image=s.billing_price_per_image,
        capped_amount=s.billing_capped_amount,
        currency=s.billing_currency,
        test=s.billing_test,
    )


def current_period(now: datetime | None = None) -> str:
    """The billing month, ``YYYY-MM`` in UTC."""
    return (now or datetime.now(UTC)).strftime("%Y-%m")


def billing_client(services: Services, store_id: int) -> BillingClient | None:
    """The store's billing client, or None when its platform bills nothing."""
    with services.session() as s:
        store = get_store(s, store_id)
        platform, domain = store.platform, store.domain
    app = services.platform(platform)
    if not isinstance(app, BillingApp):
        return None
    shared = StoredCredentials(services, store_id)
    return app.billing(domain, shared.load(), on_credentials=shared)


def _billed(services: Services, store_id: int) -> bool:
    with services.session() as s:
        platform = get_store(s, store_id).platform
    return isinstance(services.platform(platform), BillingApp)


def active_subscription(session: Session, store_id: int) -> BillingSubscription | None:
    """The store's active subscription as last seen, or None."""
    return session.scalar(
        select(BillingSubscription)
        .where(BillingSubscription.store_id == store_id, BillingSubscription.status == ACTIVE)
        .order_by(BillingSubscription.id.desc())
    )


def free_used(session: Session, store_id: int, period: str) -> int:
    """Images published free of charge in ``period``."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(BillingUsage)
            .where(
                BillingUsage.store_id == store_id,
                BillingUsage.period == period,
                BillingUsage.state == UsageState.FREE.value,
            )
        )
        or 0
    )


def plan_required_message(services: Services) -> str:
    """What the merchant reads on an image that waits for a plan."""
    return (
        f"the free allowance of {services.settings.billing_free_images} images this month is used up: "
        "approve the plan under Usage and cost, and the image is published"
    )


def publication_blocked(services: Services, store_id: int) -> str | None:
    """Why the store may not publish another image now, or None when it may."""
    if not _billed(services, store_id):
        return None
    with services.session() as s:
        if active_subscription(s, store_id) is not None:
            return None
        if free_used(s, store_id, current_period()) < services.settings.billing_free_images:
            return None
    return plan_required_message(services)


def hold_for_plan(services: Services, version_id: int, message: str) -> None:
    """Leave an approved result waiting for a plan, saying so on the image."""
    with services.session() as s:
        version = s.get(ImageVersion, version_id)
        image = s.get(Image, version.image_id) if version else None
        if image is not None:
            image.status, image.failure_code, image.failure_reason = (
                ImageStatus.APPROVED.value,
                PLAN_REQUIRED,
                message,
            )


def _usage_row(services: Services, operation_id: int) -> int | None:
    """The usage row of a finished replacement (created once); None when it published nothing."""
    with services.session() as s:
        row = s.scalar(select(BillingUsage).where(BillingUsage.operation_id == operation_id))
        if row is not None:
            return row.id if row.state == UsageState.PENDING.value else None
        op = s.get(Operation, operation_id)
        if op is None or op.kind != OperationKind.REPLACE.value or op.state != OperationState.DONE.value:
            return None
        subscription = active_subscription(s, op.store_id)
        plan = plan_of(services)
        row = BillingUsage(
            store_id=op.store_id,
            image_id=op.image_id,
            version_id=op.version_id,
            operation_id=op.id,
            period=current_period(),
            state=UsageState.FREE.value if subscription is None else UsageState.PENDING.value,
            amount="0" if subscription is None else plan.price_per_image,
            currency=plan.currency,
            subscription_id=subscription.id if subscription else None,
        )
        s.add(row)
        s.flush()
        return row.id if subscription is not None else None


def record_publication(services: Services, operation_id: int) -> str | None:
    """Count (and, with a plan, charge) a finished replacement; the usage record's id if charged.

    Idempotent: the row is keyed by the operation, and the platform's record by an
    idempotency key made of it, so a retried job neither counts nor charges twice.
    """
    with services.session() as s:
        op = s.get(Operation, operation_id)
        if op is None or not _billed(services, op.store_id):
            return None
    row_id = _usage_row(services, operation_id)
    if row_id is None:
        return None
    return charge_pending(services, row_id)


def record_version(services: Services, version_id: int) -> str | None:
    """:func:`record_publication` of the replacement that published a result version, if any.

    A publish job retried after the store already shows the result answers "already published"
    without an operation; its charge (pending after a transient failure) is made here.
    """
    with services.session() as s:
        op_id = s.scalar(
            select(Operation.id)
            .where(
                Operation.version_id == version_id,
                Operation.kind == OperationKind.REPLACE.value,
                Operation.state == OperationState.DONE.value,
            )
            .order_by(Operation.id.desc())
        )
    return record_publication(services, op_id) if op_id is not None else None


def charge_waiting(services: Services, store_id: int) -> int:
    """Try again every charge of the store that did not reach the platform; how many were made."""
    with services.session() as s:
        rows = list(
            s.scalars(
                select(BillingUsage.id).where(
                    BillingUsage.store_id == store_id, BillingUsage.state == UsageState.PENDING.value
                )
            )
        )
    return sum(1 for row_id in rows if charge_pending(services, row_id) is not None)


def charge_pending(services: Services, row_id: int) -> str | None:
    """Create the usage record of a pending row on the platform; its id."""
    with services.session() as s:
        row = s.get(BillingUsage, row_id)
        subscription = (
            s.get(BillingSubscription, row.subscription_id) if row and row.subscription_id else None
        )
        if row is None or subscription is None or not subscription.usage_line_id:
            return None
        store_id, line, amount, currency = row.store_id, subscription.usage_line_id, row.amount, row.currency
        key, description = f"publish-op{row.operation_id}", f"image {row.image_id} published"
    client = billing_client(services, store_id)
    assert client is not None
    try:
        record_id = client.charge(line, amount, currency, description, key)
    except TransientError:
        raise  # the job is retried; the row stays pending
    except ConnectorError as exc:
        with services.session() as s:
            failed = s.get(BillingUsage, row_id)
            if failed is not None:
                failed.error = str(exc)
        return None
    with services.session() as s:
        done = s.get(BillingUsage, row_id)
        if done is not None:
            done.state, done.platform_record_id, done.error = UsageState.CHARGED.value, record_id, None
    return record_id


def subscribe(services: Services, store_id: int, return_url: str) -> str:
    """Offer the plan: a pending subscription on the platform; where the merchant approves it."""
    client = billing_client(services, store_id)
    if client is None:
        raise ConnectorError("this store's platform has no billing", hint="nothing to subscribe to")
    plan = plan_of(services)
    platform_id, url = client.subscribe(plan, return_url)
    with services.session() as s:
        s.add(
            BillingSubscription(
                store_id=store_id,
                platform_id=platform_id,
                name=plan.name,
                status="PENDING",
                capped_amount=plan.capped_amount,
                test=plan.test,
            )
        )
    return url


def refresh_subscription(services: Services, store_id: int) -> BillingSubscription | None:
    """Ask the platform which subscription is active and mirror it; the active one (detached) or None."""
    client = billing_client(services, store_id)
    if client is None:
        return None
    active = [sub for sub in client.active_subscriptions() if sub.status == ACTIVE]
    with services.session() as s:
        for known in s.scalars(select(BillingSubscription).where(BillingSubscription.store_id == store_id)):
            if known.status == ACTIVE and all(a.id != known.platform_id for a in active):
                known.status = "CANCELLED"
        found: BillingSubscription | None = None
        for sub in active:
            row = s.scalar(
                select(BillingSubscription).where(
                    BillingSubscription.store_id == store_id, BillingSubscription.platform_id == sub.id
                )
            )
            if row is None:
                row = BillingSubscription(store_id=store_id, platform_id=sub.id)
                s.add(row)
            row.name, row.status, row.test = sub.name, sub.status, sub.test
            row.usage_line_id, row.capped_amount, row.balance_used = (
                sub.usage_line_id,
                sub.capped_amount,
                sub.balance_used,
            )
            found = row
        s.flush()
        if found is not None:
            s.expunge(found)
    return found


def take_waiting(services: Services, store_id: int) -> list[tuple[int, str]]:
    """The approved results (version id, who approved it) that waited for a plan, no longer waiting.

    The caller queues their publication (:func:`connector.actions.release_waiting`).
    """
    with services.session() as s:
        waiting = list(
            s.scalars(
                select(Image).where(
                    Image.store_id == store_id,
                    Image.failure_code == PLAN_REQUIRED,
                    Image.status == ImageStatus.APPROVED.value,
                )
            )
        )
        found: list[tuple[int, str]] = []
        for image in waiting:
            version = s.scalar(
                select(ImageVersion)
                .where(ImageVersion.image_id == image.id, ImageVersion.state == "approved")
                .order_by(ImageVersion.id.desc())
            )
            if version is not None:
                image.failure_code = image.failure_reason = None
                found.append((version.id, version.actor))
    return found


@dataclass(frozen=True)
class UsageSummary:
    """What the merchant sees under Usage and cost."""

    period: str
    plan: BillingPlan
    subscription: str | None  # the active plan's name, or None
    test: bool
    published: int  # images published this period
    free_used: int
    free_left: int
    charged: int
    cost: Decimal
    capped_amount: str | None
    waiting: int  # approved results waiting for a plan


def usage_summary(services: Services, store_id: int) -> UsageSummary:
    """This month's usage and cost of a store."""
    period = current_period()
    with services.session() as s:
        rows = list(
            s.scalars(
                select(BillingUsage).where(BillingUsage.store_id == store_id, BillingUsage.period == period)
            )
        )
        active = active_subscription(s, store_id)
        waiting = int(
            s.scalar(
                select(func.count())
                .select_from(Image)
                .where(Image.store_id == store_id, Image.failure_code == PLAN_REQUIRED)
            )
            or 0
        )
        free = sum(1 for r in rows if r.state == UsageState.FREE.value)
        charged = [r for r in rows if r.state == UsageState.CHARGED.value]
        return UsageSummary(
            period=period,
            plan=plan_of(services),
            subscription=active.name if active else None,
            test=bool(active.test) if active else services.settings.billing_test,
            published=len(rows),
            free_used=free,
            free_left=max(0, services.settings.billing_free_images - free),
            charged=len(charged),
            cost=sum((Decimal(r.amount) for r in charged), Decimal("0")),
            capped_amount=active.capped_amount if active else None,
            waiting=waiting,
        )


def publication_blocked_for_version(services: Services, version_id: int) -> str | None:
    """:func:`publication_blocked` for the store of a result version (None: publish it)."""
    with services.session() as s:
        version = s.get(ImageVersion, version_id)
        image = s.get(Image, version.image_id) if version else None
        if image is None or version is None or version.state == "published":
            return None
        store_id = image.store_id
    return publication_blocked(services, store_id)
