"""Days and months in the deployment's time zone (NUANXIN_TIMEZONE), never the device's. Pure;
the twin of pwa/js/days.js; both pass tests/vectors/days.json."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def day_of(ms: int, zone: str) -> str:
    """The calendar day ("YYYY-MM-DD") a moment falls on in `zone`."""
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d")


def month_of(ms: int, zone: str) -> str:
    """The month ("YYYY-MM") a moment falls in, in `zone`: a shift counts in the month it starts in."""
    return day_of(ms, zone)[:7]
