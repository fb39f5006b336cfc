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


def month_bounds(month: str, zone: str) -> tuple[int, int]:
    """The first millisecond of `month` ("YYYY-MM") in `zone` and the first after it: a moment is
    in the month exactly when `month_of` says so (tests/sync/test_days.py checks the edges)."""
    year, number = int(month[:4]), int(month[5:7])
    first = datetime(year, number, 1, tzinfo=ZoneInfo(zone))
    after = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=ZoneInfo(zone))
    return int(first.timestamp() * 1000), int(after.timestamp() * 1000)
