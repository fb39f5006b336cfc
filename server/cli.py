"""The `nuanxin` command: serve the app, issue enrolment codes."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from datetime import UTC, datetime

from sqlalchemy.engine import make_url

from server import db
from server.settings import Settings, SettingsError


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(database_url=getattr(args, "database_url", None), env=getattr(args, "env", None))


async def _prepare(settings: Settings, demo: bool) -> list[tuple[str, str]]:
    from server.demo import demo_codes, seed

    engine = db.create_engine(settings.database_url)
    try:
        await db.migrate(engine)
        if not demo:
            return []
        async with db.session_maker(engine).begin() as session:
            await seed(session)
            return await demo_codes(session)
    finally:
        await engine.dispose()


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app

    settings = _settings(args)
    if args.demo and settings.production:
        print("--demo is for development only", file=sys.stderr)
        return 2
    if args.workers > 1 and make_url(settings.database_url).get_backend_name() == "sqlite":
        print("--workers needs PostgreSQL: SQLite takes one writer at a time, and a second process"
              " only adds lock contention (docs/operations.md)", file=sys.stderr)
        return 2
    codes = asyncio.run(_prepare(settings, args.demo))
    print(f"暖心 Nuanxin: http://{args.host}:{args.port}/  (township: /township/, database: {settings.database_url})")
    for name, code in codes:
        print(f"  enrolment code for {name}: {code}")
    # No `Server: uvicorn`: it tells an attacker what to look up.
    options = {"host": args.host, "port": args.port, "log_level": "info", "server_header": False}
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
        await db.migrate(engine)
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

    engine = db.create_engine(settings.database_url)
    try:
        await db.migrate(engine)
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
    run.add_argument("--demo", action="store_true", help="add demo sites and people, print enrolment codes")
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
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except SettingsError as err:  # one line a person can act on, not a traceback
        print(f"nuanxin: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
