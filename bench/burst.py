"""The burst: many phones syncing at once against a real server process (issue 11, items 1, 5).

    .venv/bin/python -m bench.burst [--phones 1000] [--entries 20] [--at-once 50]
                                    [--databases sqlite postgres] [--workers 1 2] [--normal]

Each phone is enrolled in the database first, then sends one push of `--entries` new shifts;
at most `--at-once` requests are in flight. Prints, per database and worker count, syncs/s,
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
from pathlib import Path

from tests.support.aio import run
from tests.support.burst import batches, burst, enrol_phones
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


def measure(kind: str, workers: int, args: argparse.Namespace, normal: bool = False) -> str:
    if kind == "sqlite" and workers > 1:
        return f"| sqlite | {workers} | refused: `--workers` needs PostgreSQL | | | | |"
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as url:
        server_class = NormalSyncServer if normal else ServerProcess
        server = server_class(url, Path(tmp) / "server.log", workers=workers).start()
        try:
            phones = enrol_phones(url, args.phones)
            work = [(phone, body) for phone in phones for body in batches(phone, 1, args.entries)]
            started = time.perf_counter()
            outcomes = run(burst(server.url, work, args.at_once))
            elapsed = time.perf_counter() - started
        finally:
            server.stop()
    latencies = sorted(o.seconds for o in outcomes)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    errors = sum(o.status >= 500 for o in outcomes)
    other = sum(o.status != 200 and o.status < 500 for o in outcomes)
    name = f"{kind}{' (synchronous=NORMAL)' if normal else ''}"
    return (f"| {name} | {workers} | {len(outcomes) / elapsed:.1f} | {statistics.median(latencies):.2f} s "
            f"| {p99:.2f} s | {errors} | {other} |")


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
            print(measure(kind, workers, args), flush=True)
    if args.normal and "sqlite" in args.databases:
        print(measure("sqlite", 1, args, normal=True), flush=True)


if __name__ == "__main__":
    main()
