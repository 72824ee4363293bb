"""Bulk query operations: Shopify's restrictions on the query, background execution, JSONL output.

The query runs with every connection unpaginated; each node of a connection becomes one JSONL
line and nodes of nested connections carry ``__parentId`` (the id of the node they belong to),
written right after their parent.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNamedType,
    GraphQLObjectType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)

from sandbox.shopify.cost import is_connection
from sandbox.shopify.schema import ParsedRequest, admin_schema, parse_and_validate
from sandbox.shopify.state import BulkOperation, ShopState

if TYPE_CHECKING:
    from sandbox.shopify.context import Ctx
    from sandbox.shopify.store import Sandbox

MAX_CONNECTIONS = 5
MAX_DEPTH = 2
ACTIVE = ("CREATED", "RUNNING", "CANCELING")


def _invalid(message: str) -> dict[str, Any]:
    return {"field": ["query"], "message": message, "code": "INVALID"}


class _Fields:
    """Selections flattened through fragments, keyed by response key, with the declaring type."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.schema = admin_schema()

    def collect(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType
    ) -> dict[str, tuple[FieldNode, GraphQLNamedType]]:
        out: dict[str, tuple[FieldNode, GraphQLNamedType]] = {}
        if selection_set is None:
            return out
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                key = sel.alias.value if sel.alias else sel.name.value
                out.setdefault(key, (sel, parent))
            elif isinstance(sel, InlineFragmentNode):
                cond = self.schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent
                for key, value in self.collect(sel.selection_set, cond or parent).items():
                    out.setdefault(key, value)
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value in self.fragments:
                frag = self.fragments[sel.name.value]
                cond = self.schema.get_type(frag.type_condition.name.value)
                for key, value in self.collect(frag.selection_set, cond or parent).items():
                    out.setdefault(key, value)
        return out

    def field_type(self, node: FieldNode, owner: GraphQLNamedType) -> GraphQLNamedType | None:
        field = getattr(owner, "fields", {}).get(node.name.value)
        return get_named_type(field.type) if field is not None else None

    def node_selection(
        self, conn_node: FieldNode, conn_type: GraphQLObjectType
    ) -> tuple[FieldNode, GraphQLNamedType] | None:
        """The ``edges { node { … } }`` selection of a connection field."""
        edges = self.collect(conn_node.selection_set, conn_type).get("edges")
        if edges is None:
            return None
        edge_type = get_named_type(conn_type.fields["edges"].type)
        node = self.collect(edges[0].selection_set, edge_type).get("node")
        if node is None:
            return None
        return node[0], get_named_type(getattr(edge_type, "fields", {})["node"].type)


def check_query(parsed: ParsedRequest) -> list[dict[str, Any]]:
    """Shopify's bulk query restrictions (a subset of valid GraphQL is allowed)."""
    op = parsed.operation
    if op.operation.value != "query":
        return [_invalid("Invalid operation type. Only `query` operations are supported.")]
    schema = admin_schema()
    fields = _Fields(_fragments(parsed))
    errors: list[dict[str, Any]] = []
    stats = {"count": 0, "depth": 0}
    via_nodes: list[str] = []
    no_parent_id: list[str] = []
    root = schema.query_type
    assert root is not None
    top = fields.collect(op.selection_set, root)
    if any(node.name.value in ("node", "nodes") for node, _o in top.values()):
        errors.append(_invalid("Bulk queries cannot contain a top level `node` field."))

    def walk(
        selection: SelectionSetNode | None,
        parent: GraphQLNamedType,
        depth: int,
        parent_conn: str | None,
        parent_has_id: bool,
    ) -> None:
        for node, owner in fields.collect(selection, parent).values():
            named = fields.field_type(node, owner)
            if named is None:
                continue
            if is_connection(named):
                assert isinstance(named, GraphQLObjectType)
                stats["count"] += 1
                stats["depth"] = max(stats["depth"], depth + 1)
                if parent_conn is not None and not parent_has_id:
                    no_parent_id.append(parent_conn)
                inner = fields.node_selection(node, named)
                if inner is None:
                    if "nodes" in fields.collect(node.selection_set, named):
                        via_nodes.append(node.name.value)
                    continue
                inner_node, inner_type = inner
                has_id = any(
                    sub.name.value == "id" and sub.alias is None
                    for sub, _o in fields.collect(inner_node.selection_set, inner_type).values()
                )
                walk(inner_node.selection_set, inner_type, depth + 1, node.name.value, has_id)
            elif isinstance(named, GraphQLObjectType) or hasattr(named, "fields"):
                walk(node.selection_set, named, depth, parent_conn, parent_has_id)

    walk(op.selection_set, root, 0, None, True)
    if via_nodes:
        errors.append(
            _invalid(
                "All connection fields in a bulk query must select their contents using 'edges' > 'node', "
                "e.g: 'products { edges { node {'. Selecting via 'nodes' is not supported. "
                f"Invalid connection fields: '{', '.join(dict.fromkeys(via_nodes))}'."
            )
        )
    if stats["depth"] > MAX_DEPTH:
        errors.append(
            _invalid("Bulk queries cannot contain connections with a nesting depth greater than 2.")
        )
    if stats["count"] > MAX_CONNECTIONS:
        errors.append(_invalid("Bulk queries cannot contain more than 5 connections."))
    if no_parent_id:
        errors.append(
            _invalid(
                "The parent 'node' field for a nested connection must select the 'id' field without an "
                "alias and must be of 'ID' return type. Connection fields without 'id': "
                f"{', '.join(dict.fromkeys(no_parent_id))}."
            )
        )
    if stats["count"] == 0 and not errors:
        errors.append(_invalid("Bulk queries must contain at least one connection."))
    return errors


