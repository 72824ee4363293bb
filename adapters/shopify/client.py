"""StoreClient for one installed Shopify shop, over the GraphQL Admin API.

Every replacement step reads the product (or the media) first and does nothing when the
store already shows the wanted state, so an interrupted operation can run a step again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import cached_property
from typing import Any, ClassVar

from adapters.shopify import documents as docs
from adapters.shopify.auth import OAuth, TokenKeeper, sanitize_shop
from adapters.shopify.bulk_export import BulkExport
from adapters.shopify.catalog import (
    ProductDraft,
    search_updated_since,
)
from adapters.shopify.config import MAX_QUERY_COST, ShopifyConfig
from adapters.shopify.cost import estimate_cost
from adapters.shopify.graphql import AdminGraphQL
from adapters.shopify.http import Runtime, retry_policy
from adapters.shopify.ids import product_gid
from adapters.shopify.media_library import MediaLibrary
from adapters.shopify.paging import PagePlan, PageSizer
from adapters.shopify.throttle import BucketFactory
from adapters.shopify.user_errors import raise_for_user_errors
from adapters.shopify.webhooks import SUBSCRIBED_TOPICS
from connector.errors import NotFound, PlatformError, TransientError
from connector.port import CredentialsSaver, RemoteProduct

#: Shopify accepts at most this many items in one input list.
MAX_INPUT_ITEMS = 250


def _chunks(items: list[Any], size: int = MAX_INPUT_ITEMS) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ShopifyClient(MediaLibrary, BulkExport):
    """Operations on one Shopify shop.  Raises only :mod:`connector.errors` classes."""

    platform: ClassVar[str] = "shopify"

    def __init__(
        self,
        config: ShopifyConfig,
        shop: str,
        credentials: Mapping[str, Any],
        on_credentials: CredentialsSaver | None = None,
        runtime: Runtime | None = None,
        buckets: BucketFactory | None = None,
    ) -> None:
        """``buckets`` gives the shop's cost bucket (default: one of this client's own)."""
        self.config = config
        self.shop = sanitize_shop(shop)
        self.runtime = runtime or Runtime()
        self.session = self.runtime.new_session(config.outbound)
        self.retry = retry_policy(config, self.runtime)
        oauth = OAuth(config, self.session, self.retry, self.runtime.clock)
        self.tokens = TokenKeeper(oauth, self.shop, credentials, on_credentials, config.refresh_leeway)
        self.graphql = AdminGraphQL(
            config.graphql_url(self.shop),
            self.tokens,
            self.session,
            self.retry,
            config.timeout,
            self.runtime.monotonic,
            buckets(self.shop) if buckets is not None else None,
        )

    @property
    def credentials(self) -> dict[str, Any]:
        """The credentials in use now (rotated ones included)."""
        return dict(self.tokens.credentials)

    def close(self) -> None:
        """Release the HTTP connections (the client must not be used afterwards)."""
        self.session.close()

    # ----------------------------------------------------------------- reading products

    @cached_property
    def page_size(self) -> int:
        """Products per page: the configured size, lowered until a page costs at most 1000."""
        size = max(1, min(self.config.page_size, MAX_INPUT_ITEMS))
        while size > 1 and estimate_cost(docs.PRODUCTS_PAGE, self._page_variables(size)) > MAX_QUERY_COST:
            size -= 1
        return size

    def _page_variables(
        self, first: int, after: str | None = None, query: str | None = None
    ) -> dict[str, Any]:
        return {
            "first": first,
            "after": after,
            "query": query,
            "mediaFirst": self.config.media_per_product,
            "variantsFirst": self.config.variants_per_product,
        }

    def products_count(self, updated_since: datetime | None = None) -> int:
        """How many products the shop has (or changed since ``updated_since``)."""
        data = self.graphql.execute(docs.PRODUCTS_COUNT, {"query": search_updated_since(updated_since)})
        return int((data.get("productsCount") or {}).get("count") or 0)

    def iter_products(self, updated_since: datetime | None = None) -> Iterator[RemoteProduct]:
        """Every product (or those changed since), by bulk export for large sets, else by pages."""
        threshold = self.config.bulk_threshold
        if threshold > 0 and self.products_count(updated_since) >= threshold:
            yield from self.iter_products_bulk(updated_since)
        else:
            yield from self.iter_products_paged(updated_since)

    def iter_products_paged(self, updated_since: datetime | None = None) -> Iterator[RemoteProduct]:
        """Products by cursor pagination, pages sized by :class:`PageSizer` (cost ≤ 1000 points)."""
        query = search_updated_since(updated_since)
        sizer = self.page_sizer()
        plan: PagePlan | None = sizer.plan()
        after: str | None = None
        while plan is not None:
            variables = {**self._page_variables(plan.first, after, query)}
            variables.update(mediaFirst=plan.media_first, variantsFirst=plan.variants_first)
            try:
                data = self.graphql.execute(docs.PRODUCTS_PAGE, variables)
            except PlatformError as exc:
                if exc.code == "max_cost_exceeded":
                    plan = sizer.shrink(plan)
                    if plan is not None:
                        continue
                raise
            connection = data["products"]
            sizer.observe(connection["nodes"])
            for node in connection["nodes"]:
                yield self._complete(node).to_remote()
            page = connection["pageInfo"]
            if not page["hasNextPage"]:
                return
            after = page["endCursor"]
            plan = sizer.plan()

    def page_sizer(self) -> PageSizer:
        """A fresh sizer for one paged listing (configured sizes, then sized from the pages seen)."""

        def estimate(first: int, media_first: int, variants_first: int) -> float:
            variables = {
                **self._page_variables(first),
                "mediaFirst": media_first,
                "variantsFirst": variants_first,
            }
            return float(estimate_cost(docs.PRODUCTS_PAGE, variables))

        return PageSizer(
            estimate,
            min(self.config.page_size, MAX_INPUT_ITEMS),
            self.config.media_per_product,
            self.config.variants_per_product,
            MAX_QUERY_COST,
        )

    def get_product(self, product_id: str) -> RemoteProduct | None:
        """Re-read one product; None when it no longer exists."""
        try:
            return self._read(product_id).to_remote()
        except NotFound:
            return None

    def _read(self, product_id: str) -> ProductDraft:
        """The product with all its media and variants; NotFound when it is gone."""
        data = self.graphql.execute(
            docs.PRODUCT,
            {
                "id": product_gid(product_id),
                "mediaFirst": self.config.media_per_product,
                "variantsFirst": self.config.variants_per_product,
            },
        )
        node = data.get("product")
        if node is None:
            raise NotFound(
                f"product {product_id} does not exist on {self.shop}", hint="it was deleted; re-sync"
            )
        return self._complete(node)

    def _complete(self, node: Mapping[str, Any]) -> ProductDraft:
        """A draft from a product node, fetching the rest of long media and variant lists."""
        draft = ProductDraft.from_node(node)
        draft.media.extend(self._rest(node, "media", docs.PRODUCT_MEDIA_PAGE))
        for variant in self._rest(node, "variants", docs.PRODUCT_VARIANTS_PAGE):
            draft.add_variant(variant)
        return draft

    def _rest(self, node: Mapping[str, Any], field: str, document: str) -> Iterator[Mapping[str, Any]]:
        connection = node[field]
        yield from connection["nodes"]
        first = self.config.media_per_product if field == "media" else self.config.variants_per_product
        while connection["pageInfo"]["hasNextPage"]:
            data = self.graphql.execute(
                document, {"id": node["id"], "first": first, "after": connection["pageInfo"]["endCursor"]}
            )
            if data.get("product") is None:
                raise NotFound(f"product {node['id']} disappeared while being read", hint="re-sync")
            connection = data["product"][field]
            yield from connection["nodes"]

    def media_order(self, product_id: str) -> list[str] | None:
        """The product's media ids in gallery order (a read of a few points); None when it is gone."""
        try:
            return self._media_ids(product_gid(product_id))
        except NotFound:
            return None

    def _media_ids(self, product_id: str) -> list[str]:
        """The media ids of a product in order, page by page (NotFound when it is gone)."""
        variables = {"id": product_id, "first": self.config.media_per_product, "after": None}
        node = self.graphql.execute(docs.PRODUCT_MEDIA_IDS, variables).get("product")
        if node is None:
            raise NotFound(f"product {product_id} does not exist on {self.shop}", hint="re-sync")
        pages = self._rest({"id": product_id, **node}, "media", docs.PRODUCT_MEDIA_IDS)
        return [str(media["id"]) for media in pages]

    # ------------------------------------------------------------ replacement steps

    def attach_media(self, product_id: str, media_id: str) -> None:
        """Show a library file on the product (appended at the end); no-op when shown."""
        product_id = product_gid(product_id)
        if media_id in self._media_ids(product_id):
            return
        self._file_update(
            {"id": media_id, "referencesToAdd": [product_id]}, "attaching the media to the product"
        )

    def detach_media(self, product_id: str, media_id: str) -> None:
        """Take the media off the product; the file stays in the library (for rollback)."""
        product_id = product_gid(product_id)
        if media_id not in self._media_ids(product_id):
            return
        self._file_update(
            {"id": media_id, "referencesToRemove": [product_id]}, "detaching the media from the product"
        )

    def move_media(self, product_id: str, media_id: str, position: int) -> None:
        """Move the media to a zero-based position (clamped to the list); waits for Shopify's job."""
        product_id = product_gid(product_id)
        order = self._media_ids(product_id)
        if media_id not in order:
            raise NotFound(f"media {media_id} is not on product {product_id}", hint="attach it first")
        target = min(max(0, position), len(order) - 1)
        if order.index(media_id) == target:
            return
        result = self.graphql.execute(
            docs.PRODUCT_REORDER_MEDIA,
            {"id": product_id, "moves": [{"id": media_id, "newPosition": str(target)}]},
        )["productReorderMedia"]
        raise_for_user_errors(result.get("mediaUserErrors"), "reordering the product's media")
        job = result.get("job")
        if job and not job.get("done"):
            self._wait_job(str(job["id"]), "reordering the product's media")

    def _wait_job(self, job_id: str, what: str) -> None:
        deadline = self.runtime.monotonic() + self.config.job_timeout
        interval = self.config.job_poll_interval
        while True:
            job = self.graphql.execute(docs.JOB, {"id": job_id}).get("job")
            if job is None or job.get("done"):
                return
            if self.runtime.monotonic() >= deadline:
                raise TransientError(
                    f"{what} did not finish within {self.config.job_timeout:.0f} s", hint="retry"
                )
            self.runtime.sleep(interval)
            interval = min(self.config.poll_interval_max, interval * 1.5)

    def link_variants(self, product_id: str, media_id: str, variant_ids: tuple[str, ...]) -> None:
        """Make these variants show the media (a variant shows one media item on Shopify).

        Variants showing something else are detached from it first; variants that no longer
        exist on the product are skipped.
        """
        product_id = product_gid(product_id)
        draft = self._read(product_id)
        if media_id not in draft.media_ids:
            raise NotFound(f"media {media_id} is not on product {product_id}", hint="attach it first")
        wanted = [v for v in dict.fromkeys(variant_ids) if v in draft.variants]
        detach = [
            {"variantId": v, "mediaIds": [m for m in draft.variants[v] if m != media_id]}
            for v in wanted
            if any(m != media_id for m in draft.variants[v])
        ]
        append = [
            {"variantId": v, "mediaIds": [media_id]} for v in wanted if media_id not in draft.variants[v]
        ]
        for batch in _chunks(detach):
            result = self.graphql.execute(
                docs.VARIANT_DETACH_MEDIA, {"productId": product_id, "variantMedia": batch}
            )["productVariantDetachMedia"]
            raise_for_user_errors(result.get("userErrors"), "detaching variants from their media")
        for batch in _chunks(append):
            result = self.graphql.execute(
                docs.VARIANT_APPEND_MEDIA, {"productId": product_id, "variantMedia": batch}
            )["productVariantAppendMedia"]
            raise_for_user_errors(result.get("userErrors"), "linking variants to the media")

    # ------------------------------------------------------------------- webhooks

    def register_webhooks(self, callback_url: str) -> None:
        """Subscribe products/create, products/update, products/delete and app/uninstalled.

        Idempotent: existing subscriptions are listed first; one pointing elsewhere is moved to
        ``callback_url``.  The mandatory compliance topics (customers/data_request,
        customers/redact, shop/redact) cannot be subscribed through the API: on real Shopify
        they are declared in the app's configuration (``compliance_topics`` in
        shopify.app.toml, or the Partner Dashboard), pointing at the same endpoint.
        """
        existing: dict[str, list[tuple[str, str | None]]] = {}
        after: str | None = None
        while True:
            connection = self.graphql.execute(
                docs.WEBHOOK_SUBSCRIPTIONS, {"topics": list(SUBSCRIBED_TOPICS), "after": after}
            )["webhookSubscriptions"]
            for node in connection["nodes"]:
                url = (node.get("endpoint") or {}).get("callbackUrl")
                existing.setdefault(node["topic"], []).append((node["id"], url))
            if not connection["pageInfo"]["hasNextPage"]:
                break
            after = connection["pageInfo"]["endCursor"]
        sub = {"callbackUrl": callback_url, "format": "JSON"}
        for topic in SUBSCRIBED_TOPICS:
            current = existing.get(topic, [])
            if any(url == callback_url for _, url in current):
                continue
            if current:
                result = self.graphql.execute(
                    docs.WEBHOOK_SUBSCRIPTION_UPDATE, {"id": current[0][0], "sub": sub}
                )["webhookSubscriptionUpdate"]
            else:
                result = self.graphql.execute(docs.WEBHOOK_SUBSCRIPTION_CREATE, {"topic": topic, "sub": sub})[
                    "webhookSubscriptionCreate"
                ]
            raise_for_user_errors(result.get("userErrors"), f"subscribing to {topic}")
