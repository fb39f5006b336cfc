"""Pages of a long list: offset and limit, 上一页/下一页 (issue 11, item 6).

A page reads one row more than it shows, to know whether there is a next one; the template
partial `_pager.html` draws the links. Every paged query orders by a unique key, so that the
pages neither repeat nor skip a row.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, Select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.errors import ApiError

PAGE_SIZE = 100
BATCH = 2_000  # rows an export reads at a time
LAST_PAGE = 100_000  # a bound on the offset a request can ask the database to skip


@dataclass
class Page:
    number: int = 1
    size: int = PAGE_SIZE
    more: bool = False  # is there a next page (known once read)

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    async def rows(self, session: AsyncSession, statement: Select) -> list[Any]:
        """This page's rows of `statement` (ordered by a unique key)."""
        found = (await session.execute(statement.offset(self.offset).limit(self.size + 1))).all()
        self.more = len(found) > self.size
        return found[: self.size]

    async def scalars(self, session: AsyncSession, statement: Select) -> list[Any]:
        return [row[0] for row in await self.rows(session, statement)]


def requested(query: Mapping[str, str]) -> Page:
    """The page a request asks for (`?page=2`); a 400 naming the field for anything else."""
    raw = query.get("page") or "1"
    if not re.fullmatch(r"[0-9]{1,6}", raw) or not 1 <= int(raw) <= LAST_PAGE:
        raise ApiError(400, f"page must be a whole number from 1 to {LAST_PAGE}", "page")
    return Page(int(raw))


async def batches(maker: async_sessionmaker[AsyncSession], statement: Select,
                  after: Callable[[Row], ColumnElement[bool]], size: int = BATCH) -> AsyncIterator[Row]:
    """Every row of `statement` (ordered by a unique key), read `size` at a time, each batch
    from where the last ended (`after(last row)`): an index range with a limit, which both
    databases start returning at once, however many rows follow (keyset pages)."""
    async with maker() as session:
        page = statement
        while True:
            found = (await session.execute(page.limit(size))).all()
            for row in found:
                yield row
            if len(found) < size:
                return
            page = statement.where(after(found[-1]))
