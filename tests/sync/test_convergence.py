"""Phones and server converge whatever the network does (docs/sync-protocol.md §4-§6, §11).

Four phones make random offline edits of every kind: person A with two phones and person B on
one site (they share its supply ledger and requests), person C on another. They sync in random
orders while requests are lost before reaching the server, duplicated, replayed late (an old
body sent again after newer ones) or cut off after the server committed (the phone never hears
the answer). Phone clocks jump by years, back and ahead, and are sometimes put right just before
a sync (after the phone learnt an offset from the wrong clock); township staff approve, return
and fix the times of shifts in between. Then every phone syncs to the end on a good link, and the
end state must be what the protocol promises:

- every phone's copy of the server state is what a fresh phone of its person pulls;
- every change the server took is in the final entry, or a candidate in a conflict record, or
  superseded by a later edit of the same device (or by an edit made from it);
- every concurrent, differing edit of one field sits in the conflict queue with both values:
  a reference model of the merge rules (§6 M1-M6), written from the spec and run over the
  changes in the order they reached the server, says which, and the database must agree, with
  no conflict it does not explain;
- nothing stays in an outbox but changes the server rejected, each with a reason, and a change
  the server rejected is never dropped silently;
- a phone sends one entry's changes in the order it made them (§6 M2), urgent or not;
- every phone counts its site's stock as the whole ledger does (transfers in included);
- only what a wrong clock made is corrected (§7 K3): a stamp the wrong clock cannot have made
  is stored as sent, and no stamp is stored in the future;
- a phone's edit of an approved shift's times sends it back to review (§6 M8).

Each example gets fresh sites, people and phones on one app and SQLite database per module.
Plain examples below pin down single cases: an edit made offline weeks ago, a rejection whose
answer was lost, a recount in the same batch as the count it follows, a transfer between sites.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Callable, Iterator

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import ChangeLog, Conflict, Entry, Person, Site
from server.policy import Principal
from server.services.enrolment import enrol, issue_code
from server.services.staff_service import StaffEditError, approve_shift, fix_shift_times
from sync import ledger
from sync.client import HttpTransport
from sync.client import sync as sync_to_the_end
from sync.clock import parse
from sync.protocol import Change, Result, SyncResponse
from sync.protocol import Entry as WireEntry
from sync.replica import Replica
from tests.support.databases import sqlite_url
from tests.support.world import World

HOUR = 3_600_000
DAY = 24 * HOUR
YEAR = 365 * DAY
# The times edits set: ten hours ago, on the minute. Near the stamps of a right clock, so the
# server flags nothing of a right clock's as suspect (§7 K6), and a phone's own changes come
# back folded (§4 `fold`) rather than echoed: the copies it folds are checked like the rest.
START = time.time_ns() // 1_000_000 // 60_000 * 60_000 - 10 * HOUR
TOLERANCE = 120_000  # the server's default (Settings.clock_tolerance_ms)
# A phone clock's error: right within the tolerance, or off by years (3 or more: the tests'
# fixed times, START, are then on the right clock's side of every wrong one, §7 K3).
SKEWS = [0, -60_000, 60_000, -26 * YEAR, -3 * YEAR, 3 * YEAR, 26 * YEAR]
TOWNSHIP = "城关镇"
ITEMS = ["口罩", "消毒液"]
MOVEMENTS = ["transferred", "received", "used", "transferred", "issued", "stocktake"]
NOTES = ["", "带水", "换班"]

# The values edits choose from: few, so concurrent edits often agree and often differ.
EDITABLE: dict[str, dict[str, list[Any]]] = {
    "shift": {
        "post": ["东门卡口", "西门", "北门"],
        "note": NOTES,
        "kind": ["day", "night", "on_call"],
        "start": [START, START + HOUR, START + 2 * HOUR],
        "end": [START + HOUR, START + 8 * HOUR, START + 9 * HOUR],
    },
    "request": {"quantity": [1, 2, 5], "note": NOTES, "urgent": [True, False]},
    "checkin": {
        "fatigue": [1, 3, 5],
        "mood": [2, 4],
        "note": NOTES,
        "type": ["checkin", "injury"],
        "injury_kind": ["injury", "exposure"],
    },
    "supply": {"note": NOTES, "quantity": [5, 10]},  # movements are immutable: rejected (M6)
}
STAFF_ONLY = {"shift": ("approval", "approved"), "request": ("status", "approved")}  # rejected (M7)


def now() -> int:
    return time.time_ns() // 1_000_000


def node(stamp: str) -> str:
    return stamp.rsplit("-", 1)[1]


def key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


# -- the network --------------------------------------------------------------------------------


@dataclass
class Arrival:
    """A request body reaching the server (with the real time it was sent at), or a staff edit
    made on the dashboard (a change with the server's stamp)."""

    body: dict | None = None
    at: int = 0
    staff: Change | None = None


@dataclass
class Phone:
    index: int
    label: str
    person: str
    site: str
    other_site: str
    replica: Replica
    transport: HttpTransport
    skew: int  # this phone's clock error in ms (SKEWS)
    arrived: list[Arrival]  # every request body and staff edit that reached the server, in order
    made: list[Change] = field(default_factory=list)
    bodies: list[dict] = field(default_factory=list)  # every body this phone built
    heard: list[Result] = field(default_factory=list)  # every result the phone received

    def now(self) -> int:
        return now() + self.skew

    def deliver(self, body: dict) -> SyncResponse:
        """The body reaches the server, which answers; whether the phone hears it is the caller's."""
        self.arrived.append(Arrival(body=body, at=now()))
        return self.transport(body)

    def __call__(self, body: dict) -> SyncResponse:
        """A good link (the Transport protocol of sync.client)."""
        answer = self.deliver(body)
        self.heard += answer.results
        return answer

    def receive(self, answer: SyncResponse) -> None:
        self.heard += answer.results
        self.replica.receive(answer, self.now())

    def sync(self, fault: str) -> None:
        body = self.replica.request(self.now())
        self.bodies.append(body)
        if fault == "lost":
            return
        answer = self.deliver(body)
        if fault == "cut_off":
            return
        if fault in ("duplicated", "duplicated_first_heard"):
            again = self.deliver(body)
            answer = answer if fault == "duplicated_first_heard" else again
        self.receive(answer)

    def replay(self, index: int) -> None:
        """An old body arrives again, late; nobody waits for its answer."""
        if self.bodies:
            self.deliver(self.bodies[index % len(self.bodies)])

    def sync_to_the_end(self) -> None:
        sync_to_the_end(self.replica, self, self.now)

    # -- what the person sees and does --------------------------------------------------------

    def visible(self, kinds: tuple[str, ...] | None = None) -> list[str]:
        ids = set(self.replica.entries) | {c.entry for c in self.replica.pending}
        shown = []
        for entry_id in sorted(ids):
            view = self.replica.view(entry_id)
            if view is not None and not view["deleted"] and (kinds is None or view["kind"] in kinds):
                shown.append(entry_id)
        return shown

    def latest_stocktake(self, item: str) -> str | None:
        """The latest stocktake of `item` at this phone's site that the phone knows (§6 M6)."""
        pending = [
            c.entry
            for c in self.replica.pending
            if c.op == "put" and c.kind == "supply" and c.fields.get("movement") == "stocktake"
            and c.fields.get("item") == item and c.entry not in self.replica.entries
        ]
        known = sorted(
            (e for e in self.replica.entries.values()
             if e.kind == "supply" and e.site == self.site and e.fields.get("movement") == "stocktake"
             and e.fields.get("item") == item),
            key=lambda e: e.seq,
        )
        for entry_id in reversed([e.id for e in known] + pending):  # the newest first
            view = self.replica.view(entry_id)
            if view is not None and not view["deleted"]:
                return entry_id
        return None


# -- setting up an example ----------------------------------------------------------------------


@dataclass
class Lab:
    world: World
    tags: Iterator[int] = field(default_factory=itertools.count)


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Iterator[Lab]:
    with World.start(sqlite_url(tmp_path_factory.mktemp("convergence"))) as world:
        yield Lab(world)


async def enrolled(session: AsyncSession, person: str) -> tuple[str, str]:
    """A phone enrolled for `person` through the enrolment service: (device id, token). Not
    through POST /api/enrol, whose per-address rate limit the many phones here would trip."""
    now = datetime.now(UTC)
    device, token, _, _ = await enrol(session, await issue_code(session, person, now), now)
    # Every phone here is enrolled before anything of the example is made (its times start in
    # 2025, its clocks jump by years): a phone sees its person's wellbeing from its enrolment on.
    device.created_at = datetime(1970, 1, 2, tzinfo=UTC)
    await session.flush()
    return device.id, token


def _people(sites: dict[str, str], people: dict[str, str], phones: list[str]):
    """New sites and workers, and one enrolled phone per entry of `phones`."""

    async def work(session: AsyncSession) -> list[tuple[str, str]]:
        session.add_all(Site(id=site, name=name, township=TOWNSHIP) for name, site in sites.items())
        await session.flush()
        session.add_all(
            Person(id=person, name=person, role="worker", site_id=site, township=TOWNSHIP)
            for person, site in people.items()
        )
        await session.flush()
        return [await enrolled(session, person) for person in phones]

    return work


STAFF = Principal(person_id="wangfang", name="王芳", role="staff", site_id=None, township=TOWNSHIP)


def _server_records(change_ids: list[str], entry_ids: list[str]):
    """The first result the server recorded for each change, the stamps of the reviews the
    server asked for after them (§6 M8), and the conflict records."""

    async def work(session: AsyncSession):
        results = {
            change_id: msgspec.convert(result, Result)
            for change_id, result in await session.execute(
                select(ChangeLog.id, ChangeLog.result).where(ChangeLog.id.in_(change_ids))
            )
        }
        reviews = {}
        for (body,) in await session.execute(
            select(ChangeLog.body).where(ChangeLog.entry_id.in_(entry_ids), ChangeLog.body.contains('"after"'))
        ):
            review = json.loads(body)
            reviews[review["after"]] = review["stamp"]
        conflicts = (
            await session.execute(
                select(Conflict.entry_id, Conflict.field, Conflict.candidates, Conflict.resolved_at).where(
                    Conflict.entry_id.in_(entry_ids)
                )
            )
        ).all()
        return results, reviews, conflicts

    return work


@dataclass
class Example:
    lab: Lab
    tag: str
    phones: list[Phone]
    fresh: dict[str, tuple[str, str]]  # person -> (device, token) of a phone that never synced
    arrived: list[Arrival]
    ids: Iterator[int] = field(default_factory=itertools.count)
    moments: Iterator[int] = field(default_factory=lambda: itertools.count(START, 60_000))

    @classmethod
    def start(cls, lab: Lab, skews: list[int]) -> Example:
        tag = f"x{next(lab.tags)}"
        site, other = f"{tag}s1", f"{tag}s2"
        people = {f"{tag}a": site, f"{tag}b": site, f"{tag}c": other}
        a, b, c = people
        layout = [("A1", a), ("A2", a), ("B", b), ("C", c)]
        devices = lab.world.session(
            _people({"site one": site, "site two": other}, people, [p for _, p in layout] + [a, b, c])
        )
        arrived: list[Arrival] = []
        phones = []
        for index, ((label, person), (device, token), skew) in enumerate(zip(layout, devices, skews)):
            counter = itertools.count()
            # Each phone folds its own changes in, the answers leaving out their echo (§4).
            replica = Replica(
                device=device, person=person, new_id=lambda label=label, n=counter: f"{tag}{label}c{next(n)}"
            )
            home = people[person]
            phones.append(
                Phone(index, label, person, home, other if home == site else site, replica,
                      HttpTransport(lab.world.client, token), skew, arrived)
            )
        fresh = dict(zip(people, devices[len(layout):]))
        return cls(lab, tag, phones, fresh, arrived)

    def new_entry(self) -> str:
        return f"{self.tag}e{next(self.ids):03d}"

    def record(self, phone: Phone, change: Change) -> None:
        phone.made.append(change)

    @staticmethod
    def pick(draw: Callable, values: list[Any], phone: Phone) -> Any:
        """One of `values`; the simplest draw differs from phone to phone, so that the examples
        Hypothesis likes best (and shrinks to) are the ones where two phones disagree."""
        return values[(draw(st.integers(0, len(values) - 1)) + phone.index) % len(values)]

    # -- steps --------------------------------------------------------------------------------

    def shift(self, phone: Phone, draw: Callable) -> None:
        start = draw(st.sampled_from([START, START + 2 * HOUR]))
        post = self.pick(draw, EDITABLE["shift"]["post"], phone)
        fields: dict[str, Any] = {"site": phone.site, "post": post, "start": start}
        end = draw(st.sampled_from([None, START + HOUR, START + 8 * HOUR]))  # START + HOUR < 2 h: rejected
        if end is not None:
            fields["end"] = end
        if draw(st.booleans()):
            fields["kind"] = draw(st.sampled_from(EDITABLE["shift"]["kind"]))
            self.record(phone, phone.replica.put(self.new_entry(), "shift", fields, phone.now()))
        else:  # an old phone build (schema 1: a night toggle), upgraded by the server (§10)
            fields["night"] = draw(st.booleans())
            self.record(phone, phone.replica.put(self.new_entry(), "shift", fields, phone.now(), schema=1))

    def stocktake(self, phone: Phone, draw: Callable) -> None:
        for _ in range(draw(st.integers(1, 2))):  # a count, and maybe a recount
            self.supply(phone, draw, "stocktake")

    def supply(self, phone: Phone, draw: Callable, movement: str | None = None) -> None:
        item = draw(st.sampled_from(ITEMS))
        movement = movement or draw(st.sampled_from(MOVEMENTS))
        fields: dict[str, Any] = {"site": phone.site, "item": item, "unit": "箱", "movement": movement,
                                  "quantity": self.pick(draw, [5, 10, 12], phone), "at": next(self.moments)}
        if movement == "transferred" and draw(st.integers(0, 3)):  # without to_site: rejected
            fields["to_site"] = phone.other_site
        if movement == "stocktake":
            fields["follows"] = phone.latest_stocktake(item)
        self.record(phone, phone.replica.put(self.new_entry(), "supply", fields, phone.now()))

    def request(self, phone: Phone, draw: Callable) -> None:
        fields = {"site": phone.site, "item": draw(st.sampled_from(ITEMS)), "unit": "箱",
                  "quantity": draw(st.sampled_from([1, 2, 5])), "at": START, "urgent": draw(st.booleans())}
        self.record(phone, phone.replica.put(self.new_entry(), "request", fields, phone.now()))

    def checkin(self, phone: Phone, draw: Callable) -> None:
        fatigue = self.pick(draw, [1, 3, 5], phone)
        fields: dict[str, Any] = {"site": phone.site, "at": START, "fatigue": fatigue}
        if draw(st.booleans()):  # an urgent injury report; without its kind it is rejected
            fields["type"] = "injury"
            if draw(st.booleans()):
                fields["injury_kind"] = draw(st.sampled_from(["injury", "exposure"]))
        self.record(phone, phone.replica.put(self.new_entry(), "checkin", fields, phone.now()))

    def edit(self, phone: Phone, draw: Callable, entry_id: str | None = None) -> None:
        if entry_id is None:
            shifts = phone.visible(("shift",))  # mostly shifts: person A's two phones share them
            shown = shifts if shifts and draw(st.integers(0, 3)) < 3 else phone.visible()
            if not shown:
                return self.shift(phone, draw)
            entry_id = draw(st.sampled_from(shown))
        kind = phone.replica.view(entry_id)["kind"]
        names = sorted(EDITABLE[kind])
        fields = {}
        for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True)):
            fields[name] = self.pick(draw, EDITABLE[kind][name], phone)
        if kind in STAFF_ONLY and draw(st.integers(0, 9)) == 9:
            name, value = STAFF_ONLY[kind]
            fields[name] = value
        self.record(phone, phone.replica.put(entry_id, kind, fields, phone.now()))

    def both(self, phone: Phone, draw: Callable) -> None:
        """The person's two phones each edit the same entry, offline: concurrent edits."""
        twins = [p for p in self.phones if p.person == phone.person]
        shared = sorted(set.intersection(*(set(p.visible(("shift",))) for p in twins)))
        if len(twins) < 2 or not shared:
            return self.edit(phone, draw)
        entry_id = draw(st.sampled_from(shared))
        for twin in twins:
            self.edit(twin, draw, entry_id)

    def jump(self, phone: Phone, draw: Callable) -> None:
        """The phone's clock jumps (by years, back or ahead) or is put right."""
        phone.skew = draw(st.sampled_from(SKEWS))

    def staff(self, phone: Phone, draw: Callable) -> None:
        """A township officer approves, returns or fixes the times of a shift of this example."""
        world = self.lab.world
        shifts = sorted(
            world.scalars(select(Entry.id).where(Entry.id.startswith(f"{self.tag}e"), Entry.kind == "shift",
                                                 Entry.deleted.is_(False)))
        )
        if not shifts:
            return
        entry_id = draw(st.sampled_from(shifts))
        action = draw(st.sampled_from(["approved", "times", "approved", "returned"]))
        times = (draw(st.sampled_from(EDITABLE["shift"]["start"])), draw(st.sampled_from(EDITABLE["shift"]["end"])))
        clock = world.client.app.state.clock

        async def work(session: AsyncSession) -> Entry:
            if action == "times":
                return await fix_shift_times(session, STAFF, entry_id, *times, clock, now())
            reason = "请核对时间" if action == "returned" else ""  # a return needs a reason
            return await approve_shift(session, STAFF, entry_id, action, reason, clock, now())

        before = world.scalars(select(Entry.stamps).where(Entry.id == entry_id))[0]
        try:
            entry = world.session(work)
        except StaffEditError:  # refused, and rolled back: e.g. a shift still on duty is not approved
            return
        changed = {name: stamp for name, stamp in entry.stamps.items() if before.get(name) != stamp}
        if changed:
            [stamp] = set(changed.values())
            self.arrived.append(Arrival(staff=Change(
                id=f"staff-{stamp}", entry=entry_id, kind="shift", schema=2, stamp=stamp,
                fields={name: entry.fields[name] for name in changed}, base={name: before.get(name) for name in changed},
            )))

    def delete(self, phone: Phone, draw: Callable) -> None:
        shown = phone.visible()
        if shown:
            self.record(phone, phone.replica.delete(draw(st.sampled_from(shown)), phone.now()))

    # -- the end ------------------------------------------------------------------------------

    def settle(self) -> dict[str, dict[str, WireEntry]]:
        """Every phone syncs to the end on a good link, then all but the last pull again (what the
        others pushed after them); then a fresh phone of each person pulls everything. Returns
        what each person's fresh phone got."""
        for phone in self.phones:
            phone.sync_to_the_end()
        for phone in self.phones[:-1]:
            phone.sync_to_the_end()
        pulled = {}
        for person, (device, token) in self.fresh.items():
            replica = Replica(device=device)
            sync_to_the_end(replica, HttpTransport(self.lab.world.client, token))
            pulled[person] = replica.entries
        return pulled


