"""Pages of a long list: offset and limit, 上一页/下一页 (issue 11, item 6).

A page reads one row more than it shows, to know whether there is a next one; the template
partial `_pager.html` draws the links. Every paged query orders by a unique key, so that the
pages neither repeat nor skip a row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import ApiError

PAGE_SIZE = 100
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
