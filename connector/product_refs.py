"""Which product an operator means: the store's own product id, or the connector's id as ``id:<n>``.

Operators copy product ids from the store's admin, so a bare reference is the platform's id.
The connector's internal id (shown by the dashboard and ``history``) is accepted too; where a bare
number is both (one product's platform id, another's internal id) the command refuses instead of
guessing, and ``id:<n>`` or ``platform:<id>`` says which.  A reference matching nothing is refused.
"""

from __future__ import annotations

from sqlalchemy import select

from connector.errors import ConflictError, NotFound
from connector.models import Product
from connector.services import Services


def resolve_product(services: Services, store_id: int, ref: str) -> int:
    """The product row id ``ref`` names in this store; NotFound or ConflictError (ambiguous) otherwise."""
    ref = ref.strip()
    kind, _, value = ref.partition(":") if ref.startswith(("id:", "platform:")) else ("", "", ref)
    with services.session() as s:
        in_store = select(Product.id).where(Product.store_id == store_id)
        by_platform = s.scalar(in_store.where(Product.platform_id == value)) if kind != "id" else None
        by_id = (
            s.scalar(in_store.where(Product.id == int(value)))
            if kind != "platform" and value.isdigit()
            else None
        )
    if by_platform is not None and by_id is not None and by_platform != by_id:
        raise ConflictError(
            f"product {ref!r} is ambiguous: the store's product {value} and the connector's id {value} "
            "are different products",
            hint=f"say which: --product platform:{value} (the store's id) or --product id:{value}",
        )
    found = by_platform if by_platform is not None else by_id
    if found is None:
        raise NotFound(
            f"store {store_id} has no product {ref!r} (neither the store's product id nor the connector's)",
            hint="check the id in the store's admin, or run `connector resync` if the product is new",
        )
    return found
