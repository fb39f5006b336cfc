"""Run a coroutine to completion from a synchronous test.

Not `asyncio.run` directly: Playwright's sync API keeps an event loop running in the main thread
for the whole browser session, and asyncio.run refuses to start inside it. A worker thread has
no running loop.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Coroutine, TypeVar

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
