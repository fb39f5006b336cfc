"""Steps the phone tests share (this module holds no tests).

The server process and its database last the whole session, so each test enrols a worker of its
own at a site of its own (`new_worker`): what other tests pulled, approved or stocked is not
there to surprise it.

A phone is a Playwright page in its own browser context (`new_phone` in conftest.py). The app
tells its state through data-test hooks: the status line (`sync-status`) carries `data-phase`,
`data-pending` and `data-rejected`; each listed entry carries `data-entry-id` and `data-state`
(local, synced, rejected, conflict).
"""

from __future__ import annotations

import gzip
import itertools
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import Page, Request, Route

from sync.client import HttpTransport, sync
from sync.protocol import Entry
from sync.replica import Replica
from tests.support.aio import run
from tests.support.server_process import ServerProcess
from tests.support.world import in_session

STATUS = "[data-test=sync-status]"


def open_app(page: Page, url: str = "/") -> None:
    page.goto(url)
    page.evaluate("window.nuanxin.ready")


_addresses = itertools.count()


def own_address(page: Page) -> None:
    """Give this phone an address of its own, as a real phone has.

    The server allows 10 enrolments a minute per client address, and every phone of the test
    session comes from 127.0.0.1; the test server trusts 127.0.0.1 as a proxy
    (NUANXIN_TRUSTED_PROXIES in conftest.py), so it counts the X-Forwarded-For address.
    """
    n = next(_addresses)
    address = f"198.51.{100 + n // 250}.{n % 250 + 1}"  # from TEST-NET-2 (RFC 5737) on
    page.context.route(
        "**/api/enrol",
        lambda route: route.continue_(headers={**route.request.headers, "x-forwarded-for": address}),
    )


def enrol(page: Page, server: ServerProcess, person: str, url: str = "/") -> None:
    """Open the app (at `url`), spend a fresh code, and wait for the first sync to finish."""
    own_address(page)
    open_app(page, url)
    page.fill("[data-test=enrol-code]", issue_code(server, person))
    page.click("[data-test=enrol-submit]")
    page.wait_for_selector("[data-test=shift-list]")
    wait_synced(page)


def wait_controlled(page: Page) -> None:
    """The service worker is active and controls the page (it claims clients on activation)."""
    page.wait_for_function("() => navigator.serviceWorker.controller?.state === 'activated'")


def ready_phone(
    new_phone: Callable[..., Page], server: ServerProcess, person: str, url: str = "/", **options: Any
) -> Page:
    """A phone enrolled as `person`, synced, its service worker in control: ready to go offline."""
    page = new_phone(**options)
    enrol(page, server, person, url)
    wait_controlled(page)
    return page


def wait_status(page: Page, **want: str | int) -> None:
    """Wait until the status line's data attributes (phase, pending, rejected) say so."""
    page.wait_for_function(
        """([sel, want]) => {
          const el = document.querySelector(sel);
          return Boolean(el) && Object.entries(want).every(([k, v]) => el.dataset[k] === v);
        }""",
        arg=[STATUS, {k: str(v) for k, v in want.items()}],
    )


def wait_pending(page: Page, pending: int, rejected: int = 0) -> None:
    wait_status(page, pending=pending, rejected=rejected)


def wait_synced(page: Page) -> None:
    """Nothing waits in the outbox and the last sync went through."""
    wait_status(page, phase="idle", pending=0)


def go_offline(page: Page) -> None:
    page.context.set_offline(True)
    page.wait_for_function("() => !navigator.onLine")


def reload_offline(page: Page) -> None:
    """Reload with no network: the page must come from the service worker."""
    response = page.reload()
    assert response is not None and response.from_service_worker, "the app did not open offline"
    page.evaluate("window.nuanxin.ready")


def go_online_and_sync(page: Page) -> None:
    page.context.set_offline(False)
    wait_synced(page)


def item_state(page: Page, test_id: str, entry_id: str) -> str:
    return page.get_attribute(f"[data-test={test_id}][data-entry-id='{entry_id}']", "data-state") or ""


