"""Calculated query cost and the leaky bucket, the way Shopify's Admin API charges requests.

Requested cost is computed statically before execution: scalars and enums 0, objects 1,
interfaces and unions the maximum over their possible types, connections ``2 + first x
(cost of one node)``, a mutation 10 plus the connections its payload selects (a mutation's
payload objects are free).  Actual cost is metered during execution with the same rules on
what was really returned.  Every shop+app pair has its own bucket (1000 points, restoring
50 points a second by default).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    GraphQLWrappingType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    value_from_ast,
)

MUTATION_COST = 10
CONNECTION_BASE = 2


def is_connection(t: GraphQLNamedType) -> bool:
    """Whether ``t`` is a Relay connection type (``FooConnection`` with ``pageInfo``)."""
    return isinstance(t, GraphQLObjectType) and t.name.endswith("Connection") and "pageInfo" in t.fields


def is_free_object(t: GraphQLNamedType) -> bool:
    """Connection plumbing that costs nothing by itself (edges, page info)."""
    return t.name == "PageInfo" or (t.name.endswith("Edge") and isinstance(t, GraphQLObjectType))


def _is_list(t: Any) -> bool:
    while isinstance(t, GraphQLWrappingType):
        if isinstance(t, GraphQLList):
            return True
        t = t.of_type
    return False


class RequestedCost:
    """Static cost analysis of one operation."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def operation(self, op: OperationDefinitionNode) -> int:
        """The requested cost of ``op``."""
        if op.operation.value == "mutation":
            root = self.schema.mutation_type
            assert root is not None
            total = 0
            for node, owner in self._fields(op.selection_set, root, root):
                field = owner.fields.get(node.name.value) if hasattr(owner, "fields") else None
                if field is None:
                    continue
                total += MUTATION_COST + self._connections_only(node, get_named_type(field.type))
            return total
        root_q = self.schema.query_type
        assert root_q is not None
        return self._selection(op.selection_set, root_q)

    # --- helpers -------------------------------------------------------------------------

    def _fields(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, concrete: GraphQLNamedType
    ) -> list[tuple[FieldNode, GraphQLNamedType]]:
        """Fields selected on ``concrete`` (fragments flattened), each with the type that declares it."""
        out: list[tuple[FieldNode, GraphQLNamedType]] = []
        if selection_set is None:
            return out
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                out.append((sel, parent))
            elif isinstance(sel, InlineFragmentNode):
                cond = self.schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent
                if cond is not None and self._applies(cond, concrete):
                    out.extend(self._fields(sel.selection_set, cond, concrete))
            elif isinstance(sel, FragmentSpreadNode):
                frag = self.fragments.get(sel.name.value)
                if frag is None:
                    continue
                cond = self.schema.get_type(frag.type_condition.name.value)
                if cond is not None and self._applies(cond, concrete):
                    out.extend(self._fields(frag.selection_set, cond, concrete))
        return out

    def _applies(self, cond: GraphQLNamedType, concrete: GraphQLNamedType) -> bool:
        if cond.name == concrete.name:
            return True
        if isinstance(cond, (GraphQLInterfaceType, GraphQLUnionType)):
            if isinstance(concrete, GraphQLObjectType):
                return self.schema.is_sub_type(cond, concrete)
            return True  # selection still abstract: keep it, the max over types is taken above
        return False

    def _selection(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType) -> int:
        """Cost of the fields below an object of type ``parent`` (max over concrete types if abstract)."""
        if isinstance(parent, (GraphQLInterfaceType, GraphQLUnionType)):
            possible = self.schema.get_possible_types(parent)
            return max((self._concrete(selection_set, parent, t) for t in possible), default=0)
        return self._concrete(selection_set, parent, parent)

    def _concrete(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, concrete: GraphQLNamedType
    ) -> int:
        total = 0
        for node, owner in self._fields(selection_set, parent, concrete):
            field = getattr(owner, "fields", {}).get(node.name.value)
            if field is None:
                continue
            total += self._field(node, field)
        return total

    def _args(self, node: FieldNode, field: Any) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for arg in node.arguments or ():
            definition = field.args.get(arg.name.value)
            if definition is None:
                continue
            args[arg.name.value] = value_from_ast(arg.value, definition.type, self.variables)
        return args

    def _field(self, node: FieldNode, field: Any) -> int:
        named = get_named_type(field.type)
        if not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
            return 0
        if is_connection(named):
            assert isinstance(named, GraphQLObjectType)
            return self._connection(node, field, named)
        children = self._selection(node.selection_set, named)
        if is_free_object(named):
            return children
        count = 1
        if _is_list(field.type):
            ids = self._args(node, field).get("ids")
            count = len(ids) if isinstance(ids, list) else 1
        return count * (1 + children)

    def _page_size(self, node: FieldNode, field: Any) -> int:
        args = self._args(node, field)
        size = args.get("first") if args.get("first") is not None else args.get("last")
        return max(int(size or 0), 0)

    def _node_cost(self, node: FieldNode, connection: GraphQLObjectType) -> int:
        """Cost of one node as selected through ``edges { node }`` and/or ``nodes``."""
        node_type = get_named_type(connection.fields["nodes"].type) if "nodes" in connection.fields else None
        cost = 0
        for sub, _owner in self._fields(node.selection_set, connection, connection):
            name = sub.name.value
            if name == "nodes" and node_type is not None:
                cost += 1 + self._selection(sub.selection_set, node_type)
            elif name == "edges":
                edge_type = get_named_type(connection.fields["edges"].type)
                assert isinstance(edge_type, GraphQLObjectType)
                for inner, _o in self._fields(sub.selection_set, edge_type, edge_type):
                    if inner.name.value == "node":
                        inner_type = get_named_type(edge_type.fields["node"].type)
                        cost += 1 + self._selection(inner.selection_set, inner_type)
        return cost

    def _connection(self, node: FieldNode, field: Any, connection: GraphQLObjectType) -> int:
        return CONNECTION_BASE + self._page_size(node, field) * self._node_cost(node, connection)

    def _connections_only(self, node: FieldNode, named: GraphQLNamedType) -> int:
        """Inside a mutation payload only connections are charged."""
        if not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
            return 0
        total = 0
        for sub, owner in self._fields(node.selection_set, named, named):
            field = getattr(owner, "fields", {}).get(sub.name.value)
            if field is None:
                continue
            sub_named = get_named_type(field.type)
            if is_connection(sub_named):
                assert isinstance(sub_named, GraphQLObjectType)
                total += self._connection(sub, field, sub_named)
            else:
                total += self._connections_only(sub, sub_named)
        return total


