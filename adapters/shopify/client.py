"""StoreClient for one installed Shopify shop, over the GraphQL Admin API.

Every replacement step reads the product (or the media) first and does nothing when the
store already shows the wanted state, so an interrupted operation can run a step again.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import cached_property
from typing import IO, Any, ClassVar

import requests

from adapters.shopify import documents as docs
from adapters.shopify.auth import OAuth, TokenKeeper, sanitize_shop
from adapters.shopify.catalog import (
    ProductDraft,
    filename_from_url,
    products_from_jsonl,
    search_updated_since,
    variant_media_from_jsonl,
)
from adapters.shopify.config import MAX_QUERY_COST, ShopifyConfig
from adapters.shopify.cost import estimate_cost
from adapters.shopify.graphql import AdminGraphQL
from adapters.shopify.http import Runtime, retry_policy, send, transport_error
from adapters.shopify.ids import product_gid
from adapters.shopify.paging import PagePlan, PageSizer
from adapters.shopify.throttle import BucketFactory
from adapters.shopify.user_errors import error_codes, raise_for_user_errors
from adapters.shopify.webhooks import SUBSCRIBED_TOPICS
from connector.errors import AuthError, MediaFailed, NotFound, PlatformError, TransientError
from connector.port import CredentialsSaver, MediaState, MediaStatus, RemoteProduct

#: Shopify accepts at most this many items in one input list.
MAX_INPUT_ITEMS = 250
_BULK_RUNNING = {"CREATED", "RUNNING", "CANCELING"}
_DUPLICATE_FILENAME = {"FILENAME_ALREADY_EXISTS", "DUPLICATE_FILENAME_ERROR"}


def _chunks(items: list[Any], size: int = MAX_INPUT_ITEMS) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _search_phrase(value: str) -> str:
    """A value quoted for Shopify's search syntax."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ShopifyClient:
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

    # ------------------------------------------------------------------- bulk export

    def iter_products_bulk(self, updated_since: datetime | None = None) -> Iterator[RemoteProduct]:
        """Products by bulk operations: export products, then variant media; rebuild from JSONL.

        Bulk queries nest connections at most two deep, so the media each variant shows comes
        from a second export over every variant (also for an incremental sync).
        """
        with tempfile.TemporaryFile() as products, tempfile.TemporaryFile() as variants:
            if not self._export(docs.bulk_products_query(search_updated_since(updated_since)), products):
                return
            self._export(docs.bulk_variant_media_query(), variants)
            shown = variant_media_from_jsonl(variants)
            yield from products_from_jsonl(products, shown)

    def _export(self, query: str, sink: IO[bytes]) -> bool:
        """Run one bulk query and download its JSONL into ``sink`` (rewound); False when empty."""
        url = self._run_bulk(query)
        if url:
            self._download(url, sink, "downloading a bulk export", limit=None)
        sink.seek(0)
        return bool(url)

    def _run_bulk(self, query: str) -> str | None:
        deadline = self.runtime.monotonic() + self.config.bulk_timeout
        while True:
            data = self.graphql.execute(docs.BULK_RUN, {"query": query})["bulkOperationRunQuery"]
            errors = data.get("userErrors") or []
            busy = "OPERATION_IN_PROGRESS" in error_codes(errors) or any(
                "in progress" in str(e.get("message", "")).lower() for e in errors
            )
            if not busy:
                raise_for_user_errors(errors, "starting a bulk export")
                break
            self._wait_bulk(deadline, None)
        operation = self._wait_bulk(deadline, data["bulkOperation"]["id"])
        status = operation["status"]
        if status == "COMPLETED":
            return operation.get("url")
        code = operation.get("errorCode")
        if code == "ACCESS_DENIED":
            raise AuthError("the bulk export was denied", hint="reinstall the app to grant read_products")
        raise TransientError(
            f"the bulk export ended {status} ({code or 'no error code'})", hint="sync again later"
        )

    def _wait_bulk(self, deadline: float, operation_id: str | None) -> dict[str, Any]:
        """Poll the current bulk query until it is no longer running (ours, when an id is given)."""
        interval = self.config.poll_interval
        while True:
            operation = self.graphql.execute(docs.CURRENT_BULK).get("currentBulkOperation")
            if operation is None:
                if operation_id is None:
                    return {}
                raise TransientError("the bulk export vanished", hint="sync again")
            if operation_id is not None and operation["id"] != operation_id:
                raise TransientError("another bulk export replaced ours", hint="sync again")
            if operation["status"] not in _BULK_RUNNING:
                return dict(operation)
            if self.runtime.monotonic() >= deadline:
                raise TransientError(
                    f"the bulk export did not finish within {self.config.bulk_timeout:.0f} s",
                    hint="sync again later; large shops take a while",
                )
            self.runtime.sleep(interval)
            interval = min(self.config.poll_interval_max, interval * 1.5)

    # ----------------------------------------------------------------------- bytes

    def fetch_bytes(self, url: str) -> bytes:
        """Download an image the store serves (no credentials are sent to the CDN)."""
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
            self._download(url, spool, "downloading an image", limit=self.config.max_download_bytes)
            spool.seek(0)
            return spool.read()

    def _download(self, url: str, sink: IO[bytes], what: str, limit: int | None) -> None:
        def attempt() -> None:
            sink.seek(0)
            sink.truncate()
            response = send(self.session, "GET", url, what, self.config.timeout, stream=True)
            size = 0
            try:
                for chunk in response.iter_content(chunk_size=256 * 1024):
                    size += len(chunk)
                    if limit is not None and size > limit:
                        raise PlatformError(
                            f"{what}: larger than {limit} bytes",
                            hint="raise max_download_bytes or shrink the image",
                        )
                    sink.write(chunk)
            except requests.RequestException as exc:
                raise transport_error(exc, what) from exc
            finally:
                response.close()

        self.retry.run(attempt)

    # --------------------------------------------------------------- media library

    def find_media(self, filename: str) -> str | None:
        """The id of a library image uploaded under exactly this filename, or None.

        Shopify shows a file's URL (which carries its name) only once it is processed; while a
        file the search returned is still processing, this raises TransientError rather than
        answer None, so a resumed operation waits instead of uploading a second copy.
        """
        data = self.graphql.execute(docs.FILES_BY_NAME, {"query": f"filename:{_search_phrase(filename)}"})
        nodes = [n for n in (data.get("files") or {}).get("nodes") or [] if n]
        unnamed, failed = False, None  # a failed file has no URL to tell its name by
        for node in nodes:
            urls = [
                u
                for u in ((node.get("image") or {}).get("url"), (node.get("originalSource") or {}).get("url"))
                if u
            ]
            if filename in {filename_from_url(u) for u in urls}:
                return str(node["id"])
            if not urls and node.get("fileStatus") == "FAILED":
                failed = node
                continue
            unnamed = unnamed or not urls
        if failed is not None and not unnamed:  # Shopify gave up on the file: a retry cannot help
            reasons = "; ".join(
                f"{e.get('code')}: {e.get('message') or e.get('details')}"
                for e in failed.get("fileErrors") or []
            )
            raise MediaFailed(
                f"Shopify could not process the upload {filename}: {reasons or 'no reason given'}",
                hint="the original stays on the product; reprocess with another output format",
            )
        if unnamed:
            raise TransientError(
                f"a file matching {filename} is still being processed by Shopify",
                hint="try again in a few seconds",
            )
        return None

    def upload_media(self, product_id: str, data: bytes, filename: str, mime: str, alt: str | None) -> str:
        """Upload bytes into the Files library (not yet on the product); the new file's id.

        Idempotent by filename: an upload already made under this name is found and reused.
        """
        existing = self.find_media(filename)
        if existing:
            return existing
        target = self._stage(filename, mime, len(data))
        self._post_staged(target, data, filename, mime)
        result = self.graphql.execute(
            docs.FILE_CREATE,
            {
                "files": [
                    {
                        "originalSource": target["resourceUrl"],
                        "contentType": "IMAGE",
                        "alt": alt or "",
                        "filename": filename,
                        "duplicateResolutionMode": "RAISE_ERROR",
                    }
                ]
            },
        )["fileCreate"]
        errors = result.get("userErrors") or []
        if error_codes(errors) & _DUPLICATE_FILENAME:
            found = self.find_media(filename)
            if found:
                return found
            raise TransientError(
                f"{filename} exists in the Files library but cannot be found yet", hint="try again"
            )
        raise_for_user_errors(errors, f"creating the file {filename}")
        files = result.get("files") or []
        if not files:
            raise PlatformError(f"Shopify created no file for {filename}", hint="try the upload again")
        return str(files[0]["id"])

    def _stage(self, filename: str, mime: str, size: int) -> dict[str, Any]:
        result = self.graphql.execute(
            docs.STAGED_UPLOADS_CREATE,
            {
                "input": [
                    {
                        "resource": "IMAGE",
                        "filename": filename,
                        "mimeType": mime,
                        "httpMethod": "POST",
                        "fileSize": str(size),
                    }
                ]
            },
        )["stagedUploadsCreate"]
        raise_for_user_errors(result.get("userErrors"), f"staging the upload of {filename}")
        targets = result.get("stagedTargets") or []
        if not targets or not targets[0].get("url") or not targets[0].get("resourceUrl"):
            raise PlatformError(f"Shopify gave no upload target for {filename}", hint="try the upload again")
        return dict(targets[0])

    def _post_staged(self, target: Mapping[str, Any], data: bytes, filename: str, mime: str) -> None:
        """Multipart POST of the target's parameters, then the file (the order storage expects)."""
        fields: list[tuple[str, tuple[str | None, bytes | str, str | None]]] = [
            (str(p["name"]), (None, str(p["value"]), None)) for p in target.get("parameters") or []
        ]
        fields.append(("file", (filename, data, mime)))
        self.retry.run(
            lambda: send(
                self.session,
                "POST",
                str(target["url"]),
                "uploading to the staged target",
                self.config.timeout,
                files=fields,
            )
        )

    def _media_node(self, media_id: str) -> dict[str, Any] | None:
        try:
            nodes = self.graphql.execute(docs.MEDIA_NODES, {"ids": [media_id]}).get("nodes") or []
        except NotFound:
            return None
        return dict(nodes[0]) if nodes and nodes[0] else None

    def media_status(self, media_id: str) -> MediaStatus:
        """READY, FAILED (with Shopify's reason), PROCESSING or UPLOADED."""
        node = self._media_node(media_id)
        if node is None:
            raise NotFound(f"media {media_id} does not exist on {self.shop}", hint="upload it again")
        raw = node.get("status") or node.get("fileStatus") or MediaState.PROCESSING.value
        state = MediaState(raw) if raw in MediaState.__members__ else MediaState.PROCESSING
        if node.get("fileStatus") == "FAILED":
            state = MediaState.FAILED
        problems = [*(node.get("mediaErrors") or []), *(node.get("fileErrors") or [])]
        error = "; ".join(f"{p.get('code')}: {p.get('message')}" for p in problems) or None
        return MediaStatus(state=state, src=(node.get("image") or {}).get("url"), error=error)

    def media_exists(self, media_id: str) -> bool:
        """Whether the media item is still in the Files library (attached or not)."""
        return self._media_node(media_id) is not None

    def _file_update(self, change: Mapping[str, Any], action: str) -> None:
        result = self.graphql.execute(docs.FILE_UPDATE, {"files": [dict(change)]})["fileUpdate"]
        raise_for_user_errors(result.get("userErrors"), action)

    # ------------------------------------------------------------ replacement steps

    def attach_media(self, product_id: str, media_id: str) -> None:
        """Show a library file on the product (appended at the end); no-op when shown."""
        product_id = product_gid(product_id)
        if media_id in self._read(product_id).media_ids:
            return
        self._file_update(
            {"id": media_id, "referencesToAdd": [product_id]}, "attaching the media to the product"
        )

    def detach_media(self, product_id: str, media_id: str) -> None:
        """Take the media off the product; the file stays in the library (for rollback)."""
        product_id = product_gid(product_id)
        if media_id not in self._read(product_id).media_ids:
            return
        self._file_update(
            {"id": media_id, "referencesToRemove": [product_id]}, "detaching the media from the product"
        )

    def move_media(self, product_id: str, media_id: str, position: int) -> None:
        """Move the media to a zero-based position (clamped to the list); waits for Shopify's job."""
        product_id = product_gid(product_id)
        order = self._read(product_id).media_ids
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

    def delete_media(self, media_id: str) -> None:
        """Delete a file of the connector's own from the Files library (gone already: nothing to do)."""
        if self._media_node(media_id) is None:
            return
        result = self.graphql.execute(docs.FILE_DELETE, {"fileIds": [media_id]})["fileDelete"]
        raise_for_user_errors(result.get("userErrors"), f"deleting the file {media_id}")

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
