"""The Billing API: app subscriptions the merchant approves, and usage records on a capped line.

``appSubscriptionCreate`` makes a PENDING subscription and a ``confirmationUrl`` on the shop's
admin; the merchant approves (ACTIVE, any other active subscription of the app is cancelled) or
declines there and is sent to the ``returnUrl``.  ``appUsageRecordCreate`` charges a usage line of
an ACTIVE subscription up to its ``cappedAmount`` ("Total price exceeds balance remaining");
a repeated ``idempotencyKey`` answers the first record.  ``currentAppInstallation
{ activeSubscriptions }`` lists the active ones.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, jsonify, request

from sandbox.shopify.context import Ctx
from sandbox.shopify.gids import gid, gid_num, iso
from sandbox.shopify.mutations_common import is_http_url, user_error

if TYPE_CHECKING:
    from sandbox.shopify.state import ShopState
    from sandbox.shopify.store import Sandbox

INTERVAL = "EVERY_30_DAYS"


@dataclass
class UsageRecord:
    num: int
    amount: Decimal
    currency: str
    description: str
    idempotency_key: str | None
    created_at: float


@dataclass
class LineItem:
    num: int
    usage: bool
    amount: Decimal  # capped amount (usage) or price (recurring)
    currency: str
    terms: str = ""
    records: list[UsageRecord] = field(default_factory=list)

    @property
    def balance_used(self) -> Decimal:
        return sum((r.amount for r in self.records), Decimal("0"))


@dataclass
class AppSubscription:
    num: int
    app_key: str
    name: str
    status: str  # PENDING | ACTIVE | DECLINED | CANCELLED
    test: bool
    return_url: str
    created_at: float
    lines: list[LineItem]


def _money(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"amount": str(amount), "currencyCode": currency}


def _line_view(line: LineItem) -> dict[str, Any]:
    if line.usage:
        details: dict[str, Any] = {
            "__typename": "AppUsagePricing",
            "terms": line.terms,
            "cappedAmount": _money(line.amount, line.currency),
            "balanceUsed": _money(line.balance_used, line.currency),
            "interval": INTERVAL,
        }
    else:
        details = {"__typename": "AppRecurringPricing", "price": _money(line.amount, line.currency)}
        details.update(interval=INTERVAL, discount=None, planHandle=None)
    return {"id": gid("AppSubscriptionLineItem", line.num), "plan": {"pricingDetails": details}}


def subscription_view(sub: AppSubscription) -> dict[str, Any]:
    """An ``AppSubscription`` object."""
    return {
        "__typename": "AppSubscription",
        "id": gid("AppSubscription", sub.num),
        "name": sub.name,
        "status": sub.status,
        "test": sub.test,
        "returnUrl": sub.return_url,
        "createdAt": iso(sub.created_at),
        "currentPeriodEnd": iso(sub.created_at + 30 * 86400) if sub.status == "ACTIVE" else None,
        "trialDays": 0,
        "lineItems": [_line_view(line) for line in sub.lines],
    }


def signature(secret: str, shop: str, num: int) -> str:
    """The confirmation link's signature (it cannot be made for another charge)."""
    return hmac.new(secret.encode(), f"{shop}:{num}".encode(), hashlib.sha256).hexdigest()


def confirmation_url(sb: Sandbox, shop: ShopState, sub: AppSubscription) -> str:
    """Where the merchant approves a subscription, on the shop's admin."""
    app = sb.app(sub.app_key)
    sig = signature(app.api_secret if app else "", shop.domain, sub.num)
    path = f"/{shop.domain}/admin/charges/{sub.app_key}/{sub.num}/confirm"
    return f"{sb.base_url}{path}?{urlencode({'signature': sig})}"


def _line(ctx: Ctx, spec: dict[str, Any]) -> LineItem | dict[str, Any]:
    """A line item from its input, or the user error it deserves."""
    plan = spec.get("plan") or {}
    usage, recurring = plan.get("appUsagePricingDetails"), plan.get("appRecurringPricingDetails")
    if (usage is None) == (recurring is None):
        return user_error(["lineItems"], "Each line item needs exactly one pricing plan")
    money = (usage or {}).get("cappedAmount") or (recurring or {}).get("price") or {}
    try:
        amount = Decimal(str(money.get("amount")))
    except InvalidOperation:
        return user_error(["lineItems"], "Amount is not a number")
    if amount <= 0:
        return user_error(["lineItems"], "Capped amount must be greater than 0")
    return LineItem(
        ctx.sb.state.next_id(),
        usage is not None,
        amount,
        str(money.get("currencyCode") or "USD"),
        terms=str((usage or {}).get("terms") or ""),
    )


