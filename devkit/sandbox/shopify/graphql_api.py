"""The Admin GraphQL endpoint: ``POST /<shop>/admin/api/<version>/graphql.json``.

Order of checks, as on Shopify: shop and version, access token (401), request body (400), parse
and validate (200 with errors), variables, cost limit (MAX_COST_EXCEEDED), bucket (THROTTLED),
then execution.  Every executed answer carries ``extensions.cost``.
"""

from __future__ import annotations

import json
import math
import time
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, request
from graphql import FragmentDefinitionNode, GraphQLError
from graphql.execution.values import get_variable_values

from sandbox.shopify.cost import ThrottleStatus, requested_cost
from sandbox.shopify.executor import execute_operation, format_errors
from sandbox.shopify.schema import ParsedRequest, admin_schema, parse_and_validate, variable_error
from sandbox.shopify.state import ShopState, Token

if TYPE_CHECKING:
    from sandbox.shopify.store import Sandbox

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
RATE_LIMITS_DOC = "https://shopify.dev/api/usage/rate-limits"


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    resp = Response(json.dumps(body), status=status, mimetype="application/json")
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def _cost_ext(requested: int, actual: int | None, status: ThrottleStatus) -> dict[str, Any]:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": status.as_dict(),
        }
    }


def _max_cost_message(cost: int, limit: int) -> str:
    return (
        f"Query cost is {cost}, which exceeds the single query max cost limit ({limit}).\n\n"
        "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"
        "cost of a query is calculated.\n\n"
        "To query larger amounts of data with fewer limits, bulk operations should be used instead.\n"
        "See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n"
    )


def authenticate(sb: Sandbox, shop: ShopState, header: str | None) -> Token | None:
    """The live access token of ``header`` for ``shop``, or None (unknown, expired, revoked, other shop)."""
    if not header:
        return None
    token = sb.state.tokens.get(header.strip())
    if token is None or token.kind != "access" or token.shop != shop.domain:
        return None
    if not token.alive(time.time()) or token.app_key not in shop.installations:
        return None
    return token


def _read_body() -> tuple[str, dict[str, Any], str | None] | None:
    if (request.mimetype or "") == "application/graphql":
        return request.get_data(as_text=True), {}, None
    try:
        body = json.loads(request.get_data(as_text=True) or "null")
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return None
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        return None
    operation_name = body.get("operationName")
    return body["query"], variables, operation_name if isinstance(operation_name, str) else None


def graphql_blueprint(sb: Sandbox) -> Blueprint:
    bp = Blueprint("shopify_graphql", __name__)

    @bp.post("/<shop_name>/admin/api/<version>/graphql.json")
    def graphql(shop_name: str, version: str) -> Response:
        sb.remember_base_url(request.host_url)
        shop = sb.state.shop(shop_name)
        if shop is None or version not in sb.config.api_versions:
            return _json({"errors": "Not Found"}, 404)
        headers = {"X-Shopify-API-Version": version}
        with sb.state.lock:
            token = authenticate(sb, shop, request.headers.get("X-Shopify-Access-Token"))
        if token is None:
            return _json({"errors": INVALID_TOKEN}, 401, headers)
        payload = _read_body()
        if payload is None:
            return _json({"errors": {"query": "Required parameter missing or invalid"}}, 400, headers)
        source, raw_variables, operation_name = payload
        parsed = parse_and_validate(source, operation_name)
        if isinstance(parsed, list):
            _log(shop, token, operation_name, None, None, "invalid")
            return _json({"errors": parsed}, 200, headers)
        coerced = get_variable_values(
            admin_schema(), parsed.operation.variable_definitions or (), raw_variables
        )
        if isinstance(coerced, list):
            errors = [variable_error(e.message, parsed.operation, raw_variables) for e in coerced]
            return _json({"errors": errors}, 200, headers)
        return _run(sb, shop, token, parsed, coerced.coerced, raw_variables, headers)

    return bp


def _run(
    sb: Sandbox,
    shop: ShopState,
    token: Token,
    parsed: ParsedRequest,
    variables: dict[str, Any],
    raw_variables: dict[str, Any],
    headers: dict[str, str],
) -> Response:
    """Charge, execute and answer; ``variables`` are coerced (for costing), ``raw_variables`` as sent."""
    fragments = {
        d.name.value: d for d in parsed.document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    name = parsed.operation.name.value if parsed.operation.name else None
    try:
        requested = requested_cost(admin_schema(), fragments, parsed.operation, variables)
    except GraphQLError as exc:
        return _json({"errors": format_errors([exc])}, 200, headers)
    bucket = sb.buckets.get(shop.domain, token.app_key)
    limit = sb.config.max_query_cost
    if requested > limit:
        _log(shop, token, name, requested, None, "max_cost")
        refused: dict[str, Any] = {
            "errors": [
                {
                    "message": _max_cost_message(requested, limit),
                    "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": limit},
                }
            ],
            "extensions": _cost_ext(requested, None, bucket.status()),
        }
        return _json(refused, 200, headers)
    if not bucket.try_take(requested):
        _log(shop, token, name, requested, None, "throttled")
        throttled: dict[str, Any] = {
            "errors": [
                {
                    "message": "Throttled",
                    "extensions": {"code": "THROTTLED", "documentation": RATE_LIMITS_DOC},
                }
            ],
            "extensions": _cost_ext(requested, None, bucket.status()),
        }
        if sb.config.throttle_http_429:
            wait = bucket.seconds_until(requested)
            headers = {**headers, "Retry-After": str(max(1, math.ceil(wait)))}
            return _json(throttled, 429, headers)
        return _json(throttled, 200, headers)
    with sb.state.lock:
        result, ctx = execute_operation(sb, shop, token.app_key, token.scopes, parsed, raw_variables)
        changed = list(ctx.changed.values())
    for product in changed:
        sb.product_changed(shop, product)
    actual = min(ctx.meter.total, requested)
    bucket.refund(requested - actual)
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = format_errors(result.errors)
    body["data"] = result.data
    extensions = _cost_ext(requested, actual, bucket.status())
    if ctx.search:
        extensions["search"] = ctx.search
    body["extensions"] = extensions
    _log(shop, token, name, requested, actual, "error" if result.errors else "ok")
    return _json(body, 200, headers)


def _log(
    shop: ShopState, token: Token, name: str | None, requested: int | None, actual: int | None, outcome: str
) -> None:
    shop.api_log.append(
        {
            "at": time.time(),
            "app": token.app_key,
            "operation": name,
            "requested": requested,
            "actual": actual,
            "outcome": outcome,
        }
    )
