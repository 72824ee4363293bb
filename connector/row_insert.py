"""Multi-row INSERTs of a sync's new rows straight through the driver's executemany.

SQLAlchemy's Core executemany builds and converts every row's parameters in Python, one value at a
time (datetimes to text on SQLite, lists to JSON): for a catalog of 30 000 images that is most of a
bulk sync's database time.  Here the statement is compiled once, each column's bind processor is
applied in one pass over its values (a value repeated in every row, such as the batch's
timestamp, converted once), and the rows go to the driver as they are.  The rows stored are the
same as Core's; a table whose INSERT would need values the rows do not give (a Python-side default)
goes through Core instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from connector.models import Base


def insert_rows(connection: Connection, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (every one with the same keys) into ``model``'s table with one executemany."""
    if not rows:
        return
    keys = list(rows[0])
    dialect = connection.dialect
    compiled = insert(model).compile(dialect=dialect, column_keys=keys)
    names = list(compiled.positiontup or []) if compiled.positional else list(compiled.params)
    if sorted(names) != sorted(keys):  # a default to fill in, or a renamed parameter: Core knows how
        connection.execute(insert(model), list(rows))
        return
    columns = [
        _converted([row[name] for row in rows], model.__table__.c[name].type.dialect_impl(dialect), dialect)
        for name in names
    ]
    values = list(zip(*columns, strict=True))
    parameters: list[Any] = (
        values if compiled.positional else [dict(zip(names, v, strict=True)) for v in values]
    )
    connection.exec_driver_sql(compiled.string, parameters)


def _converted(values: list[Any], column_type: Any, dialect: Any) -> list[Any]:
    """``values`` through the column type's bind processor, each distinct value converted once
    (a list, as JSON, by its items)."""
    process: Callable[[Any], Any] | None = column_type.bind_processor(dialect)
    if process is None:
        return values
    done: dict[Any, Any] = {}
    out = []
    for value in values:
        key = (list, *value) if isinstance(value, list) else value
        try:
            out.append(done[key])
        except KeyError:
            out.append(done.setdefault(key, process(value)))
        except TypeError:  # unhashable items: converted each time
            out.append(process(value))
    return out
