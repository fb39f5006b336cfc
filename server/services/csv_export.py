"""Every CSV the dashboard exports is written here, so that every cell is made safe once.

Spreadsheets run a cell that starts with =, +, - or @ as a formula (tab and carriage return
can hide such a start), and workers type their own shift posts and notes: a leading quote
makes such a cell text (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Chunks:
    """A CSV that Excel opens with the Chinese intact (UTF-8 with a byte-order mark, CRLF), in
    pieces that a download streams."""

    def __init__(self, rows_per_chunk: int) -> None:
        self.rows_per_chunk, self.rows = rows_per_chunk, 0
        self.out = io.StringIO()
        self.out.write("\ufeff")
        self.writer = csv.writer(self.out, lineterminator="\r\n")

    def add(self, row: Sequence[object]) -> str | None:
        """Write a row; a piece is ready every `rows_per_chunk` rows."""
        self.writer.writerow([safe_cell(cell) for cell in row])
        self.rows += 1
        return self.take() if self.rows % self.rows_per_chunk == 0 else None

    def take(self) -> str:
        piece = self.out.getvalue()
        self.out.seek(0)
        self.out.truncate()
        return piece


def csv_chunks(rows: Iterable[Sequence[object]], rows_per_chunk: int = 500) -> Iterator[str]:
    chunks = _Chunks(rows_per_chunk)
    for row in rows:
        if (piece := chunks.add(row)) is not None:
            yield piece
    yield chunks.take()


async def csv_stream(rows: AsyncIterable[Sequence[object]], rows_per_chunk: int = 500) -> AsyncIterator[str]:
    """`csv_chunks` of rows read from the database as they come: an export of a year starts at
    once and never holds all of it."""
    chunks = _Chunks(rows_per_chunk)
    async for row in rows:
        if (piece := chunks.add(row)) is not None:
            yield piece
    yield chunks.take()


def write_csv(rows: Iterable[Sequence[object]]) -> str:
    return "".join(csv_chunks(rows))
