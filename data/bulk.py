"""Bulk writes: COPY on PostgreSQL, batched executemany on SQLite.

On PostgreSQL, multi-row INSERT statements with thousands of parameters spend most of
their time being built and parsed; COPY streams rows instead (many times faster). Values
here are plain Python values: callers pass what the column types would have bound.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Dialect, Table, insert
from sqlalchemy import Enum as SQLEnum
from sqlalchemy.orm import Session

from data.models import Base
from data.upsert import insert_on_conflict


def _converter(column_type: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """How a Python value becomes what COPY should write for a column of this type."""
    bind = getattr(column_type, "process_bind_param", None)
    if bind is not None:  # TypeDecorators: Money's checks, UTC conversion
        return lambda value: bind(value, dialect)
    if isinstance(column_type, SQLEnum):
        # psycopg would dump an Enum member by its name; the store keeps its value.
        return lambda value: value.value if isinstance(value, enum.Enum) else value
    return None


def _copy(session: Session, table_name: str, table: Table, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    dialect = session.get_bind().dialect
    converters = [_converter(table.c[c].type, dialect) for c in columns]
    raw = session.connection().connection.driver_connection
    assert raw is not None
    column_list = ", ".join(f'"{c}"' for c in columns)
    with (
        raw.cursor() as cursor,
        cursor.copy(f'COPY "{table_name}" ({column_list}) FROM STDIN') as copy,
    ):
        write = copy.write_row
        pairs = list(zip(columns, converters, strict=True))
        for row in rows:
            write([row[c] if f is None else f(row[c]) for c, f in pairs])


def insert_rows(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert rows (all with the same keys) into the model's table, in the caller's
    transaction."""
    if not rows:
        return
    table = _table(model)
    if session.get_bind().dialect.name == "postgresql":
        _copy(session, table.name, table, rows)
    else:
        session.connection().execute(insert(table), rows)


def insert_new_rows(
    session: Session,
    model: type[Base],
    rows: list[dict[str, Any]],
    conflict: Sequence[str],
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    """Insert rows, skipping those whose `conflict` columns already exist; returns the
    `returning` columns of the rows inserted (in no particular order)."""
    if not rows:
        return []
    table = _table(model)
    if session.get_bind().dialect.name != "postgresql":
        stmt = (
            insert_on_conflict(session, table)
            .on_conflict_do_nothing(index_elements=list(conflict))
            .returning(*(table.c[name] for name in returning))
        )
        return [tuple(r) for r in session.connection().execute(stmt, rows)]
    columns = list(rows[0])
    staging = f"incoming_{table.name}"
    column_list = ", ".join(f'"{c}"' for c in columns)
    connection = session.connection()
    connection.exec_driver_sql(
        f'CREATE TEMP TABLE IF NOT EXISTS "{staging}" ON COMMIT DROP AS '
        f'SELECT {column_list} FROM "{table.name}" WITH NO DATA'
    )
    connection.exec_driver_sql(f'TRUNCATE "{staging}"')
    _copy(session, staging, table, rows)
    result = connection.exec_driver_sql(
        f'INSERT INTO "{table.name}" ({column_list}) SELECT {column_list} FROM "{staging}" '
        f"ON CONFLICT ({', '.join(conflict)}) DO NOTHING "
        f"RETURNING {', '.join(returning)}"
    )
    return [tuple(r) for r in result]


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table
