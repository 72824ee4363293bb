"""Static estimate of a document's requested cost, by Shopify's published rules.

Objects cost 1, scalars and enums 0, a connection 2 plus ``first`` (or ``last``) times the
cost of one node, and every mutation field 10.  The throttle uses the estimate to wait for
enough points *before* sending, and the tests use it to keep every page under the 1000-point
ceiling of a single query.  The server's own figure (``requestedQueryCost``) wins once known.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from graphql import parse
from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
)

MUTATION_COST = 10
_CONNECTION_INNER = {"nodes", "edges", "node"}
_FREE = {"pageInfo", "__typename"}


@lru_cache(maxsize=64)
def _parsed(document: str) -> DocumentNode:
    return parse(document)


def estimate_cost(document: str, variables: Mapping[str, Any] | None = None) -> int:
    """The requested cost Shopify would compute for this document and these variables."""
    doc = _parsed(document)
    fragments = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
    estimator = _Estimator(fragments, dict(variables or {}))
    total = 0
    for definition in doc.definitions:
        if isinstance(definition, OperationDefinitionNode):
            if definition.operation == OperationType.MUTATION:
                total += MUTATION_COST * len(definition.selection_set.selections)
            else:
                total += estimator.selection_cost(definition.selection_set)
    return total


class _Estimator:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any]) -> None:
        self.fragments = fragments
        self.variables = variables

    def _page_size(self, field: FieldNode) -> int | None:
        for arg in field.arguments or ():
            if arg.name.value not in ("first", "last"):
                continue
            value = arg.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                return int(self.variables.get(value.name.value) or 0)
        return None

    def _fields(self, selection_set: SelectionSetNode) -> list[FieldNode]:
        fields: list[FieldNode] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                fields.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                fields.extend(self._fields(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                fields.extend(self._fields(self.fragments[selection.name.value].selection_set))
        return fields

    def selection_cost(self, selection_set: SelectionSetNode) -> int:
        """Sum of the costs of the object fields selected here."""
        return sum(self.field_cost(f) for f in self._fields(selection_set))

    def field_cost(self, field: FieldNode) -> int:
        if field.selection_set is None or field.name.value in _FREE:
            return 0
        size = self._page_size(field)
        if size is None:
            if field.name.value in _CONNECTION_INNER:
                return self.selection_cost(field.selection_set)
            return 1 + self.selection_cost(field.selection_set)
        node_cost = 1 + self._node_cost(field.selection_set)
        return 2 + size * node_cost

    def _node_cost(self, connection: SelectionSetNode) -> int:
        """Cost of one node of a connection (object fields below ``nodes``/``edges.node``)."""
        cost = 0
        for inner in self._fields(connection):
            if inner.name.value == "nodes" and inner.selection_set:
                cost = max(cost, self.selection_cost(inner.selection_set))
            elif inner.name.value == "edges" and inner.selection_set:
                for edge_field in self._fields(inner.selection_set):
                    if edge_field.name.value == "node" and edge_field.selection_set:
                        cost = max(cost, self.selection_cost(edge_field.selection_set))
        return cost
