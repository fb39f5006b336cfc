"""`nuanxin backup` of a live server under writes, `nuanxin restore` into a fresh database: every
entry, change, conflict, device and account is found again (issue 12, item 5)."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from server.demo import seed
from tests.support.aio import run
from tests.support.databases import postgres_database, sqlite_url
from tests.support.every_row import fill, new_phone, read_all
from tests.support.server_process import ServerProcess, nuanxin
from tests.support.world import HOUR, START, in_session, shift

WAIT = 120  # seconds: only a hung server gets near this


class Writer(threading.Thread):
    """A phone that keeps pushing a new shift per sync until told to stop."""

    def __init__(self, database_url: str, server_url: str) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=server_url, timeout=60)
        self.phone = new_phone(database_url, self.client, "zhangwei")
        self.acknowledged: list[str] = []
        self.progress = threading.Condition()
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                entry = f"w-{len(self.acknowledged):04d}"
                self.phone.replica.put(entry, "shift", shift(self.phone.site, START + len(self.acknowledged) * HOUR), START)
                self.phone.sync(self.client)
                with self.progress:
                    self.acknowledged.append(entry)
                    self.progress.notify_all()
        except BaseException as err:  # noqa: BLE001 - reported by the test
            self.error = err
            with self.progress:
                self.progress.notify_all()

    def wait_for(self, count: int) -> None:
        with self.progress:
            assert self.progress.wait_for(lambda: len(self.acknowledged) >= count or self.error, WAIT)
        assert self.error is None, self.error


@contextmanager
def fresh_database(kind: str, directory: Path) -> Iterator[str]:
    if kind == "sqlite":
        directory.mkdir()
        yield sqlite_url(directory)
    else:
        with postgres_database() as url:
            yield url


def test_a_backup_of_a_live_server_restores_every_row(database_url: str, tmp_path: Path) -> None:
    server = ServerProcess(database_url, tmp_path / "server.log", demo=False).start()
    backup_file = tmp_path / "backups" / "nuanxin-backup.sqlite3"
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            zhang, lina = fill(database_url, client)
        before = read_all(database_url)
        writer = Writer(database_url, server.url)
        writer.start()
        try:
            writer.wait_for(3)
            acknowledged = list(writer.acknowledged)
            made = nuanxin("backup", str(backup_file), "--database-url", database_url)
            writer.wait_for(len(writer.acknowledged) + 2)  # the server kept taking writes
        finally:
            writer.stopping.set()
            writer.join(WAIT)
        assert made.returncode == 0, made.stderr
        assert "entries" in made.stdout
    finally:
        server.stop()
    assert "Traceback" not in server.log()

    kind = "sqlite" if database_url.startswith("sqlite") else "postgres"
    with fresh_database(kind, tmp_path / "restored") as target:
        restored_run = nuanxin("restore", str(backup_file), "--database-url", target)
        assert restored_run.returncode == 0, restored_run.stderr
        restored = read_all(target)

        for table, rows in before.items():
            if table in ("sync_counter", "rate_counters"):  # counters the live writes move on
                continue
            missing = [row for row in rows if row not in restored[table]]
            assert missing == [], f"{table}: rows lost or changed by the backup"
        entries = {row["id"] for row in restored["entries"]}
        assert set(acknowledged) <= entries
        # A consistent moment: every change's entry is there, and no entry is beyond the cursor.
        assert {row["entry_id"] for row in restored["changes"]} <= entries
        assert max(row["seq"] for row in restored["entries"]) <= restored["sync_counter"][0]["value"]

        again = ServerProcess(target, tmp_path / "restored.log", demo=False).start()
        try:
            with httpx.Client(base_url=again.url, timeout=60) as client:
                held = dict(lina.replica.entries)
                lina.sync(client, START + 20_000)  # her token and cursor still hold
                assert lina.replica.entries.keys() == held.keys()
        finally:
            again.stop()


def test_backup_and_restore_never_overwrite(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    run(in_session(url, seed, migrate=True))
    (tmp_path / "server.log").write_text("not a database\n")
    backup_file = tmp_path / "backup.sqlite3"
    assert nuanxin("backup", str(backup_file), "--database-url", url).returncode == 0

    twice = nuanxin("backup", str(backup_file), "--database-url", url)
    onto_data = nuanxin("restore", str(backup_file), "--database-url", url)
    not_a_backup = nuanxin("restore", str(tmp_path / "server.log"), "--database-url", sqlite_url(tmp_path / "x"))

    for refused, says in ((twice, "exists"), (onto_data, "already holds data"), (not_a_backup, "not a Nuanxin backup")):
        assert refused.returncode == 2, refused
        assert says in refused.stderr and refused.stderr.count("\n") == 1, refused.stderr


@pytest.mark.parametrize("command", ["backup", "restore", "migrate-to"])
def test_an_unreachable_database_is_one_line(command: str, tmp_path: Path) -> None:
    down = "postgresql://nuanxin@127.0.0.1:1/nuanxin"
    args = {"backup": [str(tmp_path / "b.sqlite3"), "--database-url", down],
            "restore": [str(tmp_path / "b.sqlite3"), "--database-url", down],
            "migrate-to": [down, "--database-url", sqlite_url(tmp_path)]}[command]
    run(in_session(sqlite_url(tmp_path), seed, migrate=True))
    if command == "restore":
        assert nuanxin("backup", args[0], "--database-url", sqlite_url(tmp_path)).returncode == 0
    refused = nuanxin(command, *args)
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert "cannot reach the database postgresql://nuanxin@127.0.0.1:1/nuanxin" in refused.stderr