def requested_cost(
    schema: GraphQLSchema,
    document_fragments: dict[str, FragmentDefinitionNode],
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
) -> int:
    """The requested (worst case) cost of ``operation``."""
    return RequestedCost(schema, document_fragments, variables).operation(operation)


class CostMeter:
    """Accumulates the actual cost while resolvers run (see :func:`charge`)."""

    def __init__(self) -> None:
        self.total = 0

    def charge(self, info: Any, value: Any) -> None:
        """Charge one resolved field by what it returned."""
        named = get_named_type(info.return_type)
        if not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
            return
        in_mutation = info.operation.operation.value == "mutation"
        if in_mutation and len(info.path.as_list()) == 1:
            self.total += MUTATION_COST
            return
        if is_connection(named):
            self.total += CONNECTION_BASE if value is not None else 0
            return
        if is_free_object(named):
            return
        if in_mutation and not _inside_connection(info):
            return
        if isinstance(value, (list, tuple)):
            if _per_item(info):
                self.total += sum(1 for v in value if v is not None)
            elif any(v is not None for v in value):
                self.total += 1
        elif value is not None:
            self.total += 1


def _per_item(info: Any) -> bool:
    """Lists charged per element: a connection's ``nodes`` and the root ``nodes(ids:)``."""
    return info.field_name == "nodes" and (
        info.parent_type.name == "QueryRoot" or is_connection(info.parent_type)
    )


def _inside_connection(info: Any) -> bool:
    keys = info.path.as_list()
    return "edges" in keys or "nodes" in keys


@dataclass
class ThrottleStatus:
    maximum: float
    available: float
    restore_rate: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "maximumAvailable": _num(self.maximum),
            "currentlyAvailable": math.floor(self.available),
            "restoreRate": _num(self.restore_rate),
        }


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


class LeakyBucket:
    """Points available to one shop+app pair; refills continuously at ``restore_rate`` per second."""

    def __init__(self, size: float, restore_rate: float) -> None:
        self.size = size
        self.restore_rate = restore_rate
        self._level = size
        self._stamp = time.monotonic()
        self._lock = threading.Lock()
        self.spent = 0.0  # points charged so far (taken less refunds; admin inspection)

    def _refill(self) -> None:
        now = time.monotonic()
        self._level = min(self.size, self._level + (now - self._stamp) * self.restore_rate)
        self._stamp = now

    def status(self) -> ThrottleStatus:
        with self._lock:
            self._refill()
            return ThrottleStatus(self.size, self._level, self.restore_rate)

    def try_take(self, points: float) -> bool:
        """Take ``points`` when that many are available; False (nothing taken) otherwise."""
        with self._lock:
            self._refill()
            if points > self._level:
                return False
            self._level -= points
            self.spent += points
            return True

    def refund(self, points: float) -> None:
        with self._lock:
            self._refill()
            self._level = min(self.size, self._level + max(points, 0.0))
            self.spent -= max(points, 0.0)

    def set_level(self, points: float) -> None:
        """Set the points available now (admin: drain a bucket to test throttling)."""
        with self._lock:
            self._refill()
            self._level = max(0.0, min(self.size, points))

    def seconds_until(self, points: float) -> float:
        """How long until ``points`` will be available."""
        with self._lock:
            self._refill()
            missing = points - self._level
            return max(0.0, missing / self.restore_rate) if self.restore_rate > 0 else math.inf


class Buckets:
    """One :class:`LeakyBucket` per (shop, app)."""

    def __init__(self, size: float, restore_rate: float) -> None:
        self.size = size
        self.restore_rate = restore_rate
        self._buckets: dict[tuple[str, str], LeakyBucket] = {}
        self._lock = threading.Lock()

    def get(self, shop: str, app_key: str) -> LeakyBucket:
        with self._lock:
            bucket = self._buckets.get((shop, app_key))
            if bucket is None:
                bucket = self._buckets[(shop, app_key)] = LeakyBucket(self.size, self.restore_rate)
            return bucket

    def reconfigure(self, size: float, restore_rate: float) -> None:
        """New size and restore rate for every bucket (existing levels are kept, capped)."""
        with self._lock:
            self.size, self.restore_rate = size, restore_rate
            for bucket in self._buckets.values():
                bucket.size, bucket.restore_rate = size, restore_rate
                bucket.set_level(bucket.status().available)
