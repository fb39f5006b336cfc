"""Settings come from the environment (or the CLI), are built once, and are passed in."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sync.constants import CLOCK_TOLERANCE_MS, DEFAULT_TIMEZONE

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = f"sqlite+aiosqlite:///{ROOT / 'data' / 'nuanxin.sqlite3'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DB
    # "development" opens the township pages without sign-in (marked on every page);
    # "production" never does.
    env: str = "development"
    timezone: str = DEFAULT_TIMEZONE
    clock_tolerance_ms: int = CLOCK_TOLERANCE_MS
    pwa_dir: Path = field(default=ROOT / "pwa")
    debug: bool = False
    # Signs CSRF tokens (and, later, sessions). Production must set NUANXIN_SECRET; a
    # development process makes up its own.
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def dev_access(self) -> bool:
        return not self.production

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if "NUANXIN_DATABASE_URL" in env:
            values["database_url"] = env["NUANXIN_DATABASE_URL"]
        if "NUANXIN_ENV" in env:
            values["env"] = env["NUANXIN_ENV"]
        if "NUANXIN_SECRET" in env:
            values["secret"] = env["NUANXIN_SECRET"]
        if "NUANXIN_TIMEZONE" in env:
            values["timezone"] = env["NUANXIN_TIMEZONE"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.env not in ("development", "production"):
            raise ValueError(f"NUANXIN_ENV must be development or production, not {settings.env!r}")
        if settings.production and "NUANXIN_SECRET" not in env and "secret" not in overrides:
            raise ValueError("production needs NUANXIN_SECRET (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)")
        return settings
