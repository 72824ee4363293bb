"""Per-request execution context and the errors resolvers raise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError

from sandbox.shopify.cost import CostMeter
from sandbox.shopify.state import Product, ShopState

if TYPE_CHECKING:
    from sandbox.shopify.store import Sandbox

ACCESS_SCOPES_DOC = "https://shopify.dev/api/usage/access-scopes"


@dataclass
class Ctx:
    """What resolvers know about the request: the shop, the calling app and its granted scopes."""

    sb: Sandbox
    shop: ShopState
    app_key: str
    scopes: frozenset[str]
    meter: CostMeter = field(default_factory=CostMeter)
    bulk: bool = False  # executing a bulk operation: connections return everything
    changed: dict[int, Product] = field(default_factory=dict)  # products to announce after a mutation
    search: list[dict[str, Any]] = field(default_factory=list)  # extensions.search warnings

    @property
    def base_url(self) -> str:
        return self.sb.base_url

    @property
    def max_page(self) -> int:
        return self.sb.config.max_page_size

    def mark_changed(self, product: Product) -> None:
        self.changed[product.num] = product

    def require(self, field_name: str, *any_of: str) -> None:
        """Raise ACCESS_DENIED unless the token holds one of ``any_of``."""
        if any(scope in self.scopes for scope in any_of):
            return
        needed = " or ".join(f"`{s}`" for s in any_of)
        raise GraphQLError(
            f"Access denied for {field_name} field. Required access: {needed} access scope.",
            extensions={
                "code": "ACCESS_DENIED",
                "documentation": ACCESS_SCOPES_DOC,
                "requiredAccess": needed,
            },
        )


def unsupported(what: str) -> GraphQLError:
    """A valid request the sandbox does not emulate: a clear error instead of a wrong answer."""
    return GraphQLError(
        f"{what} is valid in the Admin API but not emulated by the Shopify sandbox.",
        extensions={"code": "SANDBOX_UNSUPPORTED"},
    )


def invalid_id(value: Any) -> GraphQLError:
    return GraphQLError(
        f"Invalid global id '{value}'",
        extensions={"code": "argumentLiteralsIncompatible", "typeName": "CoercionError"},
    )
