"""Root ``Mutation`` fields the sandbox emulates, with Shopify's ``userErrors``.

Products whose media change are collected on the context and announced with ``products/update``
once the request finished (see :mod:`sandbox.shopify.graphql_api`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from sandbox.shopify import bulk
from sandbox.shopify.billing import BILLING_MUTATIONS
from sandbox.shopify.context import Ctx, unsupported
from sandbox.shopify.gids import gid_num
from sandbox.shopify.mutations_common import user_error
from sandbox.shopify.mutations_files import file_create, file_delete, file_update, staged_uploads_create
from sandbox.shopify.mutations_media import (
    product_delete_media,
    product_reorder_media,
    product_variant_append_media,
    product_variant_detach_media,
)
from sandbox.shopify.state import WebhookSubscription
from sandbox.shopify.views_shop import BulkOperationView, WebhookSubscriptionView

# ------------------------------------------------------------------------------------------- bulk operations


def bulk_operation_run_query(ctx: Ctx, query: str) -> dict[str, Any]:
    op, errors = bulk.start(ctx, query)
    if errors:
        return {"bulkOperation": None, "userErrors": errors}
    assert op is not None
    return {"bulkOperation": BulkOperationView(ctx, op), "userErrors": []}


def bulk_operation_cancel(ctx: Ctx, id: str) -> dict[str, Any]:
    num = gid_num(id, "BulkOperation")
    op = ctx.shop.bulk_operations.get(num) if num is not None else None
    if op is None or op.app_key != ctx.app_key:
        return {"bulkOperation": None, "userErrors": [user_error(["id"], "Bulk operation does not exist")]}
    if op.status not in ("CREATED", "RUNNING"):
        message = f"A bulk operation cannot be canceled when it is {op.status.lower()}"
        return {"bulkOperation": BulkOperationView(ctx, op), "userErrors": [user_error(None, message)]}
    bulk.cancel(ctx.sb, ctx.shop, op)
    return {"bulkOperation": BulkOperationView(ctx, op), "userErrors": []}


# --------------------------------------------------------------------------------------------- webhooks

TOPIC_SCOPES = {"PRODUCTS": ("read_products", "write_products")}


def _check_endpoint(
    ctx: Ctx, topic: str, settings: dict[str, Any], existing: WebhookSubscription | None
) -> dict[str, Any] | None:
    """The user error for a subscription's endpoint, or None when it is acceptable."""
    where = ["webhookSubscription", "callbackUrl"]
    url = settings.get("callbackUrl") or (existing.callback_url if existing else None)
    if settings.get("filter"):
        raise unsupported("Webhook subscription filters")
    if (settings.get("format") or "JSON") != "JSON":
        raise unsupported("XML webhook subscriptions")
    if not url:
        return user_error(where, "Address can't be blank")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return user_error(where, "Address is invalid")
    if parts.scheme == "http" and not ctx.sb.config.allow_http_webhooks:
        return user_error(where, "Address protocol http:// is not supported")
    taken = any(
        s.app_key == ctx.app_key and s.topic == topic and s.callback_url == url and s is not existing
        for s in ctx.shop.subscriptions.values()
    )
    if taken:
        return user_error(where, "Address for this topic has already been taken")
    return None


def webhook_subscription_create(ctx: Ctx, topic: str, webhookSubscription: dict[str, Any]) -> dict[str, Any]:
    scopes = TOPIC_SCOPES.get(topic.split("_", 1)[0])
    if scopes is not None:
        ctx.require("webhookSubscriptionCreate", *scopes)
    problem = _check_endpoint(ctx, topic, webhookSubscription, None)
    if problem is not None:
        return {"webhookSubscription": None, "userErrors": [problem]}
    now = time.time()
    sub = WebhookSubscription(
        ctx.sb.state.next_id(),
        ctx.app_key,
        topic,
        webhookSubscription["callbackUrl"],
        now,
        now,
        include_fields=tuple(webhookSubscription.get("includeFields") or ()),
    )
    ctx.shop.subscriptions[sub.num] = sub
    return {"webhookSubscription": WebhookSubscriptionView(ctx, sub), "userErrors": []}


def webhook_subscription_update(ctx: Ctx, id: str, webhookSubscription: dict[str, Any]) -> dict[str, Any]:
    sub = _own_subscription(ctx, id)
    if sub is None:
        return {
            "webhookSubscription": None,
            "userErrors": [user_error(["id"], "Webhook subscription does not exist")],
        }
    problem = _check_endpoint(ctx, sub.topic, webhookSubscription, sub)
    if problem is not None:
        return {"webhookSubscription": None, "userErrors": [problem]}
    if webhookSubscription.get("callbackUrl"):
        sub.callback_url = webhookSubscription["callbackUrl"]
    if webhookSubscription.get("includeFields") is not None:
        sub.include_fields = tuple(webhookSubscription["includeFields"])
    sub.updated_at = time.time()
    return {"webhookSubscription": WebhookSubscriptionView(ctx, sub), "userErrors": []}


def _own_subscription(ctx: Ctx, value: str) -> WebhookSubscription | None:
    num = gid_num(value, "WebhookSubscription")
    sub = ctx.shop.subscriptions.get(num) if num is not None else None
    return sub if sub is not None and sub.app_key == ctx.app_key else None


def webhook_subscription_delete(ctx: Ctx, id: str) -> dict[str, Any]:
    sub = _own_subscription(ctx, id)
    if sub is None:
        return {
            "deletedWebhookSubscriptionId": None,
            "userErrors": [user_error(["id"], "Webhook subscription does not exist")],
        }
    del ctx.shop.subscriptions[sub.num]
    return {"deletedWebhookSubscriptionId": id, "userErrors": []}


def _files_arg(fn: Callable[[Ctx, list[dict[str, Any]]], dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """GraphQL calls the argument ``files``; the module of that name is taken here."""

    def call(ctx: Ctx, files: list[dict[str, Any]]) -> dict[str, Any]:
        return fn(ctx, files)

    return call


MUTATION_FIELDS: dict[str, Callable[..., Any]] = {
    "stagedUploadsCreate": staged_uploads_create,
    "fileCreate": _files_arg(file_create),
    "fileUpdate": _files_arg(file_update),
    "fileDelete": file_delete,
    "productReorderMedia": product_reorder_media,
    "productVariantAppendMedia": product_variant_append_media,
    "productVariantDetachMedia": product_variant_detach_media,
    "productDeleteMedia": product_delete_media,
    "bulkOperationRunQuery": bulk_operation_run_query,
    "bulkOperationCancel": bulk_operation_cancel,
    "webhookSubscriptionCreate": webhook_subscription_create,
    "webhookSubscriptionUpdate": webhook_subscription_update,
    "webhookSubscriptionDelete": webhook_subscription_delete,
    **BILLING_MUTATIONS,
}
