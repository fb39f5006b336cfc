"""The budget table (issue 11, item 7): every figure, its budget, the ratio and pass or fail.

    .venv/bin/python -m bench.run [--quick] [--parts sync burst county] [--out FILE] [--timeout 30]
                                                                        (make bench)

`--quick` (or BENCH_QUICK=1) runs a smaller workload in a few minutes: its figures are not the
budget's and say so. `--parts` runs only some of the three parts. `--out` also writes the
machine and the table as Markdown, for docs/benchmarks.md. The ratio is figure ÷ budget for a
ceiling and budget ÷ figure for a floor, so 1.00 or less passes either way. The tests never
time anything.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import burst, county_fill, pwa_size, roster_import, sync_cost
from tests.support.databases import PG_ADMIN_DSN, postgres_available, postgres_database, sqlite_url

KIB = 1024


@dataclass(frozen=True)
class Size:
    """How big each part of a run is."""

    phones: int = 50
    entries: int = 200
    pulls: tuple[int, int] = (10_000, 50_000)
    burst_phones: int = 1000
    county_entries: int = 1_000_000
    county_workers: int = 5000


FULL = Size()
QUICK = Size(10, 50, (2_000, 5_000), 100, 50_000, 500)


@dataclass
class Row:
    figure_name: str
    budget_text: str
    value: float | None  # None: not measured (say why in `shown`)
    budget: float
    ceiling: bool  # True: the figure must stay at or under the budget
    shown: str
    strict: bool = False  # a ceiling the figure must stay under (not reach)
    also: bool = True  # another condition of the row (no errors, paged) holds
    lower_bound: bool = False  # the figure is at least `value` (no answer before the timeout)

    @property
    def ratio(self) -> float | None:
        if self.value is None:
            return None
        if self.budget == 0:
            return 0.0 if self.value == 0 else float("inf")
        if self.ceiling:
            return self.value / self.budget
        return self.budget / self.value if self.value else float("inf")

    @property
    def passed(self) -> bool:
        if self.value is None or not self.also:
            return False
        if self.ceiling:
            return self.value < self.budget if self.strict else self.value <= self.budget
        return self.value >= self.budget


def table(rows: list[Row]) -> str:
    lines = ["| figure | measured | budget | ratio | |", "| --- | ---: | --- | ---: | --- |"]
    for r in rows:
        ratio = "–" if r.ratio is None else f"{'> ' if r.lower_bound else ''}{r.ratio:.2f}"
        verdict = "pass" if r.passed else "FAIL"
        lines.append(f"| {r.figure_name} | {r.shown} | {r.budget_text} | {ratio} | {verdict} |")
    return "\n".join(lines)


# -- the machine -------------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        return f"{kb / 1024 / 1024:.0f} GB"
    except (OSError, ValueError, IndexError):
        return "unknown"


def _postgres_version() -> str:
    if not postgres_available():
        return "not reachable"
    import asyncpg

    from tests.support.aio import run

    async def ask() -> str:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
        try:
            return await conn.fetchval("SHOW server_version")
        finally:
            await conn.close()

    return run(ask())


def _git() -> str:
    import subprocess

    out = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
                         check=False, cwd=Path(__file__).parents[1])
    return out.stdout.strip() or "unknown"


def machine() -> dict[str, str]:
    load = os.getloadavg()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _git(),
        "cores": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "memory": _memory(),
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _postgres_version(),
        "load average at start": f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}",
        "fold (push without echoes)": str(sync_cost.FOLD),
    }


# -- the rows ---------------------------------------------------------------------------------------


def sync_rows(size: Size) -> tuple[list[Row], int]:
    """Rows from the phone workload, and the 5xx seen in its SQLite ingest."""
    f = sync_cost.measure(size.phones, size.entries, size.pulls)
    p, i = f.push, f.ingest
    small, big = (f.pulls[n] for n in size.pulls)
    cpu = p.cpu * 1000 / p.entries
    rate = i.entries / i.seconds
    # Requests over the fewest that pages of at most 256 KiB of answer allow: the last page of a
    # pull is rarely full, so requests ÷ (KiB ÷ 256) is over 1 whatever the pages are.
    fewest = -(-small.decoded // (256 * KIB))
    per_256k = small.requests / fewest
    speed = big.entries / big.seconds
    workload = f"{size.phones} phones × {size.entries}"
    return [
        Row("server CPU per pushed entry", "≤ 0.1 ms", cpu, 0.1, True,
            f"{cpu:.3f} ms ({workload}, one at a time, {p.rejected} rejected)", also=p.rejected == 0),
        Row("ingest, 10 phones at a time, SQLite, durable", "≥ 10,000 entries/s", rate, 10_000, False,
            f"{rate:,.0f} entries/s ({i.entries:,} entries, {i.server_errors} 5xx, {i.rejected} rejected)",
            also=i.server_errors == 0 and i.rejected == 0),
        Row("push bytes per entry, up + down", "≤ 49", (p.up + p.down) / p.entries, 49, True,
            f"{(p.up + p.down) / p.entries:.1f} B ({p.up / p.entries:.1f} up, "
            f"{p.down / p.entries:.1f} down)"),
        Row("full pull bytes per entry", "≤ 42", (small.up + small.down) / small.entries, 42, True,
            f"{(small.up + small.down) / small.entries:.1f} B (pull of {small.entries:,}, gzip)"),
        Row(f"requests for a fresh phone's full pull of {size.pulls[0]:,}", "≤ 1 per 256 KB of answer",
            per_256k, 1, True,
            f"{small.requests} requests, the fewest {fewest} ({small.decoded / KIB:,.0f} KiB unzipped, "
            f"{small.down / KIB:,.0f} KiB sent)"),
        Row("round trips to push 500 changes", "1", f.trips_500, 1, True, str(f.trips_500)),
        Row(f"a new phone's pull of {size.pulls[1]:,} entries", "≥ 50,000 entries/s", speed, 50_000, False,
            f"{speed:,.0f} entries/s ({big.requests} requests, {big.seconds:.2f} s)"),
    ], i.server_errors


def burst_rows(size: Size, postgres: bool) -> tuple[list[Row], int]:
    """The burst on PostgreSQL with two processes and on SQLite; and SQLite's 5xx."""
    rows, sqlite_errors = [], 0
    runs = ([("postgres", 2)] if postgres else []) + [("sqlite", 1)]
    label = f"{size.burst_phones:,} phones × 20 entries, 50 at a time, p99"
    for kind, workers in runs:
        b = burst.measure(kind, workers, size.burst_phones, 20, 50)
        name = "PostgreSQL, 2 processes" if kind == "postgres" else "SQLite"
        if kind == "sqlite":
            sqlite_errors = b.server_errors
        rows.append(Row(f"{label} ({name})",
                        "< 1 s, no errors", b.p99, 1, True,
                        f"{b.p99:.2f} s ({b.syncs_per_second:.1f} syncs/s, {b.server_errors} 5xx, "
                        f"{b.other} other)",
                        strict=True, also=b.server_errors == 0 and b.other == 0))
    if not postgres:
        rows.insert(0, Row(f"{label} (PostgreSQL, 2 processes)", "< 1 s, no errors", None, 1, True,
                           "PostgreSQL not reachable", strict=True))
    return rows, sqlite_errors