def wait_item_state(page: Page, test_id: str, entry_id: str, state: str) -> None:
    page.wait_for_selector(f"[data-test={test_id}][data-entry-id='{entry_id}'][data-state={state}]")


def outbox(page: Page) -> list[dict]:
    """The phone's outbox in order, as stored in IndexedDB."""
    return page.evaluate("async () => (await import('/js/db.js')).outboxInOrder()")


def local_entries(page: Page) -> list[dict]:
    return page.evaluate("async () => (await import('/js/db.js')).getAll('entries')")


def visible_ids(page: Page, test_id: str, count: int | None = None) -> list[str]:
    """Entry ids of the listed items (`data-test=test_id`); with `count`, once that many are shown."""
    selector = f"[data-test={test_id}][data-entry-id]"
    if count is not None:
        page.wait_for_function(
            "([sel, n]) => document.querySelectorAll(sel).length === n", arg=[selector, count]
        )
    return page.eval_on_selector_all(selector, "els => els.map(e => e.dataset.entryId)")


def site_of(page: Page) -> str:
    return page.evaluate("async () => (await (await import('/js/db.js')).getMeta('site')).id")


def save(page: Page, kind: str, fields: dict, entry: str | None = None) -> str:
    """Record an edit through the app's own save (as the screens do); the entry id."""
    return page.evaluate("([k, e, f]) => window.nuanxin.save(k, e, f)", [kind, entry, fields])


def export_file(page: Page, path: Path) -> Path:
    """The phone's file, as the person saves it from 我的 (Me) to carry or move by hand."""
    page.click("[data-test=nav-me]")
    with page.expect_download() as download:
        page.click("[data-test=export]")
    download.value.save_as(path)
    return path


def now_ms() -> int:
    return time.time_ns() // 1_000_000


# Two zones 20 hours apart: in the first hours of a month in one, the month began long ago in
# the other. The phone counts months in the deployment's zone (GET /api/config).
MONTH_ZONES = ("Asia/Shanghai", "Etc/GMT+12")


def zone_with_month_begun(hours: float) -> str:
    """A deployment zone in which this month began at least `hours` ago (under 20), so a test
    can record that much finished work in "this month" at any hour of any day."""
    for name in MONTH_ZONES:
        now = datetime.now(ZoneInfo(name))
        if now - now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) >= timedelta(hours=hours):
            return name
    raise AssertionError(f"no zone of {MONTH_ZONES} began its month {hours} hours ago")


def config_with(**settings: Any) -> Callable[[Route], None]:
    """A route handler changing the deployment's settings on their way to one phone: the
    session's server is shared by every test."""

    def answer(route: Route) -> None:
        fetched = route.fetch()
        route.fulfill(response=fetched, json={**fetched.json(), **settings})

    return answer


def wait_config(page: Page) -> None:
    """Wait until the phone has kept the deployment's settings from /api/config."""
    page.wait_for_function(
        "async () => Boolean(await (await import('/js/db.js')).getMeta('config'))", polling=100
    )


# -- the server side --------------------------------------------------------------------------


def server_entries(server: ServerProcess, person: str) -> dict[str, Entry]:
    """What the server holds for `person`, pulled by a second phone of theirs (the Python client).

    That phone is dated as enrolled before everything: a phone enrolled now would see none of
    the person's earlier wellbeing (docs/roles.md, "A new phone and wellbeing")."""
    device, token = enrol_in_database(server, person, enrolled_at=datetime(2000, 1, 1, tzinfo=UTC))
    with httpx.Client(base_url=server.url, timeout=30) as http:
        replica = Replica(device=device)
        sync(replica, HttpTransport(http, token))
    return replica.entries


def enrol_in_database(
    server: ServerProcess, person: str, enrolled_at: datetime | None = None
) -> tuple[str, str]:
    """A code spent by the server's own enrolment service (not POST /api/enrol, which is rate
    limited per address): the new device's id and token. `enrolled_at` back-dates the phone."""
    from server.services.enrolment import enrol
    from server.services.enrolment import issue_code as issue

    async def spend(session: Any) -> tuple[str, str]:
        code = await issue(session, person, datetime.now(UTC))
        device, token, _, _ = await enrol(session, code, datetime.now(UTC))
        if enrolled_at is not None:
            device.created_at = enrolled_at
        return device.id, token

    return _run(spend, server.database_url)


