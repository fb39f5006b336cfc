"""The `nuanxin` command: serve the app, issue enrolment codes, back up, restore, move databases.

Whatever stops a command (a setting, a database that does not answer, a migration that cannot
run, a port in use, a certificate that does not load) is a `Refusal`: one line on stderr that
says what to do, exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import socket
import ssl
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from server import db
from server.settings import Settings, SettingsError

CONNECT_TIMEOUT = 15  # seconds before "the database does not answer"


class Refusal(Exception):
    """Why a command will not go ahead, in one line a person can act on."""


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(database_url=getattr(args, "database_url", None), env=getattr(args, "env", None))


def _reason(err: BaseException) -> str:
    cause = getattr(err, "orig", None) or err
    first_line = (str(cause).strip().splitlines() or [""])[0]
    return f"{type(cause).__name__}: {first_line}" if first_line else type(cause).__name__


def shown_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def _reachable(engine: AsyncEngine, url: str) -> None:
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as err:  # noqa: BLE001 - any way of not answering is the same refusal
        raise Refusal(f"cannot reach the database {shown_url(url)} ({_reason(err)}); check "
                      "NUANXIN_DATABASE_URL or --database-url, and that the database server is running") from None


async def _reachable_and_migrated(engine: AsyncEngine, url: str) -> None:
    """The start-up checks every command shares: the database answers, then migrates."""
    await _reachable(engine, url)
    try:
        await db.migrate(engine)
    except Exception as err:  # noqa: BLE001
        raise Refusal(f"the database migrations cannot run on {shown_url(url)} ({_reason(err)}); a schema made by "
                      "a newer Nuanxin needs that version or a backup (docs/deployment.md, Upgrades)") from None


def _check_listening(host: str, port: int, tls_cert: str | None, tls_key: str | None) -> None:
    """Before the database is touched: the certificate loads and the port is free."""
    if bool(tls_cert) != bool(tls_key):
        raise Refusal("--tls-cert and --tls-key go together: give both, or neither")
    if tls_cert and tls_key:
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(tls_cert, tls_key)
        except (OSError, ssl.SSLError) as err:
            raise Refusal(f"cannot use the certificate {tls_cert} with the key {tls_key} ({_reason(err)}); "
                          "docs/deployment.md says how to make one") from None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise Refusal(f"cannot listen on {host}: {err.strerror}; give an address of this machine (--host, HOST=)") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind(address)
        except OSError as err:
            raise Refusal(f"cannot listen on {host}:{port} ({err.strerror}); stop what uses it, or choose "
                          "another port (--port, or PORT= with make run)") from None


async def _prepare(settings: Settings, demo: bool) -> list[str]:
    """Check and migrate the database; with `demo` (never in production), fill the living demo
    once and return the lines that say how to sign in."""
    from server.demo import demo_accounts, demo_codes, seed_living

    if demo and settings.production:  # `serve` refuses first; this is the last line of defence
        raise Refusal("--demo is for development only")
    engine = db.create_engine(settings.database_url)
    try:
        await _reachable_and_migrated(engine, settings.database_url)
        if not demo:
            return []
        async with db.session_maker(engine).begin() as session:
            await seed_living(session, settings.timezone, int(datetime.now(UTC).timestamp() * 1000))
            accounts = await demo_accounts(session)
            codes = await demo_codes(session)
        return [
            "  sign in at /township/login (passwords are new at every demo start):",
            *(f"    {role:<6} username {user:<6} password {password}" for role, user, password in accounts),
            "  a phone: open / in a phone-sized window and enter an enrolment code:",
            *(f"    {name}: {code}" for name, code in codes),
        ]
    finally:
        await engine.dispose()


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app
    from server.observability import uvicorn_log_config

    settings = _settings(args)
    if args.demo and settings.production:
        raise Refusal("--demo is for development only")
    if args.workers > 1 and make_url(settings.database_url).get_backend_name() == "sqlite":
        raise Refusal("--workers needs PostgreSQL: SQLite takes one writer at a time, and a second process"
                      " only adds lock contention (docs/operations.md)")
    _check_listening(args.host, args.port, args.tls_cert, args.tls_key)
    lines = asyncio.run(_prepare(settings, args.demo))
    scheme = "https" if args.tls_cert else "http"
    print(f"暖心 Nuanxin: {scheme}://{args.host}:{args.port}/  (township: /township/, "
          f"database: {shown_url(settings.database_url)})", flush=True)
    for line in lines:
        print(line, flush=True)
    # The app reads X-Forwarded-For itself, and only from NUANXIN_TRUSTED_PROXIES (ratelimit.py);
    # uvicorn's own default would believe it from any local peer. No `Server: uvicorn` either: it
    # tells an attacker what to look up.
    options = {"host": args.host, "port": args.port, "log_level": "info", "access_log": False,
               "log_config": uvicorn_log_config(settings), "ssl_certfile": args.tls_cert,
               "ssl_keyfile": args.tls_key, "proxy_headers": False, "server_header": False}
    if args.workers == 1:
        uvicorn.run(create_app(settings), **options)
        return 0
    # Each worker builds its app from the environment: hand it these settings, the secret too,
    # or a development worker would make up its own and refuse the others' cookies and forms.
    os.environ.update({"NUANXIN_DATABASE_URL": settings.database_url, "NUANXIN_ENV": settings.env,
                       "NUANXIN_SECRET": settings.secret, "NUANXIN_TIMEZONE": settings.timezone})
    uvicorn.run("server.app:create_app", factory=True, workers=args.workers, **options)
    return 0


async def _issue(settings: Settings, person_id: str) -> str:
    from server.models import Person
    from server.services.enrolment import issue_code

    engine = db.create_engine(settings.database_url)
    try:
        await _reachable_and_migrated(engine, settings.database_url)
        async with db.session_maker(engine).begin() as session:
            if await session.get(Person, person_id) is None:
                raise SystemExit(f"no person with id {person_id!r}")
            return await issue_code(session, person_id, datetime.now(UTC))
    finally:
        await engine.dispose()


def issue_code_cmd(args: argparse.Namespace) -> int:
    print(asyncio.run(_issue(_settings(args), args.person)))
    return 0


async def _add_account(settings: Settings, args: argparse.Namespace, password: str) -> None:
    from server.models import Person, Site
    from server.services.accounts import create_account
    from server.services.audit import Actor, record

    engine = db.create_engine(settings.database_url)
    try:
        await _reachable_and_migrated(engine, settings.database_url)
        async with db.session_maker(engine).begin() as session:
            person = await session.get(Person, args.person)
            if person is None:
                if args.site and await session.get(Site, args.site) is None:
                    raise SystemExit(f"no site with id {args.site!r}")
                person = Person(id=args.person, name=args.name or args.person, role=args.role,
                                site_id=args.site, township=args.township)
                session.add(person)
                await session.flush()
            await create_account(session, person.id, args.username, password, datetime.now(UTC))
            await record(session, "account.created", Actor("cli"), datetime.now(UTC), subject=person.id,
                         township=person.township, role=person.role, username=args.username)
    finally:
        await engine.dispose()


def add_account(args: argparse.Namespace) -> int:
    """Create a dashboard account. The first administrator is made this way, never by default."""
    from server.services.accounts import SignInError

    if sys.stdin.isatty():
        password = getpass.getpass("password (10+ characters, not a common one): ")
        if getpass.getpass("again: ") != password:
            print("the passwords differ", file=sys.stderr)
            return 2
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        asyncio.run(_add_account(_settings(args), args, password))
    except SignInError as err:
        print(err, file=sys.stderr)
        return 2
    print(f"account {args.username!r} created for {args.person} ({args.role})")
    return 0


async def _check_reachable(*urls: str) -> None:
    """A database server that does not answer is said as such, before any copying starts."""
    from server.transfer import async_url, sqlite_path

    for url in urls:
        if sqlite_path(async_url(url)) is not None:
            continue  # a file: the copy says if it is missing
        engine = db.create_engine(async_url(url))
        try:
            await _reachable(engine, url)
        finally:
            await engine.dispose()


def _transfer(work: Callable[[], Awaitable[dict[str, int]]], *urls: str) -> dict[str, int]:
    """Run a copy (server/transfer.py) after checking its databases answer."""
    from server.transfer import TransferError

    try:
        asyncio.run(_check_reachable(*urls))
        return asyncio.run(work())
    except TransferError as err:
        raise Refusal(str(err)) from None
    except Refusal:
        raise
    except Exception as err:  # noqa: BLE001 - a database that went away mid-copy, a full disk…
        raise Refusal(f"the copy stopped ({_reason(err)}); nothing was kept in the target") from None


def backup_cmd(args: argparse.Namespace) -> int:
    from server.transfer import backup, describe

    settings = _settings(args)
    counts = _transfer(lambda: backup(settings.database_url, Path(args.file)), settings.database_url)
    print(f"backed up {shown_url(settings.database_url)} to {args.file}: {describe(counts)}")
    return 0


def restore_cmd(args: argparse.Namespace) -> int:
    from server.transfer import describe, restore

    settings = _settings(args)
    counts = _transfer(lambda: restore(Path(args.file), settings.database_url), settings.database_url)
    print(f"restored {args.file} into {shown_url(settings.database_url)}: {describe(counts)}")
    return 0


def migrate_to_cmd(args: argparse.Namespace) -> int:
    from server.transfer import copy_database, describe

    settings = _settings(args)
    counts = _transfer(lambda: copy_database(settings.database_url, args.url), settings.database_url, args.url)
    print(f"copied {shown_url(settings.database_url)} to {shown_url(args.url)}: {describe(counts)}")
    print("now serve from the new database: NUANXIN_DATABASE_URL=<the new URL> nuanxin serve")
    return 0
def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="nuanxin", description="Nuanxin (暖心) sync server and township dashboard.")
    sub = top.add_subparsers(dest="command", required=True)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", help="SQLAlchemy URL (default: $NUANXIN_DATABASE_URL or ./data/nuanxin.sqlite3)")
    common.add_argument("--env", choices=["development", "production"], help="default: $NUANXIN_ENV or development")

    run = sub.add_parser("serve", parents=[common], help="run the server")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--demo", action="store_true", help="fill a demo township (once), print demo sign-ins and enrolment codes")
    run.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM); see docs/deployment.md")
    run.add_argument("--tls-key", help="the certificate's private key (PEM)")
    run.add_argument("--workers", type=_positive, default=1,
                     help="server processes (default 1; more need PostgreSQL, see docs/operations.md)")
    run.set_defaults(func=serve)

    code = sub.add_parser("issue-code", parents=[common], help="print a one-time enrolment code for a person")
    code.add_argument("person", help="the person's id")
    code.set_defaults(func=issue_code_cmd)
    account = sub.add_parser(
        "add-account", parents=[common],
        help="create a dashboard account (the password is read from the terminal or one line of stdin)",
    )
    account.add_argument("username")
    account.add_argument("--person", required=True, help="the person's id (created if new)")
    account.add_argument("--role", choices=["admin", "staff", "care", "lead"], default="admin")
    account.add_argument("--name", help="the person's name, for a new person")
    account.add_argument("--township", default="", help="the township, for a new person")
    account.add_argument("--site", help="the site, for a new site lead")
    account.set_defaults(func=add_account)

    save = sub.add_parser("backup", parents=[common], help="copy the running database into a new SQLite file")
    save.add_argument("file", help="the backup file to create (never overwritten)")
    save.set_defaults(func=backup_cmd)
    load = sub.add_parser("restore", parents=[common], help="put a backup into an empty database")
    load.add_argument("file", help="a file made by `nuanxin backup`")
    load.set_defaults(func=restore_cmd)
    move = sub.add_parser("migrate-to", parents=[common],
                          help="copy this deployment into an empty database (e.g. PostgreSQL) and check it")
    move.add_argument("url", help="the new database, e.g. postgresql://nuanxin@db.internal/nuanxin")
    move.set_defaults(func=migrate_to_cmd)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (Refusal, SettingsError) as refusal:  # one line a person can act on, not a traceback
        print(f"nuanxin: {refusal}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