PAGES = {  # name in county_fill.pages: (row, budget text, what is timed)
    "subsidy": ("subsidy sheet, {n} entries ({db})", "< 200 ms", "total"),
    "shifts_csv": ("shifts CSV, {n} entries ({db})", "streams, first byte < 200 ms", "first_byte"),
    "supplies": ("supplies page, {n} entries ({db})", "< 200 ms, paged", "total"),
    "people": ("people page, {people} people ({db})", "< 200 ms, paged", "total"),
}


def county_rows(size: Size, postgres: bool, timeout: float) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        url = stack.enter_context(postgres_database()) if postgres else sqlite_url(Path(tmp))
        timings, filled = county_fill.measure(url, size.county_entries, size.county_workers, timeout,
                                              Path(tmp) / "server.log")
    db = "PostgreSQL" if postgres else "SQLite"
    people = size.county_workers + 2 * 20
    print(f"(county filled in {filled:.0f} s)", flush=True)
    rows = []
    for name, (label, budget_text, timed) in PAGES.items():
        t = timings[name]
        value = getattr(t, timed)
        detail = f"{t.size / KIB:,.0f} KiB sent, HTTP {t.status}"
        if t.status is None:
            shown = f"> {timeout:.0f} s (no answer)"
        elif timed == "first_byte":
            shown = f"{value * 1000:,.0f} ms to the first byte (whole {t.total:.1f} s, {detail})"
        else:
            shown = f"{value * 1000:,.0f} ms ({detail})"
        rows.append(Row(label.format(n=f"{size.county_entries:,}", people=f"{people:,}", db=db), budget_text,
                        value * 1000, 200, True, shown, strict=True, also=t.status == 200,
                        lower_bound=t.status is None))
    return rows


