"""Every GraphQL document the Shopify adapter sends is valid against the Admin API 2025-01 schema."""

from __future__ import annotations

import gzip
import json
from functools import lru_cache

import pytest
from graphql import GraphQLSchema, build_client_schema, parse, validate
from graphql.language import FieldNode, InlineFragmentNode, OperationDefinitionNode, SelectionSetNode

from adapters.shopify import ShopifyClient
from adapters.shopify import documents as docs
from adapters.shopify.config import MAX_QUERY_COST
from adapters.shopify.cost import estimate_cost
from connector.settings import PROJECT_ROOT
from tests.unit.shopify_fakes import CONFIG, SHOP, FakeClock, credentials

pytestmark = pytest.mark.unit

SCHEMA_PATH = PROJECT_ROOT / "devkit" / "sandbox" / "assets" / "shopify" / "admin_schema_2025-01.json.gz"


@lru_cache(maxsize=1)
def schema() -> GraphQLSchema:
    # The published introspection has a few deprecation mismatches graphql-core's schema
    # validation objects to; they do not affect validating documents against it.
    with gzip.open(SCHEMA_PATH) as fh:
        return build_client_schema(json.load(fh)["data"], assume_valid=True)


def errors_of(document: str) -> list[str]:
    return [e.message for e in validate(schema(), parse(document))]


@pytest.mark.parametrize("name", sorted(docs.ALL))
def test_document_is_valid_against_the_admin_schema(name: str) -> None:
    assert errors_of(docs.ALL[name]) == []


@pytest.mark.parametrize("name", sorted(docs.ALL))
def test_document_is_registered_under_its_operation_name(name: str) -> None:
    operations = [d for d in parse(docs.ALL[name]).definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1
    assert operations[0].name is not None and operations[0].name.value == name


def connection_depths(document: str) -> list[int]:
    """Nesting depth of every connection (a field selecting ``edges``) in a bulk query."""
    depths: list[int] = []

    def walk(selection_set: SelectionSetNode | None, depth: int) -> None:
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set, depth)
            elif isinstance(selection, FieldNode) and selection.selection_set:
                inner = {
                    s.name.value: s for s in selection.selection_set.selections if isinstance(s, FieldNode)
                }
                if "edges" in inner:
                    depths.append(depth + 1)
                    edges = inner["edges"].selection_set
                    assert edges is not None
                    node = next(s for s in edges.selections if isinstance(s, FieldNode))
                    walk(node.selection_set, depth + 1)
                else:
                    walk(selection.selection_set, depth)

    operation = parse(document).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    walk(operation.selection_set, 0)
    return depths


@pytest.mark.parametrize(
    "text",
    [
        docs.bulk_products_query(None),
        docs.bulk_products_query(""),
        docs.bulk_products_query("updated_at:>'2025-01-01T00:00:00Z'"),
        docs.bulk_products_query('title:"a \\ b"'),
        docs.bulk_variant_media_query(),
    ],
)
def test_bulk_queries_are_valid_and_respect_bulk_limits(text: str) -> None:
    assert errors_of(text) == []
    depths = connection_depths(text)
    assert 1 <= len(depths) <= 5 and max(depths) <= 2  # Shopify's bulk query restrictions
    assert "nodes" not in text  # bulk queries select through edges { node }


def test_bulk_limits_checker_catches_three_levels() -> None:
    media = "media { edges { node { id } } }"
    three = f"{{ products {{ edges {{ node {{ id variants {{ edges {{ node {{ id {media} }} }} }} }} }} }} }}"
    assert max(connection_depths(three)) == 3


def test_a_schema_violation_would_be_caught() -> None:
    assert errors_of("query Broken { products(first: 1) { nodes { noSuchField } } }")


def test_estimator_follows_shopifys_rules() -> None:
    assert estimate_cost("query A { shop { id name } }") == 1
    assert estimate_cost("query B { products(first: 10) { nodes { id } } }") == 2 + 10
    nested = "query C { products(first: 5) { nodes { id variants(first: 4) { nodes { id } } } } }"
    assert estimate_cost(nested) == 2 + 5 * (1 + 2 + 4)
    assert estimate_cost(docs.FILE_UPDATE, {"files": []}) == 10


def test_the_sync_page_stays_under_the_query_cost_ceiling() -> None:
    clock = FakeClock()
    client = ShopifyClient(CONFIG, SHOP, credentials(), runtime=clock.runtime())
    variables = client._page_variables(client.page_size)
    assert 1 <= client.page_size <= 250
    assert estimate_cost(docs.PRODUCTS_PAGE, variables) <= MAX_QUERY_COST
    assert estimate_cost(docs.PRODUCTS_PAGE, client._page_variables(client.page_size + 1)) > MAX_QUERY_COST
    product = {
        "id": "x",
        "mediaFirst": CONFIG.media_per_product,
        "variantsFirst": CONFIG.variants_per_product,
    }
    assert estimate_cost(docs.PRODUCT, product) <= MAX_QUERY_COST
