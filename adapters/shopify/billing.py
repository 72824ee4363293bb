"""The Billing API for one shop: a usage subscription, its status, and usage records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.shopify import documents as docs
from adapters.shopify.graphql import AdminGraphQL
from adapters.shopify.user_errors import raise_for_user_errors
from connector.errors import PlatformError
from connector.port_embedded import BillingPlan, Subscription


def _usage_line(item: Mapping[str, Any]) -> Mapping[str, Any] | None:
    details = ((item.get("plan") or {}).get("pricingDetails")) or {}
    return details if details.get("__typename") == "AppUsagePricing" else None


def subscription_from_node(node: Mapping[str, Any]) -> Subscription:
    """The port's view of an ``AppSubscription`` node."""
    usage = next(
        ((item, line) for item in node.get("lineItems") or [] if (line := _usage_line(item)) is not None),
        None,
    )
    capped = balance = line_id = None
    if usage is not None:
        item, line = usage
        line_id = str(item["id"])
        capped = str((line.get("cappedAmount") or {}).get("amount")) if line.get("cappedAmount") else None
        balance = str((line.get("balanceUsed") or {}).get("amount")) if line.get("balanceUsed") else None
    return Subscription(
        id=str(node["id"]),
        name=str(node.get("name") or ""),
        status=str(node.get("status") or ""),
        usage_line_id=line_id,
        capped_amount=capped,
        balance_used=balance,
        test=bool(node.get("test")),
    )


class ShopifyBilling:
    """Charges one shop through the Billing API (the shop's Admin GraphQL client)."""

    def __init__(self, graphql: AdminGraphQL) -> None:
        self.graphql = graphql

    def subscribe(self, plan: BillingPlan, return_url: str) -> tuple[str, str]:
        """A pending subscription with one capped usage line; its id and the confirmation URL."""
        line = {
            "plan": {
                "appUsagePricingDetails": {
                    "terms": plan.terms,
                    "cappedAmount": {"amount": plan.capped_amount, "currencyCode": plan.currency},
                }
            }
        }
        variables = {"name": plan.name, "returnUrl": return_url, "test": plan.test, "lineItems": [line]}
        result = self.graphql.execute(docs.APP_SUBSCRIPTION_CREATE, variables)["appSubscriptionCreate"]
        raise_for_user_errors(result.get("userErrors"), "creating the subscription")
        subscription, url = result.get("appSubscription") or {}, result.get("confirmationUrl")
        if not subscription.get("id") or not url:
            raise PlatformError("Shopify created no subscription to approve", hint="try subscribing again")
        return str(subscription["id"]), str(url)

    def active_subscriptions(self) -> list[Subscription]:
        """The shop's active subscriptions to this app."""
        data = self.graphql.execute(docs.ACTIVE_SUBSCRIPTIONS)
        nodes = (data.get("currentAppInstallation") or {}).get("activeSubscriptions") or []
        return [subscription_from_node(n) for n in nodes]

    def charge(self, line_id: str, amount: str, currency: str, description: str, key: str) -> str:
        """One usage record; Shopify answers a repeated ``idempotencyKey`` with the first record."""
        variables = {
            "subscriptionLineItemId": line_id,
            "price": {"amount": amount, "currencyCode": currency},
            "description": description[:255],
            "idempotencyKey": key[:255],
        }
        result = self.graphql.execute(docs.APP_USAGE_RECORD_CREATE, variables)["appUsageRecordCreate"]
        raise_for_user_errors(result.get("userErrors"), "recording usage")
        record = result.get("appUsageRecord") or {}
        if not record.get("id"):
            raise PlatformError("Shopify recorded no usage", hint="the charge is tried again")
        return str(record["id"])
