"""Billing per published image on every database: the free allowance, results waiting for a plan, one
usage record per publication (idempotent), none for held, rejected or rolled-back images."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from sandbox.fake_platform import FakeApp
from sqlalchemy import select

from connector import actions, billing
from connector.billing_models import BillingUsage
from connector.errors import TransientError
from connector.models import Image, ImageStatus
from connector.port import CredentialsSaver
from connector.port_embedded import BillingPlan, Subscription
from connector.rollback import rollback_image
from connector.services import Services
from connector.stores import save_install
from connector.sync import sync_store
from jobs.tasks import publish_version_job
from tests.helpers import approved_result, png

pytestmark = pytest.mark.integration


class FakeBilling:
    """A platform's billing kept in memory: subscriptions the merchant approves, usage records by key."""

    def __init__(self) -> None:
        self.status = "NONE"
        self.records: dict[str, tuple[str, str]] = {}
        self.down = False  # the billing endpoint fails (a timeout, a 5xx)

    def subscribe(self, plan: BillingPlan, return_url: str) -> tuple[str, str]:
        self.status = "PENDING"
        return "sub-1", f"https://billing.example/confirm?return={return_url}"

    def active_subscriptions(self) -> list[Subscription]:
        if self.status != "ACTIVE":
            return []
        return [Subscription("sub-1", "Per processed image", "ACTIVE", "line-1", "100.00", None, True)]

    def charge(self, line_id: str, amount: str, currency: str, description: str, key: str) -> str:
        assert line_id == "line-1"
        if self.down:
            raise TransientError("billing timed out", hint="try again")
        self.records.setdefault(key, (amount, description))
        return f"record-{key}"


class BilledFake(FakeApp):
    """The fake platform with billing (the port's BillingApp)."""

    def __init__(self) -> None:
        super().__init__()
        self.bills = FakeBilling()

    def billing(
        self, shop: str, credentials: Mapping[str, Any], on_credentials: CredentialsSaver | None = None
    ) -> FakeBilling:
        return self.bills


@pytest.fixture
def shop(services: Services) -> tuple[Services, BilledFake, int, list[int]]:
    app = BilledFake()
    services.platforms["fake"] = app
    services.settings = services.settings.with_(billing_free_images=1)
    app.store("billed.fake").add_product("mug", [png((200, 10, 10)), png((10, 200, 10)), png((10, 10, 200))])
    app.store("billed.fake").add_product("lamp", [png((90, 90, 10))])
    store_id = save_install(services, "fake", "billed.fake", {"token": "tok-billed.fake"})
    sync_store(services, store_id)
    with services.session() as s:
        images = list(s.scalars(select(Image.id).where(Image.store_id == store_id).order_by(Image.id)))
    return services, app, store_id, images


def _usage(services: Services, store_id: int) -> list[tuple[int | None, str]]:
    with services.session() as s:
        rows = s.scalars(
            select(BillingUsage).where(BillingUsage.store_id == store_id).order_by(BillingUsage.id)
        )
        return [(r.image_id, r.state) for r in rows]


def test_free_allowance_then_results_wait_for_a_plan_then_each_publication_is_charged_once(shop) -> None:  # type: ignore[no-untyped-def]
    services, app, store_id, (free, waits, rejected, held) = shop
    first = approved_result(services, free, png((255, 255, 255)))
    assert publish_version_job(first)["state"] == "done"
    assert _usage(services, store_id) == [(free, "free")]

    second = approved_result(services, waits, png((250, 250, 250)))
    answer = publish_version_job(second)
    assert answer["state"] == "waiting" and "free allowance" in answer["reason"]
    with services.session() as s:
        image = s.get(Image, waits)
        assert image is not None
        assert (image.status, image.failure_code) == (ImageStatus.APPROVED.value, billing.PLAN_REQUIRED)
    assert billing.usage_summary(services, store_id).waiting == 1

    third = approved_result(services, rejected, png((240, 240, 240)))
    actions.reject(services, third)
    approved_result(services, held, png((230, 230, 230)))  # never approved by anyone

    url = billing.subscribe(services, store_id, "https://admin.example/apps/app")
    assert url.startswith("https://billing.example/confirm")
    assert billing.refresh_subscription(services, store_id) is None  # not approved yet: nothing released
    app.bills.status = "ACTIVE"  # the merchant approves on the platform's page
    assert billing.refresh_subscription(services, store_id) is not None
    assert actions.release_waiting(services, store_id) == 1
    with services.session() as s:
        image = s.get(Image, waits)
        assert image is not None and image.failure_code is None
    app.bills.down = True  # the released job publishes, but the charge fails: the job is retried
    with pytest.raises(TransientError):
        publish_version_job(second)
    assert _usage(services, store_id)[-1] == (waits, "pending") and app.bills.records == {}
    app.bills.down = False
    assert publish_version_job(second)["state"] == "noop"  # the retry: already on the store, charged now
    publish_version_job(second)  # and once more: no second charge
    (key,) = app.bills.records
    assert key.startswith("publish-op") and app.bills.records[key][0] == "0.05"

    undo = rollback_image(services, waits)
    assert undo.state == "done" and undo.operation_id is not None
    assert billing.record_publication(services, undo.operation_id) is None  # a rollback is not charged
    assert _usage(services, store_id) == [(free, "free"), (waits, "charged")]
    summary = billing.usage_summary(services, store_id)
    assert (summary.published, summary.charged, str(summary.cost), summary.free_left) == (2, 1, "0.05", 0)


def test_platforms_without_billing_are_never_held(sqlite_services: Services) -> None:
    services = sqlite_services
    services.settings = services.settings.with_(billing_free_images=0)
    app = services.platforms["fake"]
    assert isinstance(app, FakeApp)
    app.store("free.fake").add_product("cup", [png((1, 2, 3))])
    store_id = save_install(services, "fake", "free.fake", {"token": "tok-free.fake"})
    sync_store(services, store_id)
    with services.session() as s:
        image_id = s.scalar(select(Image.id).where(Image.store_id == store_id))
    assert image_id is not None
    assert billing.publication_blocked(services, store_id) is None
    assert publish_version_job(approved_result(services, image_id, png((255, 255, 255))))["state"] == "done"
    assert _usage(services, store_id) == []
