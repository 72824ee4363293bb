"""insert_rows stores the same rows as SQLAlchemy's own INSERT, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from connector.models import Image, Product
from connector.row_insert import insert_rows
from connector.stores import save_install
from tests.conftest import make_services

pytestmark = pytest.mark.integration

MOMENT = datetime(2026, 12, 4, 18, 45, 1, 123456, tzinfo=UTC)


def _rows(product_id: int, start: int) -> list[dict[str, Any]]:
    return [
        {
            "store_id": 1,
            "product_id": product_id,
            "platform_media_id": f"m{start + i}",
            "original_media_id": f"m{start + i}",
            "origin": "merchant",
            "status": "new",
            "position": i,
            "alt": None if i % 2 else f"alt é {i}",
            "src": f"https://cdn.example/{i}.jpg",
            "filename": f"{i}.jpg",
            "variant_ids": [] if i % 3 else [f"v{i}", f"w{i}"],
            "updated_at": MOMENT,
        }
        for i in range(7)
    ]


def _stored(session: Session, product_id: int) -> list[tuple[Any, ...]]:
    images = session.scalars(select(Image).where(Image.product_id == product_id).order_by(Image.position))
    return [
        (
            i.platform_media_id,
            i.origin,
            i.status,
            i.position,
            i.alt,
            i.src,
            i.filename,
            i.variant_ids,
            i.updated_at.replace(tzinfo=UTC) if i.updated_at.tzinfo is None else i.updated_at,
            i.content_hash,
        )
        for i in images
    ]


def test_rows_stored_as_sqlalchemy_stores_them(tmp_path: Path, database_url: str) -> None:
    services = make_services(tmp_path, database_url)
    store_id = save_install(services, "fake", "rows.fake", {"token": "tok"})
    with services.session() as session:
        products = [Product(store_id=store_id, platform_id=f"p{n}", title="t") for n in range(2)]
        session.add_all(products)
        session.flush()
        core, ours = (p.id for p in products)
        session.connection().execute(insert(Image), [r | {"store_id": store_id} for r in _rows(core, 0)])
        insert_rows(session.connection(), Image, [r | {"store_id": store_id} for r in _rows(ours, 100)])
    with services.session() as session:
        expected = [(f"m{100 + int(r[0][1:])}", *r[1:]) for r in _stored(session, core)]
        assert _stored(session, ours) == expected
        assert expected[0][8] == MOMENT and expected[0][7] == ["v0", "w0"]


def test_a_table_whose_rows_lack_a_defaulted_column_goes_through_core(tmp_path: Path) -> None:
    services = make_services(tmp_path)
    store_id = save_install(services, "fake", "rows.fake", {"token": "tok"})
    row = {"store_id": store_id, "platform_id": "p1", "title": "t", "variant_ids": [], "deleted": False}
    with services.session() as session:
        insert_rows(session.connection(), Product, [row])  # lock_token's default filled in by Core
    with services.session() as session:
        product = session.scalars(select(Product)).one()
        assert (product.platform_id, product.lock_token, product.variant_ids) == ("p1", 0, [])