# -- the reference model of the merge (§6), written from the spec ------------------------------


@dataclass
class Model:
    kind: str
    fields: dict[str, Any] = field(default_factory=dict)
    stamps: dict[str, str] = field(default_factory=dict)
    deleted: bool = False


def sequential(current: str, base: str | None, stamp: str) -> bool:
    """M2: made from the current value, or by the device that wrote it."""
    return current == base or node(current) == node(stamp)


def upgraded(change: Change) -> tuple[dict[str, Any], dict[str, Any]]:
    """§10: shift v1 `night: bool` is v2 `kind`."""
    fields, base = dict(change.fields), dict(change.base)
    if change.kind == "shift" and change.schema == 1 and "night" in fields:
        fields["kind"] = "night" if fields.pop("night") else "day"
        base["kind"] = base.pop("night", None)
    return fields, base


class Reference:
    """The server state the spec prescribes for the changes the server took, in arrival order."""

    def __init__(self, reviews: dict[str, str]) -> None:
        self.reviews = reviews  # change id -> the stamp of the review the server asked for (M8)
        self.entries: dict[str, Model] = {}
        self.order: list[str] = []  # entry ids in the order they were created
        # (entry, field) -> {(value, stamp)}: the candidates every conflict record must hold
        self.conflicts: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
        self.status: dict[str, str] = {}  # change id -> "applied" or "conflict"

    def _conflict(self, entry: str, name: str, old: Any, old_stamp: str, new: Any, new_stamp: str) -> None:
        self.conflicts[(entry, name)] |= {(key(old), old_stamp), (key(new), new_stamp)}

    def _field(self, entry_id: str, model: Model, name: str, value: Any, stamp: str, base: str | None
               ) -> bool:
        current = model.stamps.get(name)
        conflict = False
        if current is not None and not sequential(current, base, stamp):  # M3
            old = model.deleted if name == "deleted" else model.fields.get(name)
            if old != value:
                self._conflict(entry_id, name, old, current, value, stamp)
                conflict = True
            if stamp < current:
                return conflict
        if name == "deleted":
            model.deleted = value
        else:
            model.fields[name] = value
        model.stamps[name] = stamp
        return conflict

    def apply(self, change: Change, stamp: str) -> None:
        model = self.entries.get(change.entry)
        created = model is None
        if model is None:
            model = self.entries[change.entry] = Model(change.kind)
            self.order.append(change.entry)
        conflict = False
        if change.op == "delete":
            unseen = [s for name, s in model.stamps.items()
                      if name != "deleted" and not sequential(s, change.base.get(name), stamp)]
            if unseen and not model.deleted:  # M5: the tombstone stands, the unseen edit is a candidate
                self._conflict(change.entry, "deleted", False, max(unseen), True, stamp)
                model.deleted, model.stamps["deleted"] = True, max(stamp, model.stamps.get("deleted", ""))
                conflict = True
            else:
                base = change.base.get("deleted")
                conflict = self._field(change.entry, model, "deleted", True, stamp, base)
        else:
            fields, base = upgraded(change)
            tombstone = model.stamps.get("deleted")
            if model.deleted and tombstone and not sequential(tombstone, base.get("deleted"), stamp):
                self._conflict(change.entry, "deleted", True, tombstone, False, stamp)  # M5
                conflict = True
            approved = change.kind == "shift" and model.fields.get("approval") == "approved"
            paid = [model.fields.get(name) for name in ("start", "end", "kind")]  # M8: what pay depends on
            for name, value in fields.items():
                conflict |= self._field(change.entry, model, name, value, stamp, base.get(name))
            if created and change.kind == "supply" and fields.get("movement") == "stocktake":
                conflict |= self._stocktake(change.entry, fields, stamp)
            # M8: a phone that moves an approved shift's times or changes its kind sends it back to review.
            review = approved and not model.deleted and not change.id.startswith("staff-") and paid != [
                model.fields.get(name) for name in ("start", "end", "kind")
            ]
            assert review == (change.id in self.reviews), (
                f"{change.id} changed the pay of approved shift {change.entry}: review expected {review}"
            )
            if review:
                model.fields["approval"], model.stamps["approval"] = "pending", self.reviews[change.id]
        self.status[change.id] = "conflict" if conflict else "applied"

    def _stocktake(self, entry_id: str, fields: dict[str, Any], stamp: str) -> bool:
        """M6: a stocktake that does not follow the latest one and counts differently."""
        latest = None
        for other_id in reversed(self.order):
            other = self.entries[other_id]
            if (other_id != entry_id and other.kind == "supply" and not other.deleted
                    and other.fields.get("movement") == "stocktake"
                    and other.fields.get("site") == fields["site"]
                    and other.fields.get("item") == fields["item"]):
                latest = other_id
                break
        if latest is None or fields.get("follows") == latest:
            return False
        theirs = self.entries[latest]
        if theirs.fields["quantity"] == fields["quantity"]:
            return False
        self._conflict(entry_id, "quantity", theirs.fields["quantity"], theirs.stamps["quantity"],
                       fields["quantity"], stamp)
        return True


