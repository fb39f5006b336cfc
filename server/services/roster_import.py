"""A roster from a spreadsheet saved as CSV: read, checked row by row, previewed, then applied.

The file may be UTF-8 (with or without Excel's byte-order mark) or GBK, which Excel in China
writes; it is decoded strictly, UTF-8 first, then GB18030 (a superset of GBK), and the preview
says which. Each row is matched by a stable key: the id column when the file has one, else the
phone number (docs/decisions.md, "Roster import"), so importing the same file twice changes
nothing the second time. Rows with errors are listed and skipped; the others are applied in one
transaction, and only if they would do what the administrator saw in the preview (`fingerprint`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Person, Site
from server.policy import Principal, require, visible_sites
from server.services.audit import Actor, record
from server.services.directory import (
    SITE_PEOPLE,
    Invalid,
    clean_id,
    clean_name,
    clean_phone,
    clean_post,
    in_township,
    new_id,
)

MAX_BYTES = 512 * 1024  # some 8,000 rows; the confirm step posts the file back within 1 MiB
MAX_ROWS = 5000
# Column headers as people write them (Chinese or English, any case); the first is shown.
COLUMNS = {
    "name": ("姓名", "name"),
    "phone": ("手机号", "手机号码", "手机", "电话", "phone"),
    "site": ("站点", "site"),
    "post": ("岗位", "post"),
    "id": ("编号", "id"),
}
BOM = b"\xef\xbb\xbf"


class RosterError(ValueError):
    """The file as a whole cannot be read: nothing is listed, nothing stored."""


def decode(raw: bytes) -> tuple[str, str]:
    """The text and the encoding it was read in. Strict: a file that is neither is refused
    rather than read with replacement characters."""
    if len(raw) > MAX_BYTES:
        raise RosterError(f"文件太大（最多 {MAX_BYTES // 1024} KB） / the file is larger than {MAX_BYTES // 1024} KB")
    if raw.startswith(BOM):
        try:
            return raw[len(BOM):].decode("utf-8"), "UTF-8 (BOM)"
        except UnicodeDecodeError:
            raise RosterError("文件标明 UTF-8 却不是 / the file says UTF-8 but is not") from None
    for codec, label in (("utf-8", "UTF-8"), ("gb18030", "GBK")):
        try:
            return raw.decode(codec), label
        except UnicodeDecodeError:
            continue
    raise RosterError("读不出文件：请另存为 CSV（UTF-8 或 GBK） / cannot read the file: save it as CSV (UTF-8 or GBK)")


@dataclass
class Row:
    number: int  # as the spreadsheet numbers it: the header is row 1
    name: str
    phone: str | None
    site: str  # as written: a site id or name
    post: str | None
    id: str | None
    site_id: str | None = None
    person_id: str | None = None  # the person it updates, or the id a new one gets from the file
    status: str = "new"  # new, unchanged, updated, error
    errors: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # the fields an update changes


@dataclass
class Plan:
    encoding: str
    key: str  # "id" or "phone"
    columns: list[str]  # the fields the file has
    ignored: list[str]  # headers no field matches
    rows: list[Row]
    fingerprint: str = ""

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)


def _fields(header: list[str]) -> tuple[dict[str, int], list[str]]:
    found, ignored = {}, []
    for i, cell in enumerate(header):
        name = cell.strip().lower()
        known = next((f for f, names in COLUMNS.items() if name in names), None)
        if known is None:
            if name:
                ignored.append(cell.strip())
        elif known in found:
            raise RosterError(f"“{cell.strip()}”列出现了两次 / the column {cell.strip()} appears twice")
        else:
            found[known] = i
    for needed in ("name", "site"):
        if needed not in found:
            raise RosterError(f"缺少“{COLUMNS[needed][0]}”列 / the file has no {COLUMNS[needed][0]} ({needed}) column")
    if "phone" not in found and "id" not in found:
        raise RosterError("缺少“手机号”列（或“编号”列） / the file has no 手机号 (phone) column, nor an 编号 (id) column")
    return found, ignored


def read(raw: bytes) -> tuple[str, dict[str, int], list[str], list[Row]]:
    """The encoding, the columns found, the headers ignored, and each row with what is wrong
    with it on its own (a missing name, a bad phone number...)."""
    text, encoding = decode(raw)
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as err:
        raise RosterError(f"CSV 格式不对 / not a well-formed CSV: {err}") from None
    numbered = [(n, cells) for n, cells in enumerate(records, 1) if any(c.strip() for c in cells)]
    if not numbered:
        raise RosterError("文件是空的 / the file is empty")
    (_, header), body = numbered[0], numbered[1:]
    if len(body) > MAX_ROWS:
        raise RosterError(f"最多 {MAX_ROWS} 行 / at most {MAX_ROWS} rows at a time")
    columns, ignored = _fields(header)
    return encoding, columns, ignored, [_row(n, cells, columns) for n, cells in body]


def _row(number: int, cells: list[str], columns: dict[str, int]) -> Row:
    def cell(name: str) -> str:
        i = columns.get(name)
        return cells[i] if i is not None and i < len(cells) else ""

    row = Row(number, " ".join(cell("name").split()), None, cell("site").strip(), None, None)
    checks = [("name", lambda: clean_name(cell("name"))), ("phone", lambda: clean_phone(cell("phone"))),
              ("post", lambda: clean_post(cell("post")))]
    if "id" in columns:
        checks.append(("id", lambda: clean_id(cell("id"))))
    for name, check in checks:
        try:
            value = check()
        except Invalid as err:
            row.errors.append(err.reason)
        else:
            setattr(row, name, value)
    if not row.site:
        row.errors.append("缺少站点 / the site is missing")
    if "id" not in columns and row.phone is None and not any("手机号" in e for e in row.errors):
        row.errors.append("缺少手机号 / the phone number is missing")
    return row


def _duplicates(rows: list[Row], key: str, label: str) -> None:
    seen: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        value = getattr(row, key)
        if value:
            seen[value].append(row)
    for value, same in seen.items():
        if len(same) > 1:
            numbers = "、".join(str(r.number) for r in same)
            for row in same:
                row.errors.append(f"{label} {value} 在第 {numbers} 行重复 / {label} {value} is on rows {numbers}")


async def plan(session: AsyncSession, who: Principal, raw: bytes) -> Plan:
    """What importing `raw` would do, row by row; nothing is stored."""
    require(who, "people.manage")
    encoding, columns, ignored, rows = read(raw)
    key = "id" if "id" in columns else "phone"
    _duplicates(rows, key, "编号" if key == "id" else "手机号")
    if key == "id":
        _duplicates(rows, "phone", "手机号")
    sites = Sites(list(await session.scalars(select(Site).where(visible_sites(who), Site.retired_at.is_(None)))))
    people = {p.id: p for p in await session.scalars(select(Person).where(in_township(who, Person.township)))}
    by_phone = {(p.township, p.phone): p for p in people.values() if p.phone}
    for row in rows:
        site = sites.find(row)
        if site is not None:
            row.site_id = site.id
            await _match(session, row, key, site, people, by_phone, columns)
        if row.errors:
            row.status = "error"
    found = Plan(encoding, key, [c for c in COLUMNS if c in columns], ignored, rows)
    found.fingerprint = fingerprint(raw, rows)
    return found


class Sites:
    """The open sites a roster may name, by id or (when no other site has it) by name."""

    def __init__(self, sites: list[Site]) -> None:
        self.by_id = {s.id: s for s in sites}
        self.by_name: dict[str, list[Site]] = defaultdict(list)
        for site in sites:
            self.by_name[site.name].append(site)

    def find(self, row: Row) -> Site | None:
        if not row.site:
            return None
        named = [self.by_id[row.site]] if row.site in self.by_id else self.by_name.get(row.site, [])
        if len(named) == 1:
            return named[0]
        if named:
            row.errors.append(f"有多个站点叫“{row.site}”，请写站点编号 / several sites are called {row.site}: use its id")
        else:
            row.errors.append(f"没有站点“{row.site}” / no site {row.site}")
        return None


async def _match(session: AsyncSession, row: Row, key: str, site: Site, people: dict[str, Person],
                 by_phone: dict, columns: dict[str, int]) -> None:
    """Whom the row is about, and what it would change of them."""
    holder = by_phone.get((site.township, row.phone)) if row.phone else None
    if key == "phone":
        person = holder
    else:
        person = people.get(row.id) if row.id else None
        if row.id and person is None and await session.get(Person, row.id) is not None:
            row.errors.append(f"编号 {row.id} 已被别的镇街使用 / the id {row.id} is taken elsewhere")
            return
        if holder is not None and holder is not person:
            row.errors.append(f"手机号 {row.phone} 已登记给 {holder.name} / this number is {holder.name}'s")
            return
    if person is None:
        row.person_id = row.id
        return
    row.person_id = person.id
    if person.retired_at is not None:
        row.errors.append(f"{person.name} 已停用，请先恢复 / {person.name} is retired: reinstate them first")
        return
    if person.role not in SITE_PEOPLE:
        row.errors.append(f"{person.name} 是镇街工作人员，不属于站点 / {person.name} is township staff, not of a site")
        return
    wanted = {"name": row.name, "site_id": site.id, "phone": row.phone, "post": row.post}
    if "post" not in columns:
        del wanted["post"]
    if "phone" not in columns:
        del wanted["phone"]
    row.changes = [k for k, v in wanted.items() if getattr(person, k) != v]
    row.status = "updated" if row.changes else "unchanged"


def fingerprint(raw: bytes, rows: list[Row]) -> str:
    """The file and what the preview said of each row: the confirm step applies it only if
    planning again says the same."""
    said = [[r.number, r.status, r.person_id, r.site_id, r.changes, r.errors] for r in rows]
    return hashlib.sha256(hashlib.sha256(raw).digest() + json.dumps(said, ensure_ascii=False).encode()).hexdigest()


class Stale(Exception):
    """The roster or the file changed since the preview: the new plan, to be checked again."""

    def __init__(self, found: Plan) -> None:
        super().__init__("changed since the preview")
        self.plan = found


async def apply(
    session: AsyncSession, who: Principal, raw: bytes, previewed: str, now: datetime, address: str = ""
) -> Plan:
    """Store the rows without errors, as previewed (else Stale, and nothing is stored)."""
    found = await plan(session, who, raw)
    if found.fingerprint != previewed:
        raise Stale(found)
    actor = Actor.of(who, address)
    sites = {s.id: s for s in await session.scalars(select(Site).where(visible_sites(who)))}
    for row in found.rows:
        if row.status == "new":
            site = sites[row.site_id]
            person = Person(id=row.person_id or new_id("p"), name=row.name, role="worker", site_id=site.id,
                            township=site.township, phone=row.phone, post=row.post)
            session.add(person)
            await record(session, "person.created", actor, now, subject=person.id, township=person.township,
                         name=person.name, site=site.id, via="roster")
        elif row.status == "updated":
            person = await session.get(Person, row.person_id, with_for_update=True)
            after = {"name": row.name, "site_id": row.site_id, "phone": row.phone, "post": row.post}
            changes = {k: [getattr(person, k), after[k]] for k in row.changes}
            for name in row.changes:
                setattr(person, name, after[name])
            person.township = sites[row.site_id].township
            await record(session, "person.changed", actor, now, subject=person.id, township=person.township,
                         via="roster", **changes)
    await session.flush()
    await record(session, "roster.imported", actor, now, subject=found.fingerprint[:16],
                 encoding=found.encoding, new=found.count("new"), updated=found.count("updated"),
                 unchanged=found.count("unchanged"), errors=found.count("error"))
    return found
