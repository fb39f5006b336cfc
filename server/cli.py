"""The `nuanxin` command: serve the app, issue enrolment codes."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime

from server import db
from server.settings import Settings


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
    codes = asyncio.run(_prepare(settings, args.demo))
    print(f"暖心 Nuanxin: http://{args.host}:{args.port}/  (township: /township/, database: {settings.database_url})")
    for name, code in codes:
        print(f"  enrolment code for {name}: {code}")
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
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
    run.set_defaults(func=serve)

    code = sub.add_parser("issue-code", parents=[common], help="print a one-time enrolment code for a person")
    code.add_argument("person", help="the person's id")
    code.set_defaults(func=issue_code_cmd)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