# -- the checks ---------------------------------------------------------------------------------


def check(example: Example, pulled: dict[str, dict[str, WireEntry]]) -> None:
    phones = example.phones
    made = {c.id: (phone, i, c) for phone in phones for i, c in enumerate(phone.made)}
    final: dict[str, WireEntry] = {}
    for entries in pulled.values():
        final.update(entries)
    final = {k: v for k, v in final.items() if k.startswith(example.tag)}
    first, reviews, conflict_rows = example.lab.world.session(_server_records(list(made), list(final)))

    # 0. A phone sends one entry's changes in the order it made them (urgent ones may go first,
    #    "they are other entries"): the server applies one device's edits in arrival order (§6 M2).
    for phone in phones:
        order = {c.id: i for i, c in enumerate(phone.made)}
        for body in phone.bodies:
            sent: dict[str, list[int]] = defaultdict(list)
            for raw in body["changes"]:
                sent[raw["entry"]].append(order[raw["id"]])
            for entry_id, indices in sent.items():
                assert indices == sorted(indices), (
                    f"phone {phone.label} sent its changes #{indices} of {entry_id} out of the order it made "
                    f"them: " + "; ".join(f"#{i} {phone.made[i].op} {phone.made[i].fields}" for i in indices)
                )

    # 1. Every phone's copy of the server state is what a fresh phone of its person pulls.
    for phone in phones:
        mine = {k: msgspec.to_builtins(v) for k, v in phone.replica.entries.items()}
        fresh = {k: msgspec.to_builtins(v) for k, v in pulled[phone.person].items()}
        assert mine == fresh, f"phone {phone.label}'s copy differs from what a fresh phone of its person gets"

    # 2. Nothing is left in an outbox but rejected changes, each with a reason; a change the
    #    server rejected is never dropped silently; every answer agreed with the server's record.
    for phone in phones:
        assert phone.replica.pending == [], f"phone {phone.label} still has unsent changes"
        outbox = {c.id for c in phone.replica.outbox}
        for i, change in enumerate(phone.made):
            result = first.get(change.id)
            assert result is not None, f"{phone.label}'s change #{i} {change.id} never reached the server"
            if result.status == "rejected":
                assert result.errors and all(e.reason for e in result.errors), f"{change.id}: no reason"
                assert change.id in outbox and change.id in phone.replica.rejected, (
                    f"phone {phone.label} dropped its change #{i} ({change.op} {change.kind} {change.entry} "
                    f"{change.fields}) that the server rejected ({result.errors}): the person never sees why"
                )
                assert phone.replica.rejected[change.id].errors, f"{change.id} is held without its errors"
            else:
                assert change.id not in outbox, f"{phone.label} kept {change.id}, which was {result.status}"
        for heard in phone.heard:
            result = first[heard.id]
            said = heard.first if heard.status == "duplicate" else heard.status
            assert said == result.status, f"{heard.id}: the phone heard {heard}, the server recorded {result}"
            assert heard.stamp == result.stamp and heard.errors == result.errors, (heard, result)

    # 3. The reference model over the changes in the order the server first saw them.
    #    Staff edits are changes too, with the server's stamp, made from the current stamps.
    reference = Reference(reviews)
    taken: list[Change] = []
    staff_edits: list[Change] = []
    seen: set[str] = set()
    for arrival in example.arrived:
        if arrival.staff is not None:
            staff_edits.append(arrival.staff)
            reference.apply(arrival.staff, arrival.staff.stamp)
            continue
        for raw in arrival.body["changes"]:
            change = msgspec.convert(raw, Change)
            if change.id in seen:
                continue
            seen.add(change.id)
            check_clock(change, arrival, first[change.id])
            if first[change.id].status != "rejected":
                taken.append(change)
                reference.apply(change, first[change.id].stamp)
    assert set(reviews) <= set(reference.status), "the server sent back to review after no change it took"
    for change in taken:
        assert first[change.id].status == reference.status[change.id], (
            f"{change.op} {change.kind} {change.entry} {change.fields} base {change.base}: the server said "
            f"{first[change.id].status}, the merge rules say {reference.status[change.id]}"
        )
    assert set(final) == set(reference.entries), "the server holds other entries than its changes make"
    for entry_id, model in reference.entries.items():
        entry = final[entry_id]
        assert (entry.fields, entry.stamps, entry.deleted) == (model.fields, model.stamps, model.deleted), (
            f"entry {entry_id} on the server differs from the merge rules"
        )

    # 4. Every concurrent, differing pair of edits of one field sits in the conflict queue with
    #    both values, and the queue holds nothing the rules do not explain.
    stored: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for entry_id, name, candidates, resolved_at in conflict_rows:
        assert resolved_at is None, "nobody resolved anything in this test"
        stored[(entry_id, name)] |= {(key(c["value"]), c["stamp"]) for c in candidates}
    for where, candidates in reference.conflicts.items():
        missing = candidates - stored.get(where, set())
        assert not missing, f"conflict on {where} misses candidates {missing}; stored {stored.get(where)}"
    for where, candidates in stored.items():
        extra = candidates - reference.conflicts.get(where, set())
        assert not extra, f"conflict on {where} holds candidates no concurrent edit explains: {extra}"
    for entry_id, entry in final.items():
        open_fields = sorted(name for (e, name) in stored if e == entry_id)
        assert entry.conflicts == open_fields, f"entry {entry_id} lists conflicts {entry.conflicts}"

    # 5. No change the server took is missing: each field it set is in the final entry, or a
    #    candidate of a conflict, or was superseded by a later edit of the same device or by an
    #    edit made from it (a base at least as new); an acknowledged delete leaves a tombstone.
    for change in taken:
        phone, index, _ = made[change.id]
        stamp = first[change.id].stamp
        entry = final[change.entry]
        if change.op == "delete":
            assert entry.deleted, f"{phone.label}'s delete of {change.entry} was taken but the entry lives"
            continue
        fields, _ = upgraded(change)
        for name, value in fields.items():
            if entry.fields.get(name) == value or (key(value), stamp) in stored.get((change.entry, name), ()):
                continue
            later = [
                c for c in taken + staff_edits
                if c.entry == change.entry and name in upgraded(c)[0] and c.id != change.id
                and ((c.id in made and made[c.id][0] is phone and made[c.id][1] > index)
                     or (upgraded(c)[1].get(name) or "") >= stamp)
            ]
            assert later, (
                f"{phone.label}'s change #{index} set {change.entry}.{name}={value!r} (stamp {stamp}, "
                f"{first[change.id].status}); the entry has {entry.fields.get(name)!r}, no conflict holds it "
                f"and no later edit superseded it"
            )

    # 6. Every phone counts the stock of its site as the whole ledger does: the last stocktake
    #    plus the movements after it, transfers in from the other site included (§6 M6).
    ledger_now = [e.fields for e in final.values() if e.kind == "supply" and not e.deleted]
    for phone in phones:
        held = [e.fields for e in phone.replica.entries.values() if e.kind == "supply" and not e.deleted]
        for item in ITEMS:
            counted, truth = stock_at(held, phone.site, item), stock_at(ledger_now, phone.site, item)
            assert counted == truth, (
                f"phone {phone.label} counts {counted} {item} at its site, the whole ledger {truth}"
            )


