"""Executing a validated operation with graphql-core over the sandbox state.

One field resolver serves the whole schema: root fields go to the tables of
:mod:`resolvers_query` / :mod:`resolvers_mutation`, other fields to the view method (or dict key)
of the same name.  Everything it resolves is charged to the request's cost meter.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from graphql import ExecutionResult, GraphQLError, GraphQLResolveInfo, execute_sync

from sandbox.shopify.context import Ctx, unsupported
from sandbox.shopify.resolvers_mutation import MUTATION_FIELDS
from sandbox.shopify.resolvers_query import QUERY_FIELDS
from sandbox.shopify.schema import ParsedRequest, admin_schema
from sandbox.shopify.views import ROOT

if TYPE_CHECKING:
    from sandbox.shopify.state import ShopState
    from sandbox.shopify.store import Sandbox

log = logging.getLogger(__name__)
ROOT_TYPES = ("QueryRoot", "Mutation")


def _check_input_sizes(ctx: Ctx, info: GraphQLResolveInfo, args: dict[str, Any]) -> None:
    limit = ctx.sb.config.max_input_array
    for name, value in args.items():
        if isinstance(value, list) and len(value) > limit:
            raise GraphQLError(
                f"The input array size of {len(value)} is greater than the maximum allowed of {limit}.",
                extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
                path=[info.field_name, name],
            )


def field_resolver(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    """Resolve any field of the Admin schema against the sandbox."""
    ctx: Ctx = info.context
    name = info.field_name
    if info.parent_type.name in ROOT_TYPES:
        table = QUERY_FIELDS if info.parent_type.name == "QueryRoot" else MUTATION_FIELDS
        fn = table.get(name)
        if table is MUTATION_FIELDS:
            ctx.meter.charge(info, None)  # a mutation costs its 10 points whatever it answers
        if fn is None:
            raise unsupported(f"The {info.parent_type.name}.{name} field")
        _check_input_sizes(ctx, info, args)
        value = fn(ctx, **args)
        if table is MUTATION_FIELDS:
            return value
    elif isinstance(source, dict):
        if name not in source:
            raise unsupported(f"The {info.parent_type.name}.{name} field")
        value = source[name]
    else:
        attr = getattr(source, name, None) if not name.startswith("_") else None
        if attr is None and not hasattr(source, name):
            raise unsupported(f"The {info.parent_type.name}.{name} field")
        value = attr(**args) if callable(attr) else attr
    ctx.meter.charge(info, value)
    return value


def type_resolver(value: Any, info: GraphQLResolveInfo, abstract_type: Any) -> str | None:
    """The concrete type name of a view or dict returned for an interface or union."""
    if isinstance(value, dict):
        return value.get("__typename")
    return getattr(value, "graphql_type", None)


def execute_operation(
    sb: Sandbox,
    shop: ShopState,
    app_key: str,
    scopes: frozenset[str],
    parsed: ParsedRequest,
    variables: dict[str, Any],
    bulk: bool = False,
) -> tuple[ExecutionResult, Ctx]:
    """Run ``parsed`` for ``app_key`` in ``shop`` (caller holds the state lock)."""
    ctx = Ctx(sb=sb, shop=shop, app_key=app_key, scopes=scopes, bulk=bulk)
    name = parsed.operation.name.value if parsed.operation.name else None
    result = execute_sync(
        admin_schema(),
        parsed.document,
        root_value=ROOT,
        context_value=ctx,
        variable_values=variables,
        operation_name=name,
        field_resolver=field_resolver,
        type_resolver=type_resolver,
    )
    return result, ctx


def format_errors(errors: list[GraphQLError]) -> list[dict[str, Any]]:
    """Execution errors as Shopify shows them; unexpected exceptions become INTERNAL_SERVER_ERROR."""
    out = []
    for err in errors:
        original = err.original_error
        if original is not None and not isinstance(original, GraphQLError):
            log.error("sandbox resolver failed at %s", err.path, exc_info=original)
            formatted: dict[str, Any] = {
                "message": "Internal error. Looks like something went wrong on our end.",
                "extensions": {
                    "code": "INTERNAL_SERVER_ERROR",
                    "sandboxError": f"{type(original).__name__}: {original}",
                },
            }
            if err.path:
                formatted["path"] = err.path
            out.append(formatted)
            continue
        formatted = {"message": err.message}
        if err.locations:
            formatted["locations"] = [{"line": loc.line, "column": loc.column} for loc in err.locations]
        if err.path:
            formatted["path"] = err.path
        if err.extensions:
            formatted["extensions"] = err.extensions
        out.append(formatted)
    return out