def app_subscription_create(
    ctx: Ctx,
    name: str,
    lineItems: list[dict[str, Any]],
    returnUrl: str,
    test: bool | None = None,
    **_ignored: Any,
) -> dict[str, Any]:
    def refused(error: dict[str, Any]) -> dict[str, Any]:
        return {"appSubscription": None, "confirmationUrl": None, "userErrors": [error]}

    if not name.strip():
        return refused(user_error(["name"], "Name can't be blank"))
    if not is_http_url(returnUrl):
        return refused(user_error(["returnUrl"], "Return url is invalid"))
    if not lineItems or len(lineItems) > 2:
        return refused(user_error(["lineItems"], "A subscription has one or two line items"))
    lines = []
    for spec in lineItems:
        line = _line(ctx, spec)
        if isinstance(line, dict):
            return refused(line)
        lines.append(line)
    sub = AppSubscription(
        ctx.sb.state.next_id(), ctx.app_key, name, "PENDING", bool(test), returnUrl, time.time(), lines
    )
    ctx.shop.charges[sub.num] = sub
    return {
        "appSubscription": subscription_view(sub),
        "confirmationUrl": confirmation_url(ctx.sb, ctx.shop, sub),
        "userErrors": [],
    }


def _find_line(ctx: Ctx, line_id: str) -> tuple[AppSubscription, LineItem] | None:
    num = gid_num(line_id, "AppSubscriptionLineItem")
    for sub in ctx.shop.charges.values():
        if sub.app_key != ctx.app_key:
            continue
        for line in sub.lines:
            if line.num == num:
                return sub, line
    return None


def _record_view(record: UsageRecord, line: LineItem) -> dict[str, Any]:
    return {
        "id": gid("AppUsageRecord", record.num),
        "idempotencyKey": record.idempotency_key,
        "description": record.description,
        "price": _money(record.amount, record.currency),
        "createdAt": iso(record.created_at),
        "subscriptionLineItem": _line_view(line),
    }


def app_usage_record_create(
    ctx: Ctx,
    subscriptionLineItemId: str,
    price: dict[str, Any],
    description: str,
    idempotencyKey: str | None = None,
) -> dict[str, Any]:
    def refused(field_name: str, message: str) -> dict[str, Any]:
        return {"appUsageRecord": None, "userErrors": [user_error([field_name], message)]}

    found = _find_line(ctx, subscriptionLineItemId)
    if found is None:
        return refused("subscriptionLineItemId", "Subscription line item does not exist")
    sub, line = found
    if not line.usage:
        return refused("subscriptionLineItemId", "Line item does not have usage pricing")
    if sub.status != "ACTIVE":
        return refused("subscriptionLineItemId", f"The subscription is {sub.status.lower()}, not active")
    if idempotencyKey is not None and len(idempotencyKey) > 255:
        return refused("idempotencyKey", "Idempotency key is too long (maximum is 255 characters)")
    repeated = next((r for r in line.records if idempotencyKey and r.idempotency_key == idempotencyKey), None)
    if repeated is not None:
        return {"appUsageRecord": _record_view(repeated, line), "userErrors": []}
    amount = Decimal(str(price.get("amount")))
    if str(price.get("currencyCode")) != line.currency:
        return refused("price", f"Currency must be {line.currency}")
    if amount <= 0:
        return refused("price", "Price must be greater than 0")
    if line.balance_used + amount > line.amount:
        return refused("price", "Total price exceeds balance remaining")
    record = UsageRecord(
        ctx.sb.state.next_id(), amount, line.currency, description, idempotencyKey, time.time()
    )
    line.records.append(record)
    return {"appUsageRecord": _record_view(record, line), "userErrors": []}


