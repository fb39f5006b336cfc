"""Settings come from the environment (or the CLI), are built once, and are passed in."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sync.constants import CLOCK_TOLERANCE_MS, DEFAULT_TIMEZONE

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = f"sqlite+aiosqlite:///{ROOT / 'data' / 'nuanxin.sqlite3'}"
MIN_SECRET = 32
# Values people paste from examples; a secret that contains one of these was not made up.
PLACEHOLDERS = ("changeme", "change-me", "change_me", "replace", "example", "placeholder", "secret",
                "password", "nuanxin", "default")
MAKE_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


class SettingsError(ValueError):
    """A setting that stops the server from starting; the CLI prints it as one line."""


def secret_problem(secret: str) -> str | None:
    """Why a production secret is too weak to sign sessions, or None. Anyone who guesses it can
    forge an administrator's session cookie."""
    lowered = secret.lower()
    if len(secret) < MIN_SECRET:
        return f"NUANXIN_SECRET must be at least {MIN_SECRET} characters"
    if any(word in lowered for word in PLACEHOLDERS) or len(set(secret)) < 8:
        return "NUANXIN_SECRET looks like a placeholder"
    return None


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
    # Proxies whose X-Forwarded-For is believed (addresses or networks); none by default, so a
    # client cannot choose the address its attempts are counted under.
    trusted_proxies: str = ""
    # "text" (a line a person reads) or "json" (one JSON object a line, for a log collector).
    log_format: str = "text"
    # Bearer token for /metrics; without one the endpoint does not exist (404).
    metrics_token: str | None = None
    # Urgent reports by SMS (docs/sms.md): off until both are set.
    sms_number: str = ""  # the township's number the phones text
    sms_gateway_token: str = ""  # what the SMS gateway sends as its bearer token

    @property
    def sms_enabled(self) -> bool:
        return bool(self.sms_number and self.sms_gateway_token)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @cached_property
    def proxies(self) -> tuple:
        from server.ratelimit import parse_proxies

        return parse_proxies(self.trusted_proxies)

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
        if "NUANXIN_TRUSTED_PROXIES" in env:
            values["trusted_proxies"] = env["NUANXIN_TRUSTED_PROXIES"]
        if "NUANXIN_TIMEZONE" in env:
            values["timezone"] = env["NUANXIN_TIMEZONE"]
        if "NUANXIN_LOG_FORMAT" in env:
            values["log_format"] = env["NUANXIN_LOG_FORMAT"]
        if env.get("NUANXIN_METRICS_TOKEN"):
            values["metrics_token"] = env["NUANXIN_METRICS_TOKEN"]
        if "NUANXIN_SMS_NUMBER" in env:
            values["sms_number"] = env["NUANXIN_SMS_NUMBER"].strip()
        if "NUANXIN_SMS_GATEWAY_TOKEN" in env:
            values["sms_gateway_token"] = env["NUANXIN_SMS_GATEWAY_TOKEN"].strip()
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.env not in ("development", "production"):
            raise SettingsError(f"NUANXIN_ENV must be development or production, not {settings.env!r}")
        try:
            settings.proxies
        except ValueError as err:
            raise SettingsError(f"NUANXIN_TRUSTED_PROXIES: {err}") from None
        if settings.log_format not in ("text", "json"):
            raise SettingsError(f"NUANXIN_LOG_FORMAT must be text or json, not {settings.log_format!r}")
        if settings.production and "NUANXIN_SECRET" not in env and "secret" not in overrides:
            raise SettingsError(f"production needs NUANXIN_SECRET; make one with `{MAKE_SECRET}`")
        problem = secret_problem(settings.secret) if settings.production else None
        if problem:
            raise SettingsError(f"{problem}; make one with `{MAKE_SECRET}`")
        if settings.sms_number and not re.fullmatch(r"\+?[0-9]{3,20}", settings.sms_number):
            raise SettingsError("NUANXIN_SMS_NUMBER must be a phone number: digits, an optional leading +")
        # Bearer tokens other programs send (the SMS gateway, Prometheus): guessable ones open
        # a way to forge reports or read the counters.
        for name, token in (("NUANXIN_SMS_GATEWAY_TOKEN", settings.sms_gateway_token),
                            ("NUANXIN_METRICS_TOKEN", settings.metrics_token)):
            if settings.production and token and len(token) < MIN_SECRET:
                raise SettingsError(f"{name} must be at least {MIN_SECRET} characters; make one with `{MAKE_SECRET}`")
        return settings