def _fragments(parsed: ParsedRequest) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in parsed.document.definitions if isinstance(d, FragmentDefinitionNode)}


def start(ctx: Ctx, query: str) -> tuple[BulkOperation | None, list[dict[str, Any]]]:
    """Validate and queue a bulk query for the calling app; (operation, user errors)."""
    running = [
        op for op in ctx.shop.bulk_operations.values() if op.app_key == ctx.app_key and op.status in ACTIVE
    ]
    if running:
        return None, [
            {
                "field": None,
                "message": "A bulk query operation for this app and shop is already in progress: "
                f"gid://shopify/BulkOperation/{running[-1].num}.",
                "code": "OPERATION_IN_PROGRESS",
            }
        ]
    parsed = parse_and_validate(query, None)
    if isinstance(parsed, list):
        return None, [_invalid(f"Invalid bulk query: {parsed[0]['message']}")]
    errors = check_query(parsed)
    if errors:
        return None, errors
    op = BulkOperation(ctx.sb.state.next_id(), ctx.app_key, query, "CREATED", time.time())
    ctx.shop.bulk_operations[op.num] = op
    _schedule(ctx.sb, ctx.shop, op, parsed, ctx.scopes)
    return op, []


def _schedule(
    sb: Sandbox, shop: ShopState, op: BulkOperation, parsed: ParsedRequest, scopes: frozenset[str]
) -> None:
    delay = sb.config.bulk_delay

    def running() -> None:
        with sb.state.lock:
            if op.status == "CREATED":
                op.status = "RUNNING"

    def complete() -> None:
        sb.run_bulk(shop, op, parsed, scopes)

    sb.scheduler.call_later(delay * 0.25, f"bulk {op.num}: running", running)
    sb.scheduler.call_later(delay, f"bulk {op.num}: complete", complete)


def cancel(sb: Sandbox, shop: ShopState, op: BulkOperation) -> None:
    op.status = "CANCELING"

    def done() -> None:
        with sb.state.lock:
            if op.status == "CANCELING":
                op.status, op.completed_at = "CANCELED", time.time()

    sb.scheduler.call_later(min(sb.config.bulk_delay, 0.5) * 0.5, f"bulk {op.num}: canceled", done)


def flatten(parsed: ParsedRequest, data: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """JSONL rows of an executed bulk query, and how many of them are root objects."""
    fields = _Fields(_fragments(parsed))
    root = admin_schema().query_type
    assert root is not None
    lines: list[dict[str, Any]] = []
    roots = 0

    def node_rows(
        value: dict[str, Any],
        selection: SelectionSetNode | None,
        node_type: GraphQLNamedType,
        parent_id: str | None,
    ) -> None:
        row, children = strip(value, selection, node_type)
        if parent_id is not None:
            row["__parentId"] = parent_id
        lines.append(row)
        for conn_value, conn_node, conn_type in children:
            emit_connection(conn_value, conn_node, conn_type, value.get("id"))

    def emit_connection(
        conn_value: Any, conn_node: FieldNode, conn_type: GraphQLObjectType, parent_id: str | None
    ) -> None:
        nonlocal roots
        inner = fields.node_selection(conn_node, conn_type)
        if not isinstance(conn_value, dict) or inner is None:
            return
        inner_node, inner_type = inner
        for edge in conn_value.get("edges") or []:
            if edge and edge.get("node") is not None:
                if parent_id is None:
                    roots += 1
                node_rows(edge["node"], inner_node.selection_set, inner_type, parent_id)

    def strip(
        value: dict[str, Any], selection: SelectionSetNode | None, parent: GraphQLNamedType
    ) -> tuple[dict[str, Any], list[tuple[Any, FieldNode, GraphQLObjectType]]]:
        """The row without its connections, and the connections found (in nested objects too)."""
        row: dict[str, Any] = {}
        children: list[tuple[Any, FieldNode, GraphQLObjectType]] = []
        selected = fields.collect(selection, parent)
        for key, item in value.items():
            if key not in selected:
                row[key] = item
                continue
            node, owner = selected[key]
            named = fields.field_type(node, owner)
            if named is not None and is_connection(named):
                assert isinstance(named, GraphQLObjectType)
                children.append((item, node, named))
            elif isinstance(item, dict) and named is not None:
                sub_row, sub_children = strip(item, node.selection_set, named)
                row[key] = sub_row
                children.extend(sub_children)
            else:
                row[key] = item
        return row, children

    op: OperationDefinitionNode = parsed.operation
    for key, (node, owner) in fields.collect(op.selection_set, root).items():
        named = fields.field_type(node, owner)
        value = data.get(key)
        if named is not None and is_connection(named):
            assert isinstance(named, GraphQLObjectType)
            emit_connection(value, node, named, None)
        elif isinstance(value, dict) and named is not None:
            _row, children = strip(value, node.selection_set, named)
            for conn_value, conn_node, conn_type in children:
                emit_connection(conn_value, conn_node, conn_type, None)
    return lines, roots
