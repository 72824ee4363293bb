"""GraphQL views of the shop and the app's own objects: the shop, the app's installation, its bulk
operations and webhook subscriptions (see :mod:`sandbox.shopify.views` for how views work)."""

from __future__ import annotations

import zlib
from typing import Any

from sandbox.shopify.config import API_VERSION
from sandbox.shopify.context import Ctx
from sandbox.shopify.gids import gid, iso
from sandbox.shopify.state import (
    BulkOperation,
    WebhookSubscription,
)


class BulkOperationView:
    graphql_type = "BulkOperation"

    def __init__(self, ctx: Ctx, op: BulkOperation) -> None:
        self._ctx, self._op = ctx, op

    def id(self) -> str:
        return gid("BulkOperation", self._op.num)

    def status(self) -> str:
        return self._op.status

    def type(self) -> str:
        return "QUERY"

    def errorCode(self) -> str | None:
        return self._op.error_code

    def createdAt(self) -> str | None:
        return iso(self._op.created_at)

    def completedAt(self) -> str | None:
        return iso(self._op.completed_at)

    def objectCount(self) -> str:
        return str(self._op.object_count)

    def rootObjectCount(self) -> str:
        return str(self._op.root_object_count)

    def fileSize(self) -> str | None:
        return str(len(self._op.jsonl)) if self._op.jsonl else None

    def url(self) -> str | None:
        if self._op.status != "COMPLETED" or not self._op.jsonl:
            return None
        return f"{self._ctx.base_url}/{self._ctx.shop.domain}/bulk/{self._op.num}.jsonl"

    def partialDataUrl(self) -> None:
        return None

    def query(self) -> str:
        return self._op.query


class WebhookSubscriptionView:
    graphql_type = "WebhookSubscription"

    def __init__(self, ctx: Ctx, sub: WebhookSubscription) -> None:
        self._ctx, self._s, self._num = ctx, sub, sub.num

    def id(self) -> str:
        return gid("WebhookSubscription", self._s.num)

    def legacyResourceId(self) -> str:
        return str(self._s.num)

    def topic(self) -> str:
        return self._s.topic

    def callbackUrl(self) -> str:
        return self._s.callback_url

    def endpoint(self) -> dict[str, Any]:
        return {"__typename": "WebhookHttpEndpoint", "callbackUrl": self._s.callback_url}

    def format(self) -> str:
        return self._s.format

    def includeFields(self) -> list[str]:
        return list(self._s.include_fields)

    def metafieldNamespaces(self) -> list[str]:
        return []

    def filter(self) -> None:
        return None

    def apiVersion(self) -> dict[str, Any]:
        return {"handle": API_VERSION, "displayName": API_VERSION, "supported": True}

    def createdAt(self) -> str | None:
        return iso(self._s.created_at)

    def updatedAt(self) -> str | None:
        return iso(self._s.updated_at)


class ShopView:
    graphql_type = "Shop"

    def __init__(self, ctx: Ctx) -> None:
        self._ctx = ctx

    def id(self) -> str:
        return gid("Shop", self._ctx.shop.num)

    def name(self) -> str:
        return self._ctx.shop.name

    def myshopifyDomain(self) -> str:
        return self._ctx.shop.domain

    def email(self) -> str:
        return f"owner@{self._ctx.shop.domain}"

    def contactEmail(self) -> str:
        return self.email()

    def url(self) -> str:
        return f"https://{self._ctx.shop.domain}"

    def currencyCode(self) -> str:
        return "USD"

    def ianaTimezone(self) -> str:
        return "UTC"

    def createdAt(self) -> str | None:
        return iso(self._ctx.shop.created_at)

    def plan(self) -> dict[str, Any]:
        return {"displayName": "Basic", "partnerDevelopment": False, "shopifyPlus": False}

    def primaryDomain(self) -> dict[str, Any]:
        domain = self._ctx.shop.domain
        return {
            "id": gid("Domain", self._ctx.shop.num),
            "host": domain,
            "url": f"https://{domain}",
            "sslEnabled": True,
        }


class AppInstallationView:
    graphql_type = "AppInstallation"

    def __init__(self, ctx: Ctx) -> None:
        self._ctx = ctx

    def id(self) -> str:
        return gid("AppInstallation", self._ctx.shop.num)

    def accessScopes(self) -> list[dict[str, str]]:
        return [{"handle": s, "description": s.replace("_", " ")} for s in sorted(self._ctx.scopes)]

    def launchUrl(self) -> str:
        return f"https://admin.shopify.com/store/{self._ctx.shop.handle}/apps/{self._ctx.app_key}"

    def uninstallUrl(self) -> None:
        return None

    def activeSubscriptions(self) -> list[dict[str, Any]]:
        from sandbox.shopify.billing import active_subscriptions

        return active_subscriptions(self._ctx)

    def app(self) -> dict[str, Any]:
        app = self._ctx.sb.app(self._ctx.app_key)
        return {
            "id": gid("App", zlib.crc32(self._ctx.app_key.encode())),
            "apiKey": self._ctx.app_key,
            "title": app.name if app else self._ctx.app_key,
            "handle": self._ctx.app_key,
        }
