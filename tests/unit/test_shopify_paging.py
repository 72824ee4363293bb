"""Product pages sized from the lists pages really hold, within the cost limit."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.shopify import documents as docs
from adapters.shopify.config import MAX_QUERY_COST
from adapters.shopify.cost import estimate_cost
from adapters.shopify.paging import PagePlan, PageSizer

pytestmark = pytest.mark.unit


def _estimate(first: int, media_first: int, variants_first: int) -> float:
    variables = {"first": first, "mediaFirst": media_first, "variantsFirst": variants_first}
    return float(estimate_cost(docs.PRODUCTS_PAGE, variables))


def _node(media: int, variants: int, more_media: bool = False) -> dict[str, Any]:
    return {
        "media": {"nodes": [{}] * media, "pageInfo": {"hasNextPage": more_media}},
        "variants": {"nodes": [{}] * variants, "pageInfo": {"hasNextPage": False}},
    }


def test_first_page_uses_the_configured_lists_then_pages_grow_to_what_products_hold() -> None:
    sizer = PageSizer(_estimate, 250, 20, 20, MAX_QUERY_COST)
    first = sizer.plan()
    assert (first.media_first, first.variants_first) == (20, 20)
    assert _estimate(first.first, 20, 20) <= MAX_QUERY_COST < _estimate(first.first + 1, 20, 20)

    sizer.observe([_node(3, 2), _node(5, 1), _node(1, 3)])
    second = sizer.plan()
    assert (second.media_first, second.variants_first) == (8, 4)
    assert second.first > 2 * first.first, (first, second)
    assert _estimate(second.first, 8, 4) <= MAX_QUERY_COST


def test_a_list_with_more_counts_longer_and_lists_never_exceed_the_configuration() -> None:
    sizer = PageSizer(_estimate, 250, 20, 10, MAX_QUERY_COST)
    sizer.observe([_node(8, 40, more_media=True)])
    plan = sizer.plan()
    assert (plan.media_first, plan.variants_first) == (16, 10)


def test_shrink_halves_until_one_product() -> None:
    sizer = PageSizer(_estimate, 8, 20, 20, MAX_QUERY_COST)
    plan: PagePlan | None = PagePlan(8, 20, 20)
    sizes = []
    while plan is not None:
        sizes.append(plan.first)
        plan = sizer.shrink(plan)
    assert sizes == [8, 4, 2, 1]
    assert sizer.plan().first <= 1
