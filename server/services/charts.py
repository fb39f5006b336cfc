"""Pictures for people who would rather look than read: SVG drawn on the server, no charting
framework, no script. Every chart carries a <title> and a <desc> with its figures in words for
screen readers; every text is escaped. Colours are classes (dashboard.css, `.chart`) with
presentation attributes as the fallback, so the page's CSP (style-src 'self') holds: no style
attributes.

The figures come from the services the pages use; `series_*` below only arrange them by day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Entry, Site
from server.policy import Principal, require, visible_sites
from server.services.daily import day_bounds
from server.services.supplies import SiteSupplies
from server.services.today import millis, shifts_of
from sync.days import day_of

PALETTE = 6  # series colours: .s0 ... .s5 in dashboard.css
FILLS = ("#b4381f", "#1a5fb4", "#26a269", "#c64600", "#613583", "#5b5b66")
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 260, 40, 40, 16


@dataclass
class Series:
    name: str
    values: list[float | None]


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg(title: str, desc: str, body: list[str], height: int = HEIGHT) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label={quoteattr(title)}><title>{escape(title)}</title><desc>{escape(desc)}</desc>'
        + "".join(body) + "</svg>")


def _legend(series: Sequence[Series], y: int) -> tuple[list[str], int]:
    """A key of the series' colours from `y` down, wrapped to the width; returns the parts and
    the height it adds below `y`."""
    parts, x, extra = [], LEFT, 0
    for n, s in enumerate(series):
        width = 24 + 13 * len(s.name)
        if x > LEFT and x + width > WIDTH - 10:
            x, extra = LEFT, extra + 16
        parts.append(f'<rect class="s{n % PALETTE}" fill="{FILLS[n % PALETTE]}" x="{x}" y="{y + extra - 10}" '
                     f'width="10" height="10"/><text class="legend" x="{x + 14}" y="{y + extra}" font-size="12">'
                     f"{escape(s.name)}</text>")
        x += width
    return parts, extra


def _axis(labels: Sequence[str], top: float, height: int) -> tuple[list[str], float]:
    """The frame, y ticks (0 and the top) and every other x label; returns the parts and the
    width of one slot."""
    plot_h = height - BOTTOM - TOP - 20
    slot = (WIDTH - LEFT - 10) / max(1, len(labels))
    parts = [f'<line class="axis" stroke="#5b5b66" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - 10}" y2="{TOP + plot_h}"/>',
             f'<text class="tick" x="{LEFT - 4}" y="{TOP + plot_h}" font-size="11" text-anchor="end">0</text>',
             f'<text class="tick" x="{LEFT - 4}" y="{TOP + 10}" font-size="11" text-anchor="end">{_num(top)}</text>']
    step = max(1, len(labels) // 7)
    for n, label in enumerate(labels):
        if n % step == 0:
            x = LEFT + slot * (n + 0.5)
            parts.append(f'<text class="tick" x="{x:.1f}" y="{TOP + plot_h + 14}" font-size="11" '
                         f'text-anchor="middle">{escape(label)}</text>')
    return parts, slot


def bar_chart(title: str, labels: Sequence[str], series: Sequence[Series], unit: str) -> Markup:
    """Bars side by side per label (a day), one colour per series (a site)."""
    top = max([v or 0 for s in series for v in s.values] + [1])
    plot_h = HEIGHT - BOTTOM - TOP - 20
    parts, slot = _axis(labels, top, HEIGHT)
    width = slot * 0.8 / max(1, len(series))
    for n, s in enumerate(series):
        for i, value in enumerate(s.values):
            if not value:
                continue
            h = plot_h * value / top
            x = LEFT + slot * i + slot * 0.1 + width * n
            said = f"{s.name} {labels[i]}: {_num(value)} {unit}"
            parts.append(f'<rect class="s{n % PALETTE}" fill="{FILLS[n % PALETTE]}" x="{x:.1f}" '
                         f'y="{TOP + plot_h - h:.1f}" width="{width:.1f}" height="{h:.1f}">'
                         f"<title>{escape(said)}</title></rect>")
    legend, extra = _legend(series, HEIGHT - 6)
    desc = "; ".join(f"{s.name}: " + ", ".join(f"{labels[i]} {_num(v or 0)}" for i, v in enumerate(s.values))
                     for s in series)
    return _svg(title, desc or "无数据 no data", parts + legend, HEIGHT + extra)


def line_chart(title: str, labels: Sequence[str], series: Sequence[Series], top: float) -> Markup:
    """A line per series over the labels; a missing value (None) breaks the line."""
    plot_h = HEIGHT - BOTTOM - TOP - 20
    parts, slot = _axis(labels, top, HEIGHT)
    for n, s in enumerate(series):
        points = []
        for i, value in enumerate(s.values):
            if value is None:
                continue
            x, y = LEFT + slot * (i + 0.5), TOP + plot_h - plot_h * value / top
            points.append(f"{x:.1f},{y:.1f}")
            parts.append(f'<circle class="s{n % PALETTE}" fill="{FILLS[n % PALETTE]}" cx="{x:.1f}" cy="{y:.1f}" r="3">'
                         f'<title>{escape(f"{s.name} {labels[i]}: {_num(value)}")}</title></circle>')
        if len(points) > 1:
            parts.append(f'<polyline class="line s{n % PALETTE}" fill="none" stroke="{FILLS[n % PALETTE]}" '
                         f'stroke-width="2" points="{" ".join(points)}"/>')
    legend, extra = _legend(series, HEIGHT - 6)
    desc = "; ".join(f"{s.name}: " + ", ".join(f"{labels[i]} {_num(v)}" for i, v in enumerate(s.values) if v is not None)
                     for s in series)
    return _svg(title, desc or "无数据 no data", parts + legend, HEIGHT + extra)


def stock_chart(title: str, site: SiteSupplies, threshold: float, cap: float = 30) -> Markup:
    """Days left per item as horizontal bars (capped at `cap`), the threshold as a line, and the
    rate of use written beside each bar."""
    row, label_w = 26, 150
    height = TOP + row * max(1, len(site.stock)) + 24
    scale = (WIDTH - label_w - 140) / cap
    parts = []
    for n, line in enumerate(site.stock):
        y = TOP + row * n
        days = line.days_left
        low = days is not None and days < threshold
        width = scale * min(cap, days) if days is not None else 0
        said = "不再消耗 no recent use" if days is None else f"{_num(days)} 天 days"
        text = f"{line.item}: {said}, {_num(line.per_day)} {line.unit}/天 a day"
        parts.append(f'<text class="label" x="{label_w - 6}" y="{y + 15}" font-size="12" '
                     f'text-anchor="end">{escape(line.item)}</text>'
                     f'<rect class="{"low" if low else "s1"}" fill="{FILLS[0] if low else FILLS[1]}" '
                     f'x="{label_w}" y="{y + 4}" '
                     f'width="{width:.1f}" height="{row - 8}"><title>{escape(text)}</title></rect>'
                     f'<text class="value" x="{label_w + width + 6:.1f}" y="{y + 15}" font-size="12">{escape(said)} · '
                     f'{escape(_num(line.per_day))}/天</text>')
    x = label_w + scale * min(cap, threshold)
    parts.append(f'<line class="threshold" stroke="#b4381f" stroke-dasharray="4 3" x1="{x:.1f}" y1="{TOP - 4}" '
                 f'x2="{x:.1f}" y2="{height - 20}"/><text class="tick" x="{x:.1f}" y="{height - 6}" font-size="11" '
                 f'text-anchor="middle">{escape(_num(threshold))} 天</text>')
    desc = "; ".join(f"{line.item} {'—' if line.days_left is None else _num(line.days_left)} 天, "
                     f"{_num(line.per_day)} {line.unit}/天" for line in site.stock)
    return _svg(title, desc or "无数据 no data", parts, height)


def last_days(today: str, count: int) -> list[str]:
    last = date.fromisoformat(today)
    return [(last - timedelta(days=n)).isoformat() for n in range(count - 1, -1, -1)]


async def shifts_per_day(session: AsyncSession, who: Principal, days: list[str], zone: str) -> list[Series]:
    """Shifts started on each day, per site (a shift counts on the day it starts)."""
    require(who, "shifts.read")
    start, end = day_bounds(days[0], zone)[0], day_bounds(days[-1], zone)[1]
    names = {s.id: s.name for s in await session.scalars(select(Site).where(visible_sites(who)).order_by(Site.id))}
    counts: dict[str, dict[str, int]] = {site: defaultdict(int) for site in names}
    for entry, _ in await shifts_of(session, who, start, end):
        if start <= entry.fields["start"] < end and entry.site_id in counts:
            counts[entry.site_id][day_of(entry.fields["start"], zone)] += 1
    return [Series(names[site], [counts[site][d] for d in days]) for site in names]


async def fatigue_per_day(session: AsyncSession, who: Principal, days: list[str], zone: str) -> list[Series]:
    """The average fatigue (1-5) of the check-ins made each day, per site: care staff only."""
    require(who, "wellbeing.details")
    start, end = day_bounds(days[0], zone)[0], day_bounds(days[-1], zone)[1]
    at = millis("at")
    rows = await session.execute(
        select(Entry, Site.name).join(Site, Site.id == Entry.site_id)
        .where(Entry.kind == "checkin", Entry.deleted.is_(False), visible_sites(who), at >= start, at < end)
    )
    scores: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for entry, site in rows:
        if entry.fields.get("fatigue") is not None:
            scores[site][day_of(entry.fields["at"], zone)].append(entry.fields["fatigue"])
    return [Series(site, [round(sum(v) / len(v), 1) if (v := by_day.get(d)) else None for d in days])
            for site, by_day in sorted(scores.items())]
