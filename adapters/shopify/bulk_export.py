"""The Shopify client's bulk export: a whole catalog through two bulk operations, read as JSONL."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from adapters.shopify import documents as docs
from adapters.shopify.catalog import (
    drafts_from_jsonl,
    prepare,
    search_updated_since,
    variant_media_from_jsonl,
    with_variant_media,
)
from adapters.shopify.client_state import ClientState
from adapters.shopify.user_errors import error_codes, raise_for_user_errors
from connector.errors import AuthError, TransientError
from connector.port import RemoteProduct

_BULK_RUNNING = {"CREATED", "RUNNING", "CANCELING"}


class BulkExport(ClientState):
    """Part of :class:`~adapters.shopify.client.ShopifyClient`: syncs of large shops by bulk operation."""

    def iter_products_bulk(self, updated_since: datetime | None = None) -> Iterator[RemoteProduct]:
        """Products by bulk operations: export products, then variant media; rebuild from JSONL.

        Bulk queries nest connections at most two deep, so the media each variant shows comes
        from a second export over every variant (also for an incremental sync).  The products
        file is parsed while the platform runs the second export.
        """
        with tempfile.TemporaryFile() as products, tempfile.TemporaryFile() as variants:
            query = docs.bulk_products_query(search_updated_since(updated_since))
            if not self._export(self._start_bulk(query), products):
                return
            second = self._start_bulk(docs.bulk_variant_media_query())
            prepared = prepare(drafts_from_jsonl(products))
            self._export(second, variants)
            yield from with_variant_media(prepared, variant_media_from_jsonl(variants))

    def _export(self, started: tuple[str, float], sink: IO[bytes]) -> bool:
        """Wait for a started bulk query and download its JSONL into ``sink`` (rewound); False when empty."""
        url = self._finish_bulk(*started)
        if url:
            self._download(url, sink, "downloading a bulk export", limit=None)
        sink.seek(0)
        return bool(url)

    def _start_bulk(self, query: str) -> tuple[str, float]:
        """Start a bulk query (after any other one of this app ends): its id and deadline."""
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
        return str(data["bulkOperation"]["id"]), deadline

    def _finish_bulk(self, operation_id: str, deadline: float) -> str | None:
        """Wait for a bulk query to end: the URL of its JSONL (None when it found nothing)."""
        operation = self._wait_bulk(deadline, operation_id)
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
