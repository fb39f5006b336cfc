"""Every CSV the dashboard exports is written here, so that every cell is made safe once.

Spreadsheets run a cell that starts with =, +, - or @ as a formula (tab and carriage return
can hide such a start), and workers type their own shift posts and notes: a leading quote
makes such a cell text (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(rows: Iterable[Sequence[object]]) -> str:
    """A CSV that Excel opens with the Chinese intact: UTF-8 with a byte-order mark, CRLF."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return out.getvalue()
