"""Bulk writes of many rows in one statement, past SQLAlchemy's per-row parameter machinery.

A push writes hundreds of rows at once (its change ids, its entries, their results). Through a
Core `insert()` or `update()` with a list of rows, SQLAlchemy builds a parameter dictionary per
row and runs it through its compiler, which cost more than the database's own work (issue 11,
docs/benchmarks.md). Here each table's statement is built once per dialect, each value goes
through the column type's own bind processor (so it is stored exactly as SQLAlchemy would store
it), and the rows go to the driver's `executemany` as tuples, in the caller's transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Dialect, Table
from sqlalchemy.ext.asyncio import AsyncConnection

Processor = Callable[[Any], Any] | None


async def insert(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT every row (each with the same keys)."""
    if rows:
        names = tuple(rows[0])
        sql, processors = _insert(conn.dialect, table, names)
        await conn.exec_driver_sql(sql, _values(rows, names, processors))


async def update(conn: AsyncConnection, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> None:
    """UPDATE each row's columns where the column `key` equals its `key` (each with the same keys)."""
    if rows:
        names = (*(name for name in rows[0] if name != key), key)
        sql, processors = _update(conn.dialect, table, names)
        await conn.exec_driver_sql(sql, _values(rows, names, processors))


def _values(rows: Sequence[dict[str, Any]], names: tuple[str, ...], processors: list[Processor]) -> list[tuple]:
    pairs = list(zip(names, processors))
    return [tuple(value if do is None or value is None else do(value)
                  for name, do in pairs for value in (row[name],)) for row in rows]


@functools.lru_cache(maxsize=64)  # per dialect (an engine's own JSON codec): a few
def _insert(dialect: Dialect, table: Table, names: tuple[str, ...]) -> tuple[str, list[Processor]]:
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    marks = ", ".join(_mark(dialect, n) for n in range(1, len(names) + 1))
    return f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({marks})", _processors(dialect, table, names)


@functools.lru_cache(maxsize=64)
def _update(dialect: Dialect, table: Table, names: tuple[str, ...]) -> tuple[str, list[Processor]]:
    quote = dialect.identifier_preparer.quote
    *columns, key = names
    sets = ", ".join(f"{quote(name)} = {_mark(dialect, n)}" for n, name in enumerate(columns, start=1))
    sql = f"UPDATE {quote(table.name)} SET {sets} WHERE {quote(key)} = {_mark(dialect, len(names))}"
    return sql, _processors(dialect, table, names)


def _processors(dialect: Dialect, table: Table, names: tuple[str, ...]) -> list[Processor]:
    return [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]


def _mark(dialect: Dialect, n: int) -> str:
    """The driver's placeholder for the n-th value (a statement sent as it is, not compiled)."""
    style = dialect.paramstyle
    if style == "qmark":
        return "?"
    if style == "numeric_dollar":
        return f"${n}"
    if style == "format":
        return "%s"
    raise NotImplementedError(f"no bulk writes for the {style} paramstyle")
