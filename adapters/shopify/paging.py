"""Product pages sized from what pages really hold, so a paged sync asks for the points it uses.

Shopify makes a query wait until its *requested* cost is in the bucket, and charges its *actual*
cost (refunding the rest).  A page that asks for 20 media and 20 variants per product requests
about 140 points a product when a typical product costs 10-20: seven products fill the 1000-point
limit, and every page waits for points it gives back.  :class:`PageSizer` starts from the
configured list lengths, then sizes the per-product media and variant lists from the longest
lists the pages have shown (rounded up to a power of two; longer lists are still read in full by
follow-up queries) and fits as many products in a page as keep its requested cost within the
limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: Shortest list a page asks for per product; a shorter one saves little and pages more often.
MIN_LIST = 4


@dataclass(frozen=True)
class PagePlan:
    """The sizes of the next products page."""

    first: int
    media_first: int
    variants_first: int


def _fit(longest: int, configured: int) -> int:
    size = MIN_LIST
    while size < longest:
        size *= 2
    return min(size, configured)


class PageSizer:
    """Chooses page sizes from the configuration, the pages seen so far and the cost limit.

    ``estimate(first, media_first, variants_first)`` is the requested cost of such a page.
    """

    def __init__(
        self,
        estimate: Callable[[int, int, int], float],
        max_products: int,
        media_first: int,
        variants_first: int,
        limit: float,
    ) -> None:
        self.estimate = estimate
        self.max_products = max(1, max_products)
        self.configured = (max(1, media_first), max(1, variants_first))
        self.limit = limit
        self.longest_media = 0
        self.longest_variants = 0
        self.seen = False

    def plan(self) -> PagePlan:
        """The next page: list lengths from what was seen (configured before any), then the products."""
        media, variants = self.configured
        if self.seen:
            media = _fit(self.longest_media, media)
            variants = _fit(self.longest_variants, variants)
        first = self.max_products
        while first > 1 and self.estimate(first, media, variants) > self.limit:
            first -= 1
        return PagePlan(first, media, variants)

    def observe(self, nodes: Iterable[Mapping[str, Any]]) -> None:
        """Note the list lengths of a page's product nodes (a list with more counts as one longer)."""
        for node in nodes:
            self.seen = True
            self.longest_media = max(self.longest_media, _length(node.get("media")))
            self.longest_variants = max(self.longest_variants, _length(node.get("variants")))

    def shrink(self, plan: PagePlan) -> PagePlan | None:
        """A smaller page after Shopify refused ``plan`` as too expensive; None when it cannot shrink."""
        if plan.first <= 1:
            return None
        self.max_products = max(1, plan.first // 2)
        return PagePlan(self.max_products, plan.media_first, plan.variants_first)


def _length(connection: Mapping[str, Any] | None) -> int:
    if not connection:
        return 0
    count = len(connection.get("nodes") or [])
    more = bool((connection.get("pageInfo") or {}).get("hasNextPage"))
    return count + int(more)
