"""The burst: many phones syncing at once against a real server process (issue 11, items 1, 5).

    .venv/bin/python -m bench.burst [--phones 1000] [--entries 20] [--at-once 50]
                                    [--databases sqlite postgres] [--workers 1 2] [--normal]

Each phone is a person of its own, twenty to a site, enrolled in the database first; it sends
one push of `--entries` shifts begun in the last hours, with an empty cursor. At most `--at-once` requests are in flight. Prints, per database and worker count, syncs/s,
p50 and p99 latency and the count of 5xx answers. `--normal` adds a run on SQLite with
`synchronous=NORMAL`, to weigh what FULL costs. Never part of the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec

from bench.sync_cost import FOLD
from tests.support.aio import run
from tests.support.burst import batches, burst, enrol_phones
from tests.support.world import HOUR
from tests.support.databases import postgres_available, postgres_database, sqlite_url
from tests.support.server_process import ServerProcess


class NormalSyncServer(ServerProcess):
    """The same server with SQLite's `synchronous=NORMAL`, for the comparison only."""

    def command(self) -> list[str]:
        return [sys.executable, "-m", "bench.burst", "--serve-normal", *super().command()[3:]]


def serve_normal(argv: list[str]) -> int:
    from sqlalchemy import event

    from server import cli, db

    create = db.create_engine

    def create_normal(url: str):  # noqa: ANN202
        engine = create(url)

        @event.listens_for(engine.sync_engine, "connect")
        def _normal(dbapi_conn, _record) -> None:  # noqa: ANN001 - runs after db's own pragmas
            dbapi_conn.execute("PRAGMA synchronous=NORMAL")

        return engine

    db.create_engine = create_normal
    return cli.main(argv)


@contextlib.contextmanager
def database(kind: str, directory: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield sqlite_url(directory)
    else:
        with postgres_database() as url:
            yield url


@dataclass
class Burst:
    database: str
    workers: int
    syncs_per_second: float
    p50: float
    p99: float
    server_errors: int  # 5xx
    other: int  # other answers than 200
    refused: bool = False  # two processes on SQLite: the server refuses to start

    def row(self) -> str:
        if self.refused:
            return f"| {self.database} | {self.workers} | refused: `--workers` needs PostgreSQL | | | | |"
        return (f"| {self.database} | {self.workers} | {self.syncs_per_second:.1f} | {self.p50:.2f} s "
                f"| {self.p99:.2f} s | {self.server_errors} | {self.other} |")


def folded(body: bytes) -> bytes:
    """The body with `fold: true`, where the protocol has the field (bench.sync_cost.FOLD)."""
    return msgspec.json.encode({**msgspec.json.decode(body), "fold": True}) if FOLD else body


def measure(kind: str, workers: int, phones: int, entries: int, at_once: int, normal: bool = False) -> Burst:
    name = f"{kind}{' (synchronous=NORMAL)' if normal else ''}"
    if kind == "sqlite" and workers > 1:
        return Burst(name, workers, 0, 0, 0, 0, 0, refused=True)
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as url:
        server_class = NormalSyncServer if normal else ServerProcess
        server = server_class(url, Path(tmp) / "server.log", workers=workers).start()
        try:
            enrolled = enrol_phones(url, phones, people=True)
            start = time.time_ns() // 1_000_000 - entries * HOUR  # open shifts of the last hours
            work = [(phone, folded(body)) for phone in enrolled for body in batches(phone, 1, entries, start=start)]
            started = time.perf_counter()
            outcomes = run(burst(server.url, work, at_once))
            elapsed = time.perf_counter() - started
        finally:
            server.stop()
        if any(o.status >= 500 for o in outcomes):  # say why while the log still exists
            errors = [line for line in server.log().splitlines() if "Error" in line or "error" in line]
            print(f"{name}, {workers} process(es): 5xx answers; the server log says:", *errors[-10:],
                  sep="\n  ", file=sys.stderr)
    latencies = sorted(o.seconds for o in outcomes)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    errors = sum(o.status >= 500 for o in outcomes)
    other = sum(o.status != 200 for o in outcomes) - errors
    return Burst(name, workers, len(outcomes) / elapsed, statistics.median(latencies), p99, errors, other)


def main() -> None:
    if sys.argv[1:2] == ["--serve-normal"]:
        sys.exit(serve_normal(sys.argv[2:]))
    parser = argparse.ArgumentParser(prog="bench.burst", description=__doc__.split("\n\n")[0])
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=20, help="new shifts per phone, one push")
    parser.add_argument("--at-once", type=int, default=50)
    parser.add_argument("--databases", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--normal", action="store_true", help="also SQLite with synchronous=NORMAL, 1 worker")
    args = parser.parse_args()
    if "postgres" in args.databases and not postgres_available():
        print("PostgreSQL is not reachable: measuring SQLite only", file=sys.stderr)
        args.databases = [d for d in args.databases if d != "postgres"]
    print(f"{args.phones} phones × {args.entries} entries, {args.at_once} at a time\n")
    print("| database | workers | syncs/s | p50 | p99 | 5xx | other non-200 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kind in args.databases:
        for workers in args.workers:
            print(measure(kind, workers, args.phones, args.entries, args.at_once).row(), flush=True)
    if args.normal and "sqlite" in args.databases:
        print(measure("sqlite", 1, args.phones, args.entries, args.at_once, normal=True).row(), flush=True)


if __name__ == "__main__":
    main()