def check_clock(change: Change, arrival: Arrival, result: Result) -> None:
    """§7 K3: a stamp the wrong clock cannot have made is stored as sent; K3a: none is stored in
    the future. `arrival.at` is the real time the body was sent; the server's now is later."""
    if result.stamp is None:
        return
    sent, stored = parse(change.stamp).wall, parse(result.stamp).wall
    assert stored <= now() + TOLERANCE, f"{change.id} was stored with a stamp in the future"
    device_time = arrival.body["device_time"]
    offset = arrival.at - device_time  # about what the server measured: years, or within the tolerance
    behind_and_not_made_by_it = offset > DAY and device_time < sent <= arrival.at
    ahead_and_not_made_by_it = offset < -DAY and sent <= arrival.at
    if behind_and_not_made_by_it or ahead_and_not_made_by_it:
        assert result.stamp == change.stamp, (
            f"{change.id}: stamp {change.stamp} came from the phone's remembered or right clock, not the "
            f"one {offset} ms off that sent it, yet was stored as {result.stamp}"
        )


def stock_at(movements: list[dict[str, Any]], site: str, item: str) -> float:
    """The site's stock of an item from its own movements and the transfers to it."""
    return ledger.stock(
        [m for m in movements if m["item"] == item
         and (m["site"] == site or (m["movement"] == "transferred" and m.get("to_site") == site))],
        site,
    )