def capture_sync_bodies(page: Page) -> list[dict]:
    """Every POST /api/sync body the page sends from now on, decoded (gzipped or not)."""
    bodies: list[dict] = []

    def handle(route: Route, request: Request) -> None:
        raw = request.post_data_buffer or b""
        if (request.headers.get("content-encoding") or "") == "gzip":
            raw = gzip.decompress(raw)
        bodies.append(json.loads(raw))
        route.continue_()

    page.context.route("**/api/sync", handle)
    return bodies


def _run(coro_fn: Callable[..., Any], database_url: str, *args: Any) -> Any:
    return run(in_session(database_url, lambda session: coro_fn(session, *args)))


def new_worker(server: ServerProcess, name: str = "张伟", site: str | None = "东风村") -> str:
    """A worker of the demo township at a new site named `site` (none if None); the person id."""
    from server.demo import TOWNSHIP
    from server.models import Person, Site

    suffix = uuid.uuid4().hex[:10]
    person, site_id = f"w{suffix}", f"s{suffix}" if site else None

    async def write(session: Any) -> None:
        if site_id:
            session.add(Site(id=site_id, name=site, township=TOWNSHIP))
            await session.flush()
        session.add(Person(id=person, name=name, role="worker", site_id=site_id, township=TOWNSHIP))

    _run(write, server.database_url)
    return person


def issue_code(server: ServerProcess, person: str) -> str:
    """`server.issue_code` without starting a process for it (a second faster)."""
    from server.services.enrolment import issue_code as service

    return _run(lambda session: service(session, person, datetime.now(UTC)), server.database_url)


def add_followup(server: ServerProcess, checkin_id: str, note: str, next_step: str = "") -> str:
    """A care follow-up written as the care staff member 陈静 (demo data) would on the dashboard.

    The dashboard's development sign-in is an administrator, who may not write follow-ups, so
    this calls the server's own service against the server's database file.
    """
    from server.demo import TOWNSHIP
    from server.policy import Principal
    from server.services.server_clock import ServerClock
    from server.services.wellbeing import add_followup as service

    care = Principal(person_id="chenjing", name="陈静", role="care", site_id=None, township=TOWNSHIP)

    async def write(session: Any) -> str:
        entry = await service(session, care, checkin_id, note, next_step, ServerClock(), now_ms())
        return entry.id

    return _run(write, server.database_url)


def _staff() -> Any:
    from server.demo import TOWNSHIP
    from server.policy import Principal

    return Principal(person_id="wangfang", name="王芳", role="staff", site_id=None, township=TOWNSHIP)


def approve_shift(server: ServerProcess, entry_id: str, decision: str = "approved", note: str = "") -> None:
    """Township staff (王芳, demo data) approve a shift for the subsidy sheet, or return it."""
    from server.services.server_clock import ServerClock
    from server.services.staff_service import approve_shift as service

    async def write(session: Any) -> None:
        await service(session, _staff(), entry_id, decision, note, ServerClock(), now_ms())

    _run(write, server.database_url)


def fix_shift_times(server: ServerProcess, entry_id: str, start: int, end: int) -> None:
    """Township staff put a shift's times right on the dashboard (§7 K3)."""
    from server.services.server_clock import ServerClock
    from server.services.staff_service import fix_shift_times as service

    async def write(session: Any) -> None:
        await service(session, _staff(), entry_id, start, end, ServerClock(), now_ms())

    _run(write, server.database_url)


def assign_site(server: ServerProcess, person: str, site: str) -> None:
    """Staff give a person a site (as the people page does for a move)."""
    from sqlalchemy import update

    from server.models import Person

    _run(lambda session: session.execute(update(Person).where(Person.id == person).values(site_id=site)),
         server.database_url)