PARTS = ("sync", "burst", "county")


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1",
                        help="a smaller workload (also BENCH_QUICK=1)")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS),
                        help="run only these: sync (the phone workload), burst, county (the dashboard)")
    parser.add_argument("--out", type=Path, help="also write the machine and the table here, as Markdown")
    parser.add_argument("--timeout", type=float, default=30, help="seconds before a dashboard page fails")
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    began = time.perf_counter()
    about = machine()
    print("== the machine ==")
    print("\n".join(f"{k}: {v}" for k, v in about.items()), flush=True)
    print("\n== phone app size ==")
    pwa_size.main()
    print("\n== roster import ==")
    roster_import.main()
    postgres = postgres_available()

    rows: dict[str, list[Row]] = {part: [] for part in PARTS}
    errors: dict[str, int] = {}

    def sync_step() -> None:
        rows["sync"], errors["ingest"] = sync_rows(size)

    def burst_step() -> None:
        rows["burst"], errors["burst"] = burst_rows(size, postgres)

    def county_step() -> None:
        rows["county"] = county_rows(size, postgres, args.timeout)

    steps: dict[str, tuple[str, Callable[[], None]]] = {
        "sync": ("phone workload (push, ingest, pulls)", sync_step),
        "burst": ("the burst", burst_step),
        "county": ("a county-year and the dashboard", county_step),
    }
    for part in args.parts:
        title, step = steps[part]
        started = time.perf_counter()
        print(f"\n== {title} ==", flush=True)
        step()
        print(f"({time.perf_counter() - started:.0f} s)", flush=True)

    sync = rows["sync"] or [None] * 7
    ordered = [*sync[:2], *rows["burst"], *sync[2:6], *rows["county"], sync[6]]
    if {"sync", "burst"} <= set(args.parts):
        fivexx = errors["ingest"] + errors["burst"]
        ordered.append(Row("HTTP 500 under load on SQLite", "0", fivexx, 0, True,
                           f"{fivexx} (ingest and burst)"))
    ordered = [r for r in ordered if r is not None]
    load = os.getloadavg()
    about["load average at end"] = f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    took = time.perf_counter() - began
    command = " ".join(["python -m bench.run", *(["--quick"] if args.quick else []),
                        *(["--parts", *args.parts] if len(args.parts) < len(PARTS) else [])])
    heading = (f"`{command}`, {took / 60:.1f} min"
               + (" (quick: a smaller workload than the budget's)" if args.quick else ""))
    text = table(ordered)
    print(f"\n== the budget table ==\n{heading}\n\n{text}")
    print(f"\n{sum(r.passed for r in ordered)} of {len(ordered)} pass")
    if args.out:
        machine_lines = "\n".join(f"- {k}: {v}" for k, v in about.items())
        args.out.write_text(f"{heading}\n\n{machine_lines}\n\n{text}\n")


if __name__ == "__main__":
    main()
