"""Running a bulk operation: execute its query now and keep the JSONL (or the error code).

Apart from :mod:`sandbox.shopify.bulk` (which checks and schedules operations) because running
one executes GraphQL, whose mutations in turn start bulk operations.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from sandbox.shopify.bulk import flatten
from sandbox.shopify.executor import execute_operation
from sandbox.shopify.schema import ParsedRequest
from sandbox.shopify.state import BulkOperation, ShopState

if TYPE_CHECKING:
    from sandbox.shopify.store import Sandbox


def run_bulk(
    sb: Sandbox, shop: ShopState, op: BulkOperation, parsed: ParsedRequest, scopes: frozenset[str]
) -> None:
    """Execute the bulk query now and store its JSONL (or the error code)."""
    with sb.state.lock:
        if op.status not in ("CREATED", "RUNNING"):
            return
        result, _ctx = execute_operation(sb, shop, op.app_key, scopes, parsed, {}, bulk=True)
        if result.errors:
            codes = {(e.extensions or {}).get("code") for e in result.errors}
            op.status = "FAILED"
            op.error_code = "ACCESS_DENIED" if "ACCESS_DENIED" in codes else "INTERNAL_SERVER_ERROR"
        else:
            lines, roots = flatten(parsed, result.data or {})
            op.jsonl = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines).encode()
            op.object_count, op.root_object_count = len(lines), roots
            op.status = "COMPLETED"
        op.completed_at = time.time()
    sb.webhooks.emit(
        shop,
        "bulk_operations/finish",
        {
            "admin_graphql_api_id": f"gid://shopify/BulkOperation/{op.num}",
            "completed_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(op.completed_at)),
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(op.created_at)),
            "error_code": op.error_code.lower() if op.error_code else None,
            "status": op.status.lower(),
            "type": "query",
        },
        app_key=op.app_key,
    )
