"""A phone's file carried by hand: staff upload what a phone without signal exported; its changes
apply once, as that phone's, flagged `carried`; the phone's next sync learns they arrived."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from server.models import AuditEvent, ChangeLog, Conflict, Device, Entry, Person, Site, SyncCounter
from server.services.accounts import create_account
from server.services.carried import CARRIED, PhoneFile, file_correction
from sync.constants import CLOCK_TOLERANCE_MS
from tests.support.world import HOUR, START, Phone, World, shift

DAY = 24 * HOUR


def exported(phone: Phone, exported_at: int = START, **meta: object) -> bytes:
    """The file pwa/js/views/me.js `exportData` writes, from the replica's state."""
    replica = phone.replica
    outbox = [{**json.loads(json.dumps(c, default=_plain)), "n": n, "urgent": c.id in replica.urgent,
               "status": "rejected" if c.id in replica.rejected else "pending", "created": START}
              for n, c in enumerate(replica.outbox, start=1)]
    doc = {"format": "nuanxin-export", "version": 1, "exported_at": exported_at,
           "meta": {"device": replica.device, "person": {"id": phone.person, "name": "张伟"}, "offset": replica.offset,
                    "cursor": replica.cursor, "lang": "zh-CN", **meta},
           "entries": [json.loads(json.dumps(e, default=_plain)) for e in replica.entries.values()],
           "outbox": outbox}
    return json.dumps(doc, ensure_ascii=False).encode()


def _plain(value: object) -> object:
    import msgspec

    return msgspec.to_builtins(value)


def upload(world: World, body: bytes | None):
    files = None if body is None else {"file": ("nuanxin-2025-11-24.json", body, "application/json")}
    return world.client.post("/township/carried", data={"_csrf_token": world.csrf()}, files=files)


def offline_phone(world: World) -> Phone:
    """张伟's phone: enrolled, then never a signal: a shift and a check-in wait in its outbox."""
    phone = world.phone("zhangwei")
    phone.replica.put("c-shift", "shift", shift(phone.site, START, START + 8 * HOUR), START + 8 * HOUR)
    phone.replica.put("c-checkin", "checkin", {"site": phone.site, "at": START, "fatigue": 4}, START + 9 * HOUR)
    return phone


def snapshot(world: World) -> tuple:
    async def look(session):
        entries = [(e.id, e.seq, e.fields, e.stamps, e.flags) for e in await session.scalars(select(Entry).order_by(Entry.id))]
        return (entries, await session.scalar(select(func.count()).select_from(ChangeLog)),
                await session.scalar(select(func.count()).select_from(Conflict)),
                await session.scalar(select(SyncCounter.value)))

    return world.session(look)


@pytest.fixture
def staffed(world: World) -> World:
    world.account("wangfang", "staff")
    assert world.sign_in("wangfang").status_code == 303
    return world


def test_a_carried_file_applies_once_as_its_phone_and_the_phone_learns_it_arrived(staffed: World) -> None:
    world = staffed
    phone = offline_phone(world)
    body = exported(phone)

    first = upload(world, body)

    assert first.status_code == 200, first.text
    assert "写入 2 条" in first.text
    rows = {e.id: e for e in world.scalars(select(Entry))}
    assert rows["c-shift"].device_id == phone.replica.device and rows["c-shift"].author_id == "zhangwei"
    assert CARRIED in rows["c-shift"].flags and CARRIED in rows["c-checkin"].flags
    device = world.scalars(select(Device).where(Device.id == phone.replica.device))[0]
    assert device.last_sync_at is None  # a file is not a sync: the phone was never in touch
    before = snapshot(world)

    again = upload(world, body)

    assert again.status_code == 200 and "之前已到达 2 条" in again.text
    assert snapshot(world) == before  # the same file twice changes nothing
    events = world.scalars(select(AuditEvent).where(AuditEvent.event == "carried.uploaded"))
    assert [(e.actor, e.subject, e.detail.get("applied"), e.detail.get("duplicate")) for e in events] == [
        ("wangfang", "zhangwei", 2, None), ("wangfang", "zhangwei", None, 2)]

    # The phone finds signal: its outbox goes up, each change comes back a duplicate of an
    # applied one, and the phone drops them; it pulls the entries, marked as carried.
    phone.sync(START + DAY)

    assert phone.replica.outbox == [] and phone.replica.rejected == {}
    assert CARRIED in phone.replica.entries["c-shift"].flags
    assert snapshot(world)[0] == before[0]


def test_a_file_made_after_a_sync_sends_only_what_still_waits(staffed: World) -> None:
    """Changes the server already refused stay on the phone (it shows why); the file does not
    send them again."""
    world = staffed
    phone = world.phone("zhangwei")
    phone.replica.put("c-bad", "shift", shift("chengnan"), START)  # not the phone's site: refused
    phone.sync(START)
    phone.replica.put("c-good", "shift", shift(phone.site), START + HOUR)

    answer = upload(world, exported(phone))

    assert answer.status_code == 200 and "写入 1 条" in answer.text and "被拒绝 0 条" in answer.text
    assert world.scalars(select(Entry.id).where(Entry.id.in_(["c-bad", "c-good"]))) == ["c-good"]