# -- the property -------------------------------------------------------------------------------

ACTIONS = ["edit", "shift", "both", "stocktake", "delete", "edit", "supply", "both", "request", "checkin",
           "jump", "staff", "edit", "jump", "staff", "edit"]
FAULTS = ["ok", "offline", "cut_off", "ok", "duplicated", "lost", "ok", "duplicated_first_heard"]
TURNS = [0, 1, 2, 3, 0, 1]  # a round: person A's two phones get two turns each


@given(data=st.data())
def test_phones_converge_whatever_the_network_does(lab: Lab, data: st.DataObject) -> None:
    """In rounds, each phone (in a drawn order) makes a few offline edits and syncs over a link
    that may lose, duplicate or cut off the request (or stays offline); now and then an old
    request arrives again, late. Clocks jump by years; some are put right just before a sync;
    staff edit shifts."""
    draw = data.draw
    example = Example.start(lab, draw(st.lists(st.sampled_from(SKEWS), min_size=4, max_size=4)))
    for _ in range(draw(st.integers(2, 3), label="rounds")):
        for index in draw(st.permutations(TURNS)):
            phone = example.phones[index]
            for _ in range(draw(st.integers(0, 2))):
                getattr(example, draw(st.sampled_from(ACTIONS)))(phone, draw)
            fault = draw(st.sampled_from(FAULTS))
            if fault != "offline":
                if draw(st.integers(0, 3)) == 3:  # the phone puts its clock right as signal returns
                    phone.skew = 0
                phone.sync(fault)
            if draw(st.integers(0, 3)) == 3:  # some phone's old request arrives again, late
                example.phones[draw(st.integers(0, 3))].replay(draw(st.integers(0, 20)))
    check(example, example.settle())


