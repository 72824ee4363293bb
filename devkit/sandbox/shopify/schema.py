"""The Shopify Admin GraphQL schema (2025-01) and Shopify-shaped validation errors.

The introspection file is big, so it is loaded once per process.  Documents are parsed and
validated with graphql-core; its messages are translated to the wording and ``extensions.code``
Shopify's (graphql-ruby) server uses, so a client sees the same error shapes as on a real store.
"""

from __future__ import annotations

import copy
import gzip
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    build_client_schema,
    parse,
    validate,
    validate_schema,
)

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "assets" / "shopify" / "admin_schema_2025-01.json.gz"

_lock = threading.Lock()
_schema: GraphQLSchema | None = None


def admin_schema() -> GraphQLSchema:
    """The Admin API schema, built on first use and shared by every app in the process."""
    global _schema
    with _lock:
        if _schema is None:
            with gzip.open(SCHEMA_PATH, "rt", encoding="utf-8") as fh:
                schema = build_client_schema(json.load(fh)["data"])
            _accept_deprecation_mismatches(schema)
            _schema = schema
        return _schema


def _accept_deprecation_mismatches(schema: GraphQLSchema) -> None:
    """Let graphql-core validate documents against Shopify's schema as published.

    The 2025-01 introspection has two implementation fields deprecated while their interface
    field is not (``Customer.hasTimelineComment``, ``DiscountAutomaticBxgy.id``); graphql-core
    then refuses to validate any document.  Those are the only schema errors, and they do not
    change what a document may select, so they are accepted; anything else still fails here.
    """
    problems = validate_schema(schema)
    other = [e.message for e in problems if "must not be deprecated" not in e.message]
    if other:
        raise TypeError("the Shopify admin schema is invalid: " + "; ".join(other))
    schema._validation_errors = []


@dataclass(frozen=True)
class ParsedRequest:
    """A document that parsed and validated, with the operation to run."""

    document: DocumentNode
    operation: OperationDefinitionNode


def error(message: str, code: str, **extra: Any) -> dict[str, Any]:
    """One error in Shopify's shape (``message`` + ``extensions.code``)."""
    return {"message": message, "extensions": {"code": code, **extra}}


def _locations(err: GraphQLError) -> list[dict[str, int]]:
    return [{"line": loc.line, "column": loc.column} for loc in (err.locations or [])]


def _op_label(document: DocumentNode | None) -> str:
    if document is None:
        return "query"
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            kind = definition.operation.value
            return f"{kind} {definition.name.value}" if definition.name else kind
    return "query"


_Rewrite = Callable[[re.Match[str]], tuple[str, dict[str, Any]]]
_REWRITES: list[tuple[re.Pattern[str], _Rewrite]] = [
    (
        re.compile(r"Cannot query field '(?P<f>\w+)' on type '(?P<t>\w+)'"),
        lambda m: (
            f"Field '{m['f']}' doesn't exist on type '{m['t']}'",
            {"code": "undefinedField", "typeName": m["t"], "fieldName": m["f"]},
        ),
    ),
    (
        re.compile(r"Unknown argument '(?P<a>\w+)' on field '(?P<t>\w+)\.(?P<f>\w+)'"),
        lambda m: (
            f"Field '{m['f']}' doesn't accept argument '{m['a']}'",
            {"code": "argumentNotAccepted", "name": m["f"], "typeName": "Field", "argumentName": m["a"]},
        ),
    ),
    (
        re.compile(
            r"(?:Field '(?P<f>\w+)' argument '(?P<a>\w+)'|Argument '\w+\.(?P<f2>\w+)\((?P<a2>\w+):\)') "
            r"of type '[^']+' is required"
        ),
        lambda m: (
            f"Field '{m['f'] or m['f2']}' is missing required arguments: {m['a'] or m['a2']}",
            {
                "code": "missingRequiredArguments",
                "className": "Field",
                "name": m["f"] or m["f2"],
                "arguments": m["a"] or m["a2"],
            },
        ),
    ),
    (
        re.compile(r"Field '(?P<f>\w+)' of type '(?P<t>[^']+)' must have a selection of subfields"),
        lambda m: (
            f"Field must have selections (field '{m['f']}' returns {m['t'].strip('[]!')} but has no "
            f"selections. Did you mean '{m['f']} {{ ... }}'?)",
            {"code": "selectionMismatch", "nodeName": f"field '{m['f']}'", "typeName": m["t"].strip("[]!")},
        ),
    ),
    (
        re.compile(
            r"Field '(?P<f>\w+)' must not have a selection since type '(?P<t>[^']+)' has no subfields"
        ),
        lambda m: (
            f"Selections can't be made on scalars (field '{m['f']}' returns {m['t']} but has selections "
            f"[...])",
            {"code": "selectionMismatch", "nodeName": f"field '{m['f']}'", "typeName": m["t"]},
        ),
    ),
    (
        re.compile(r"Unknown type '(?P<t>\w+)'"),
        lambda m: (f"No such type {m['t']}, so it can't be a fragment condition", {"code": "undefinedType"}),
    ),
    (
        re.compile(r"Variable '\$(?P<v>\w+)' is never used"),
        lambda m: (f"Variable ${m['v']} is declared but never used", {"code": "variableNotUsed"}),
    ),
    (
        re.compile(r"Variable '\$(?P<v>\w+)' is not defined"),
        lambda m: (f"Variable ${m['v']} is used but not declared", {"code": "variableNotDefined"}),
    ),
    (
        re.compile(r"Fragment '(?P<n>\w+)' is never used"),
        lambda m: (f"Fragment {m['n']} was defined, but not used", {"code": "useAndDefineFragment"}),
    ),
    (
        re.compile(r"Unknown fragment '(?P<n>\w+)'"),
        lambda m: (f"Fragment {m['n']} was used, but not defined", {"code": "useAndDefineFragment"}),
    ),
]