def test_a_revoked_phone_s_file_still_counts_and_says_so(staffed: World) -> None:
    world = staffed
    phone = offline_phone(world)
    world.session(lambda s: _revoke(s, phone.replica.device))

    answer = upload(world, exported(phone))

    assert answer.status_code == 200 and "已停用" in answer.text
    assert len(world.scalars(select(Entry).where(Entry.id.in_(["c-shift", "c-checkin"])))) == 2


async def _revoke(session, device_id: str) -> None:
    (await session.get(Device, device_id)).revoked_at = datetime.now(UTC)


async def _other_township(session) -> None:
    session.add(Site(id="beiyuan", name="北苑村", township="新城镇"))
    await session.flush()
    session.add(Person(id="staff2", name="staff2", role="staff", site_id=None, township="新城镇"))
    await session.flush()
    await create_account(session, "staff2", "staff2", "correct horse battery", datetime.now(UTC))


def test_another_township_s_staff_cannot_upload_our_phone_s_file(world: World) -> None:
    phone = offline_phone(world)
    world.session(_other_township)
    assert world.sign_in("staff2").status_code == 303

    answer = upload(world, exported(phone))

    assert answer.status_code == 404
    assert 'data-field="$.meta.device"' in answer.text and "张伟" not in answer.text
    assert world.scalars(select(Entry.id)) == []


@pytest.mark.parametrize("role", ["care", "lead"])
def test_roles_that_may_not_upload_are_refused(world: World, role: str) -> None:
    phone = offline_phone(world)
    world.account(f"x{role}", role)
    assert world.sign_in(f"x{role}").status_code == 303

    assert world.client.get("/township/carried").status_code == 403
    assert upload(world, exported(phone)).status_code == 403
    assert world.scalars(select(Entry.id)) == []


def _doc(phone: Phone) -> dict:
    return json.loads(exported(phone))


BAD = {
    "not JSON": (lambda p: b"\x89PNG not a file", 400, "file"),
    "another format": (lambda p: json.dumps({**_doc(p), "format": "backup"}).encode(), 400, "$.format"),
    "no device": (lambda p: json.dumps({**_doc(p), "meta": {"person": {"id": "zhangwei"}}}).encode(), 400, "$.meta"),
    "a bad stamp": (lambda p: json.dumps({**_doc(p), "outbox": [{**_doc(p)["outbox"][0], "stamp": "soon"}]}).encode(),
                    400, "$.outbox[0].stamp"),
    "an unknown phone": (lambda p: json.dumps({**_doc(p), "meta": {**_doc(p)["meta"], "device": "nobody"}}).encode(),
                         404, "$.meta.device"),
    "another person": (lambda p: json.dumps({**_doc(p), "meta": {**_doc(p)["meta"], "person": {"id": "lina"}}}).encode(),
                       400, "$.meta.person.id"),
    "too large": (lambda p: exported(p, padding="x" * (8 * 1024 * 1024)), 413, "file"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_file_is_refused_whole_with_the_field_and_reason(staffed: World, case: str) -> None:
    make, status, field = BAD[case]
    phone = offline_phone(staffed)

    answer = upload(staffed, make(phone))

    assert answer.status_code == status, answer.text
    assert f'data-field="{field}"' in answer.text
    assert staffed.scalars(select(Entry.id)) == []


def test_no_file_is_refused(staffed: World) -> None:
    answer = upload(staffed, None)

    assert answer.status_code == 400 and 'data-field="file"' in answer.text


def test_the_shifts_page_marks_entries_carried_by_hand(staffed: World) -> None:
    upload(staffed, exported(offline_phone(staffed)))

    page = staffed.client.get("/township/shifts")

    assert re.search(r"手机文件导入", page.text)


def test_a_file_from_a_phone_whose_clock_ran_ahead_is_moved_back_by_at_least_that_much() -> None:
    import msgspec

    def made(exported_at: int, offset: int = 0) -> PhoneFile:
        return msgspec.convert({"format": "nuanxin-export", "version": 1, "exported_at": exported_at, "outbox": [],
                                "meta": {"device": "abc", "person": {"id": "p"}, "offset": offset}}, PhoneFile)

    now = START + DAY
    ahead = file_correction(made(START + 3 * DAY), now, CLOCK_TOLERANCE_MS)
    assert ahead.offset == -2 * DAY and ahead.clock_wrong
    # Exported a day before the upload with a right clock (or one behind): nothing to measure.
    assert file_correction(made(START), now, CLOCK_TOLERANCE_MS).offset == 0
    # The phone stamps with its corrected clock: its last offset counts.
    assert file_correction(made(START + 3 * DAY, offset=-2 * DAY), now, CLOCK_TOLERANCE_MS).offset == 0
