"""Every CSV the dashboard exports is written here, so that every cell is made safe once.

Spreadsheets run a cell that starts with =, +, - or @ as a formula (tab and carriage return
can hide such a start), and workers type their own shift posts and notes: a leading quote
makes such a cell text (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_chunks(rows: Iterable[Sequence[object]], rows_per_chunk: int = 500) -> Iterator[str]:
    """A CSV that Excel opens with the Chinese intact (UTF-8 with a byte-order mark, CRLF), in
    pieces that a download streams."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    for n, row in enumerate(rows, 1):
        writer.writerow([safe_cell(cell) for cell in row])
        if n % rows_per_chunk == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def write_csv(rows: Iterable[Sequence[object]]) -> str:
    return "".join(csv_chunks(rows))