def translate_validation_error(err: GraphQLError, document: DocumentNode | None) -> dict[str, Any]:
    """A graphql-core validation error in Shopify's wording and shape."""
    out: dict[str, Any] = {"message": err.message}
    locations = _locations(err)
    if locations:
        out["locations"] = locations
    for pattern, rewrite in _REWRITES:
        match = pattern.search(err.message)
        if match:
            message, extensions = rewrite(match)
            out["message"] = message
            out["path"] = [_op_label(document)]
            out["extensions"] = extensions
            return out
    if "Expected value of type" in err.message or "cannot represent" in err.message:
        out["extensions"] = {"code": "argumentLiteralsIncompatible", "typeName": "CoercionError"}
    else:
        out["extensions"] = {"code": "GRAPHQL_VALIDATION_FAILED"}
    return out


def parse_and_validate(source: str, operation_name: str | None) -> ParsedRequest | list[dict[str, Any]]:
    """Parse and validate ``source``; the operation to run, or Shopify-shaped errors.

    A client sends the same few documents over and over (polling above all), so each document is
    parsed and validated once: the parsed tree is only read by execution, errors are copied.
    """
    parsed = _parse_and_validate(source, operation_name)
    return parsed if isinstance(parsed, ParsedRequest) else copy.deepcopy(parsed)


@lru_cache(maxsize=512)
def _parse_and_validate(source: str, operation_name: str | None) -> ParsedRequest | list[dict[str, Any]]:
    schema = admin_schema()
    try:
        document = parse(source)
    except GraphQLError as exc:
        locations = _locations(exc)
        where = f" at [{locations[0]['line']}, {locations[0]['column']}]" if locations else ""
        out: dict[str, Any] = {"message": f"syntax error, {_syntax_detail(exc.message)}{where}"}
        if locations:
            out["locations"] = locations
        out["extensions"] = {"code": "PARSE_ERROR"}
        return [out]
    errors = validate(schema, document)
    if errors:
        return [translate_validation_error(e, document) for e in errors]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        chosen = [op for op in operations if op.name is not None and op.name.value == operation_name]
        if not chosen:
            return [error(f'No operation named "{operation_name}"', "OPERATION_NOT_FOUND")]
        operation = chosen[0]
    elif len(operations) == 1:
        operation = operations[0]
    else:
        return [error("An operation name is required", "OPERATION_NAME_REQUIRED")]
    if operation.operation.value == "subscription":
        return [error("Subscriptions are not supported by the Admin API", "SUBSCRIPTION_NOT_SUPPORTED")]
    return ParsedRequest(document=document, operation=operation)


def _syntax_detail(message: str) -> str:
    """graphql-core's ``Syntax Error: Expected Name, found <EOF>.`` in graphql-ruby's words."""
    found = re.search(r"found (?P<tok>.+?)\.?$", message)
    if found is None:
        return message.removeprefix("Syntax Error: ").rstrip(".")
    token = found["tok"]
    return "unexpected end of file" if token == "<EOF>" else f"unexpected {token}"


def variable_error(
    message: str, operation: OperationDefinitionNode, variables: dict[str, Any]
) -> dict[str, Any]:
    """A graphql-core variable coercion error in Shopify's ``INVALID_VARIABLE`` shape."""
    match = re.search(r"Variable '\$(\w+)'", message)
    name = match.group(1) if match else ""
    definition = next(
        (d for d in operation.variable_definitions or () if d.variable.name.value == name), None
    )
    type_text = _type_text(definition.type) if definition is not None else "?"
    explanation = message.split(";", 1)[1].strip() if ";" in message else message
    if "was not provided" in message or "must not be null" in message:
        explanation = "Expected value to not be null"
    out: dict[str, Any] = {"message": f"Variable ${name} of type {type_text} was provided invalid value"}
    if definition is not None and definition.loc is not None:
        out["locations"] = [
            {"line": definition.loc.start_token.line, "column": definition.loc.start_token.column}
        ]
    out["extensions"] = {
        "code": "INVALID_VARIABLE",
        "value": variables.get(name),
        "problems": [{"path": [], "explanation": explanation}],
    }
    return out


def _type_text(node: Any) -> str:
    kind = node.kind
    if kind == "non_null_type":
        return _type_text(node.type) + "!"
    if kind == "list_type":
        return "[" + _type_text(node.type) + "]"
    return str(node.name.value)
