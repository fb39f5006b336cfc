"""CSV exports neutralise formulas; the subsidy sheet refuses months it cannot compute."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from server.services.csv_export import FORMULA_STARTS, write_csv
from tests.support.world import HOUR, START, World, shift

SERVER = Path(__file__).resolve().parents[2] / "server"
PAYLOADS = ["=HYPERLINK(\"http://x\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"]


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))


def test_every_formula_start_is_neutralised() -> None:
    rows = _cells(write_csv([[p for p in PAYLOADS] + ["东门卡口", 8.5, -1]]))

    assert rows == [["'" + p for p in PAYLOADS] + ["东门卡口", "8.5", "-1"]]
    assert {p[0] for p in PAYLOADS} == set(FORMULA_STARTS)


def test_the_shifts_export_neutralises_what_workers_typed(world: World) -> None:
    phone = world.phone()
    for i, post in enumerate(PAYLOADS):
        phone.replica.put(f"e{i}", "shift", shift(phone.site, start=START + i, end=START + 8 * HOUR, post=post), START)
    phone.sync(START + 8 * HOUR)  # after the shifts ended: a time later than the phone's now is refused

    exported = world.client.get("/township/export/shifts.csv")

    posts = {row[2] for row in _cells(exported.text)[1:]}
    assert posts == {"'" + p for p in PAYLOADS}


def test_every_csv_writer_is_the_one_function() -> None:
    writers = [path.relative_to(SERVER).as_posix() for path in SERVER.rglob("*.py")
               if re.search(r"csv\.(writer|DictWriter)\(", path.read_text())]
    assert writers == ["services/csv_export.py"]


@pytest.mark.parametrize("month", ["0000-01", "9999-12", "1969-12", "3000-01", "2025-13", "2025-1", "x"])
def test_a_month_the_sheet_cannot_compute_is_a_400_naming_the_field(world: World, month: str) -> None:
    for path in ["/township/subsidy", "/township/subsidy.csv"]:
        answer = world.client.get(path, params={"month": month})

        assert answer.status_code == 400, path
        assert answer.json()["field"] == "month", path


def test_the_first_and_last_months_are_computed(world: World) -> None:
    for month in ["1970-01", "2999-12"]:
        assert world.client.get("/township/subsidy.csv", params={"month": month}).status_code == 200