# -- plain examples -----------------------------------------------------------------------------


@pytest.fixture
def slow_world(tmp_path) -> Iterator[World]:
    """The app with phones whose clocks read days apart: the server's tolerance is set wide
    enough that it corrects nothing (§7), so the stamps keep the days the phones say."""
    with World.start(sqlite_url(tmp_path), clock_tolerance_ms=5 * 365 * DAY) as world:
        yield world


def new_phone(world: World, person: str = "zhangwei") -> tuple[Replica, HttpTransport]:
    device, token = world.session(lambda session: enrolled(session, person))
    return Replica(device=device, person=person), HttpTransport(world.client, token)


def open_conflicts(world: World, entry_id: str) -> list[tuple[str, list[dict]]]:
    async def work(session: AsyncSession):
        rows = await session.execute(
            select(Conflict.field, Conflict.candidates)
            .where(Conflict.entry_id == entry_id, Conflict.resolved_at.is_(None))
            .order_by(Conflict.field)
        )
        return [tuple(row) for row in rows]

    return world.session(work)


def test_an_edit_made_offline_weeks_ago_does_not_overwrite_a_newer_one(slow_world: World) -> None:
    (a, link_a), (b, link_b), (reader, link_r) = (new_phone(slow_world) for _ in range(3))
    day = lambda n: START + n * DAY  # noqa: E731 - the calendar both phones' clocks read

    a.put("s1", "shift", {"site": "dongfeng", "post": "东门卡口", "start": day(30), "kind": "day"}, day(0))
    sync_to_the_end(a, link_a, lambda: day(0))
    sync_to_the_end(b, link_b, lambda: day(0))
    # Phone two goes offline for three weeks; on day 2 it moves the shift to the west gate.
    stale = b.put("s1", "shift", {"post": "西门"}, day(2))
    # Meanwhile, on day 10, phone one moves it to the north gate and syncs.
    newer = a.put("s1", "shift", {"post": "北门"}, day(10))
    sync_to_the_end(a, link_a, lambda: day(10))
    # On day 21 phone two is back.
    answer = link_b(b.request(day(21)))
    b.receive(answer, day(21))
    sync_to_the_end(b, link_b, lambda: day(21))
    sync_to_the_end(reader, link_r, lambda: day(21))

    assert [r.status for r in answer.results] == ["conflict"]
    entry = reader.entries["s1"]
    assert entry.fields["post"] == "北门", "the edit based on a three-week-old value overwrote the newer one"
    assert entry.stamps["post"] == newer.stamp
    assert entry.conflicts == ["post"]
    assert b.entries["s1"] == entry and b.view("s1")["fields"]["post"] == "北门"
    [(name, candidates)] = open_conflicts(slow_world, "s1")
    assert name == "post"
    assert sorted((c["value"], c["stamp"], c["device"]) for c in candidates) == sorted(
        [("北门", newer.stamp, a.device), ("西门", stale.stamp, b.device)]
    )