def active_subscriptions(ctx: Ctx) -> list[dict[str, Any]]:
    """``AppInstallation.activeSubscriptions`` of the calling app."""
    return [
        subscription_view(sub)
        for sub in ctx.shop.charges.values()
        if sub.app_key == ctx.app_key and sub.status == "ACTIVE"
    ]


BILLING_MUTATIONS: dict[str, Callable[..., Any]] = {
    "appSubscriptionCreate": app_subscription_create,
    "appUsageRecordCreate": app_usage_record_create,
}


def summary(sub: AppSubscription) -> dict[str, Any]:
    """Admin view of a subscription with its usage records."""
    return {
        **subscription_view(sub),
        "app": sub.app_key,
        "usage_records": [
            {
                "id": gid("AppUsageRecord", r.num),
                "amount": str(r.amount),
                "currency": r.currency,
                "description": r.description,
                "idempotency_key": r.idempotency_key,
            }
            for line in sub.lines
            for r in line.records
        ],
    }


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Approve subscription</title></head>
<body><main><h1>Approve subscription</h1>
<p><strong>{app}</strong> wants to charge {shop}:</p>
<dl><dt>Plan</dt><dd>{name}</dd>{lines}</dl>{test}
<form method="post"><input type="hidden" name="signature" value="{sig}">
<button name="decision" value="approve">Approve</button>
<button name="decision" value="decline">Decline</button>
</form></main></body></html>"""


def billing_blueprint(sb: Sandbox) -> Blueprint:
    bp = Blueprint("shopify_billing", __name__)

    def charge_of(shop_name: str, app_key: str, num: int) -> tuple[ShopState, AppSubscription]:
        """The shop and the charge a signed confirmation link is for (404/403 otherwise)."""
        shop = sb.state.shop(shop_name)
        app = sb.app(app_key)
        sub = shop.charges.get(num) if shop is not None else None
        sig = request.values.get("signature", "")
        if shop is None or app is None or sub is None or sub.app_key != app_key:
            abort(Response("There's no page at this address", status=404, mimetype="text/plain"))
        if not hmac.compare_digest(sig, signature(app.api_secret, shop.domain, num)):
            abort(Response("Invalid signature", status=403, mimetype="text/plain"))
        return shop, sub

    @bp.get("/<shop_name>/admin/charges/<app_key>/<int:num>/confirm")
    def confirm_page(shop_name: str, app_key: str, num: int) -> Response:
        shop, sub = charge_of(shop_name, app_key, num)
        app = sb.app(app_key)
        lines = "".join(
            f"<dt>{'Usage charges' if line.usage else 'Every 30 days'}</dt><dd>"
            + escape(
                f"{line.terms} (up to {line.amount} {line.currency} every 30 days)"
                if line.usage
                else f"{line.amount} {line.currency}"
            )
            + "</dd>"
            for line in sub.lines
        )
        test = "<p role=note>This is a test charge: you will not be billed.</p>" if sub.test else ""
        html = _PAGE.format(
            app=escape(app.name if app else app_key),
            shop=escape(shop.domain),
            name=escape(sub.name),
            lines=lines,
            test=test,
            sig=escape(request.args.get("signature", "")),
        )
        return Response(html, mimetype="text/html")

    @bp.post("/<shop_name>/admin/charges/<app_key>/<int:num>/confirm")
    def confirm(shop_name: str, app_key: str, num: int) -> Response:
        shop, sub = charge_of(shop_name, app_key, num)
        with sb.state.lock:
            if sub.status == "PENDING":
                approve = request.form.get("decision") == "approve"
                if approve:
                    for other in shop.charges.values():
                        if other.app_key == app_key and other.status == "ACTIVE":
                            other.status = "CANCELLED"
                sub.status = "ACTIVE" if approve else "DECLINED"
        joiner = "&" if "?" in sub.return_url else "?"
        return Response(status=302, headers={"Location": f"{sub.return_url}{joiner}charge_id={sub.num}"})

    @bp.get("/__sandbox/shops/<shop_name>/billing")
    def charges(shop_name: str) -> Response:
        shop = sb.shop_or_error(shop_name)
        with sb.state.lock:
            return jsonify([summary(sub) for sub in shop.charges.values()])

    return bp