def test_a_rejected_change_whose_answer_was_lost_stays_rejected(lab: Lab) -> None:
    """P4: a rejected change stays in the outbox with its errors. When the answer that said so
    was lost, the retry answers `duplicate` with `first: rejected`: still a rejection."""
    phone, link = new_phone(lab.world)
    bad = phone.put(f"bad{next(lab.tags)}", "shift",
                    {"site": "dongfeng", "post": "东门卡口", "start": START, "end": START - HOUR}, now())
    link(phone.request(now()))  # the server rejects it; the answer never reaches the phone

    answer = link(phone.request(now()))
    phone.receive(answer, now())

    assert [(r.status, r.first) for r in answer.results] == [("duplicate", "rejected")]
    assert [c.id for c in phone.outbox] == [bad.id], "the rejected change vanished from the outbox"
    assert [e.code for e in phone.rejected[bad.id].errors] == ["end_before_start"]


def test_a_recount_in_the_same_batch_follows_the_count_it_names(lab: Lab) -> None:
    """M6: a stocktake that names the latest stocktake in `follows` is not concurrent with it,
    also when that latest one arrives earlier in the same batch."""
    tag = f"r{next(lab.tags)}"
    counter, link_c = new_phone(lab.world)
    phone, link = new_phone(lab.world)

    def count(replica: Replica, entry: str, quantity: int, follows: str | None) -> None:
        replica.put(entry, "supply", {"site": "dongfeng", "item": tag, "unit": "箱", "movement": "stocktake",
                                      "quantity": quantity, "at": START, "follows": follows}, now())

    count(counter, f"{tag}0", 10, None)
    sync_to_the_end(counter, link_c)
    sync_to_the_end(phone, link)
    count(phone, f"{tag}1", 11, f"{tag}0")  # a count that knew the last one
    count(phone, f"{tag}2", 12, f"{tag}1")  # and a recount, offline, in the same outbox

    answer = link(phone.request(now()))

    assert [r.status for r in answer.results] == ["applied", "applied"], (
        "the recount was compared with an older stocktake than the one it follows"
    )
    assert open_conflicts(lab.world, f"{tag}2") == []


def test_a_transfer_reaches_the_phones_of_the_site_it_goes_to(lab: Lab) -> None:
    """M6: stock at a site counts the transfers to it (sync/ledger.py, the phone's stock view),
    so the receiving site's phones must get them."""
    n = next(lab.tags)
    item, entry = f"口罩{n}", f"transfer{n}"
    sender, link_s = new_phone(lab.world, "zhangwei")  # dongfeng
    receiver, link_r = new_phone(lab.world, "lina")  # chengnan
    transfer = {"site": "dongfeng", "item": item, "unit": "箱", "movement": "transferred", "quantity": 5,
                "to_site": "chengnan", "at": START}
    sender.put(entry, "supply", transfer, now())
    sync_to_the_end(sender, link_s)

    sync_to_the_end(receiver, link_r)

    held = [e.fields for e in receiver.entries.values() if e.kind == "supply"]
    assert sender.outbox == [] and entry in sender.entries
    assert entry in receiver.entries, "chengnan's phones never get the transfer to chengnan"
    assert stock_at(held, "chengnan", item) == 5
