"""Demo data, development only (`nuanxin serve --demo`; a production start refuses it).

`seed` is the small world the tests build on: two sites, four people. Keep it stable.

`seed_living` adds, once, a township at work for a newcomer's first look: more sites, tens of
workers with phones, two weeks of shifts, supply movements and check-ins up to now (in the
deployment's time zone, so it looks current), staff approvals, a few open conflicts, rest
alerts, low stock and urgent reports. History is made by phone replicas (`sync.replica`) and
written through the sync push, staff edits and care follow-ups the app itself uses, so seq,
stamps, flags and derived columns are what real use would give. It is seeded: the same `now`
gives the same township.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Device, Entry, Person, Site, StaffAccount
from server.policy import Principal
from server.services import sync_push
from server.services.accounts import create_account, hash_password
from server.services.clock_correction import Correction
from server.services.enrolment import DEVICE_ALPHABET, digest, issue_code, phone_principal
from server.services.server_clock import ServerClock
from server.services.staff_service import approve_shift, staff_edit
from server.services.wellbeing import add_followup
from sync.constants import CLOCK_TOLERANCE_MS
from sync.protocol import Entry as WireEntry
from sync.protocol import SyncResponse, request_decoder
from sync.replica import Replica

TOWNSHIP = "城关镇"
SITES = [("dongfeng", "东风村"), ("chengnan", "城南社区")]
PEOPLE = [
    ("zhangwei", "张伟", "worker", "dongfeng"),
    ("lina", "李娜", "worker", "chengnan"),
    ("wangfang", "王芳", "staff", None),
    ("chenjing", "陈静", "care", None),
]


async def seed(session: AsyncSession) -> bool:
    """Add the demo sites and people once; False if the database already has sites."""
    if await session.scalar(select(func.count()).select_from(Site)):
        return False
    session.add_all(Site(id=i, name=n, township=TOWNSHIP) for i, n in SITES)
    await session.flush()
    session.add_all(Person(id=i, name=n, role=r, site_id=s, township=TOWNSHIP) for i, n, r, s in PEOPLE)
    await session.flush()
    return True


# -- the living demo ------------------------------------------------------------------------

MORE_SITES = [("xishan", "西山村"), ("beiguan", "北关社区"), ("nanhu", "南湖村")]
MORE_PEOPLE = [
    ("zhaolei", "赵磊", "lead", "dongfeng"),
    ("zhouqiang", "周强", "admin", None),
    *((f"w{n:02d}", name, "worker", site) for n, (name, site) in enumerate([
        ("刘洋", "dongfeng"), ("杨帆", "dongfeng"), ("黄敏", "dongfeng"), ("吴军", "dongfeng"),
        ("徐丽", "chengnan"), ("孙浩", "chengnan"), ("胡静", "chengnan"), ("朱勇", "chengnan"),
        ("高峰", "xishan"), ("林霞", "xishan"), ("何涛", "xishan"), ("郭婷", "xishan"), ("马超", "xishan"),
        ("罗琳", "beiguan"), ("梁斌", "beiguan"), ("宋佳", "beiguan"), ("郑凯", "beiguan"), ("谢芳", "beiguan"),
        ("韩冰", "nanhu"), ("唐亮", "nanhu"), ("冯雪", "nanhu"), ("董明", "nanhu"), ("萧红", "nanhu"),
    ], start=1)),
]
# Who signs in to the dashboard as each role (username: person). Passwords are made afresh at
# every demo start and printed: a demo database served later in production has no known password.
ACCOUNTS = {"admin": "zhouqiang", "staff": "wangfang", "care": "chenjing", "lead": "zhaolei"}
CODES_FOR = ("zhangwei", "lina", "zhaolei")  # enrolment codes printed at start (others: /township/people)

DAYS = 14  # two weeks of history: enough to look lived in, quick to make at the first start
POSTS = {
    "dongfeng": ["东门卡口", "村委会值班室"], "chengnan": ["南门岗亭", "小区北门"], "xishan": ["西山路口", "村卫生室"],
    "beiguan": ["北关菜市场", "社区服务站"], "nanhu": ["湖边卡口", "村口检查站"],
}
ITEMS = {"mask": ("医用外科口罩", "个"), "gloves": ("一次性手套", "副"), "suit": ("防护服", "件"),
         "disinfectant": ("消毒液", "瓶")}
HOUR, DAY = 3_600_000, 86_400_000
STAFF = Principal("wangfang", "王芳", "staff", None, TOWNSHIP)
CARE = Principal("chenjing", "陈静", "care", None, TOWNSHIP)


@dataclass
class _Phone:
    """One demo worker's phone: a replica of the protocol, pushing in-process."""

    who: Principal
    replica: Replica

    def put(self, kind: str, fields: dict, at: int, entry: str | None = None) -> str:
        entry = entry or self.replica.new_id()
        self.replica.put(entry, kind, fields, at)
        return entry

    async def sync(self, session: AsyncSession, clock: ServerClock, now: int) -> list:
        """Push the outbox as POST /api/sync would (the same decoding and push)."""
        if not self.replica.pending:
            return []
        request = request_decoder.decode(msgspec.json.encode(self.replica.request(now, app="demo")))
        correction = Correction(offset=0, now=now, tolerance=CLOCK_TOLERANCE_MS)
        results, _ = await sync_push.push(session, self.who, request, correction, clock)
        self.replica.receive(SyncResponse(results, [], self.replica.cursor, False, now, 0), now)
        return results

    async def pull(self, session: AsyncSession, entry_id: str) -> None:
        """What a pull would give this phone of one entry (enough to edit it from)."""
        row = await session.get(Entry, entry_id)
        self.replica.entries[entry_id] = WireEntry(
            id=row.id, kind=row.kind, schema=row.schema, site=row.site_id, author=row.author_id,
            device=row.device_id, fields=dict(row.fields), stamps=dict(row.stamps), seq=row.seq,
        )


def _local(zone: ZoneInfo, day: datetime, hour: float) -> int:
    moment = day.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(hours=hour)
    return int(moment.replace(tzinfo=zone).timestamp() * 1000)


async def _phone(session: AsyncSession, rng: random.Random, person: Person, enrolled: int) -> _Phone:
    device = Device(
        id="".join(rng.choice(DEVICE_ALPHABET) for _ in range(10)), person_id=person.id,
        token_hash=digest(secrets.token_urlsafe(32)),  # nobody holds it: enrol a phone for real
        created_at=datetime.fromtimestamp(enrolled / 1000, UTC), sms_key=secrets.token_urlsafe(32),
    )
    session.add(device)
    await session.flush()
    numbers = iter(range(1_000_000))
    replica = Replica(device=device.id, new_id=lambda: _seeded_uuid(device.id, next(numbers)))
    return _Phone(phone_principal(device, person), replica)


def _seeded_uuid(salt: str, n: int) -> str:
    """A UUID-shaped id that follows from the seed, so that the same `now` makes the same township."""
    h = hashlib.sha256(f"{salt}:{n}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


async def seed_living(session: AsyncSession, timezone: str, now_ms: int) -> bool:
    """The living township, once; False if it is there already (its admin exists), or if the
    database holds sites of its own that are not the demo's."""
    await seed(session)
    if await session.get(Person, "zhouqiang") is not None or await session.get(Site, "dongfeng") is None:
        return False
    session.add_all(Site(id=i, name=n, township=TOWNSHIP) for i, n in MORE_SITES)
    await session.flush()
    session.add_all(Person(id=i, name=n, role=r, site_id=s, township=TOWNSHIP) for i, n, r, s in MORE_PEOPLE)
    await session.flush()
    await _History(session, ZoneInfo(timezone), now_ms).make()
    return True


class _History:
    def __init__(self, session: AsyncSession, zone: ZoneInfo, now: int) -> None:
        self.session, self.zone, self.now = session, zone, now
        self.rng = random.Random(2020)
        self.clock = ServerClock("demo")
        self.today = datetime.fromtimestamp(now / 1000, zone).replace(tzinfo=None)
        self.events: list[tuple[int, int, object]] = []  # (time, order, action)
        self.phones: dict[str, _Phone] = {}
        self.shifts: list[tuple[str, int]] = []  # (entry, end)
        self.talks: list[tuple[str, int]] = []  # check-ins asking to talk
        self.openings: dict[tuple[str, str], str] = {}  # (site, item): the first stocktake

    def day(self, back: int) -> datetime:
        return self.today - timedelta(days=back)

    def at(self, when: int, action) -> None:  # noqa: ANN001 - a callable of the phone replicas
        if when <= self.now:
            self.events.append((when, len(self.events), action))

    async def make(self) -> None:
        s = self.session
        workers = list(await s.scalars(
            select(Person).where(Person.role.in_(("worker", "lead"))).order_by(Person.id)))
        enrolled = _local(self.zone, self.day(DAYS + 1), 9)
        for person in workers:
            self.phones[person.id] = await _phone(s, self.rng, person, enrolled)
        for person in workers:
            self.plan_shifts(person)
            self.plan_checkins(person)
        by_site: dict[str, list[_Phone]] = {}
        for person in workers:
            by_site.setdefault(person.site_id, []).append(self.phones[person.id])
        for site, phones in by_site.items():
            self.plan_supplies(site, phones)
        self.plan_urgent()
        await self.play()
        await self.conflicts()
        await self.staff_work()

    # -- what the workers do ---------------------------------------------------------------

    def plan_shifts(self, person: Person) -> None:
        phone, rng = self.phones[person.id], self.rng
        tired = person.id == "zhangwei"  # on duty every day for two weeks, and too long today
        for back in range(DAYS, -1, -1):
            if not tired and rng.random() > 0.6:
                continue
            kind = "day" if tired else rng.choices(["day", "night", "on_call"], [6, 3, 1])[0]
            begin = {"day": 8, "night": 20, "on_call": 12}[kind] + rng.choice([-0.5, 0, 0, 0.25])
            hours = {"day": 8, "night": 12, "on_call": 6}[kind]
            start = _local(self.zone, self.day(back), begin)
            end = start + int(hours * HOUR)
            if tired and back == 1:  # six hours' rest before today's shift: short of the 8-hour rule
                start, end = self.now - 27 * HOUR, self.now - 19 * HOUR
            elif tired and back == 0:  # still on duty after 13 hours: past the 12-hour rule
                start, end = self.now - 13 * HOUR, self.now + HOUR
            entry = phone.replica.new_id()
            fields = {"site": person.site_id, "post": rng.choice(POSTS[person.site_id]), "start": start, "kind": kind}
            self.at(start, lambda p=phone, e=entry, f=fields, t=start: p.put("shift", f, t, e))
            self.at(end, lambda p=phone, e=entry, t=end: p.put("shift", {"end": t}, t, e))
            if end <= self.now:
                self.shifts.append((entry, end))

    def plan_checkins(self, person: Person) -> None:
        phone, rng = self.phones[person.id], self.rng
        for back in range(DAYS, -1, -rng.choice([2, 3, 4])):
            at = _local(self.zone, self.day(back), 21 + rng.random())
            tired = person.id == "zhangwei" and back < 7
            fields = {
                "site": person.site_id, "at": at, "fatigue": 5 if tired else rng.choice([1, 2, 2, 3, 3, 4]),
                "sleep_hours": 4.5 if tired else rng.choice([5.5, 6, 6.5, 7, 7.5, 8]), "mood": rng.choice([2, 3, 4, 4, 5]),
                "ate": rng.random() > 0.15, "rested": rng.random() > 0.25, "talk": tired or rng.random() < 0.06,
            }
            if fields["talk"]:
                fields["note"] = "连续值班，有点撑不住了" if tired else "最近睡不好，想找人聊聊"
            entry = phone.replica.new_id()
            self.at(at, lambda p=phone, e=entry, f=fields, t=at: p.put("checkin", f, t, e))
            if fields["talk"]:
                self.talks.append((entry, at))

    def plan_supplies(self, site: str, phones: list[_Phone]) -> None:
        rng, first = self.rng, phones[0]
        start = _local(self.zone, self.day(DAYS), 9)
        for item, opening, use in (("mask", 400, 40 if site == "chengnan" else 22), ("gloves", 300, 12),
                                   ("suit", 60, 2), ("disinfectant", 40, 1.5)):
            name, unit = ITEMS[item]
            take = {"site": site, "item": name, "unit": unit, "movement": "stocktake", "quantity": opening, "at": start}
            self.openings[(site, item)] = entry = first.replica.new_id()
            self.at(start, lambda p=first, f=take, e=entry: p.put("supply", f, f["at"], e))
            for back in (DAYS - 4, DAYS - 9):  # deliveries: 城南's masks fall short, to about two days left
                at = _local(self.zone, self.day(back), 10)
                short = (use * (DAYS + 1) - opening) // 2  # two days' use left before today's
                delivered = short if (site, item) == ("chengnan", "mask") else round(use * 7 * 1.1)
                got = {"site": site, "item": name, "unit": unit, "movement": "received",
                       "quantity": delivered, "at": at, "note": "镇街配送"}
                self.at(at, lambda p=first, f=got: p.put("supply", f, f["at"]))
            every = 1 if use > 10 else 3  # masks and gloves counted daily, the rest every few days
            for back in range(DAYS - 1, -1, -every):
                at = _local(self.zone, self.day(back), 17 + rng.random())
                used = {"site": site, "item": name, "unit": unit, "movement": "used",
                        "quantity": max(1, round(use * every * rng.uniform(0.7, 1.3))), "at": at}
                if (site, item) == ("chengnan", "mask"):
                    used["quantity"] = use  # steady, so that it runs low whatever the hour
                self.at(at, lambda p=rng.choice(phones), f=used: p.put("supply", f, f["at"]))
        if site == "dongfeng":  # gloves lent to 西山村
            at = _local(self.zone, self.day(5), 11)
            lent = {"site": site, "item": ITEMS["gloves"][0], "unit": ITEMS["gloves"][1], "movement": "transferred",
                    "quantity": 50, "to_site": "xishan", "at": at, "note": "借给西山村"}
            self.at(at, lambda p=first, f=lent: p.put("supply", f, f["at"]))

    def plan_urgent(self) -> None:
        """An exposure report and an urgent request for masks, both in the last day."""
        lina, zhangwei = self.phones["lina"], self.phones["zhangwei"]
        at = self.now - 5 * HOUR
        report = {"site": "chengnan", "at": at, "type": "injury", "injury_kind": "exposure",
                  "note": "值守时与发热居民近距离接触，未戴护目镜"}
        self.at(at, lambda: lina.put("checkin", report, at))
        asked = self.now - 3 * HOUR
        need = {"site": "chengnan", "item": ITEMS["mask"][0], "unit": ITEMS["mask"][1], "quantity": 600,
                "urgent": True, "at": asked, "note": "口罩只够两天"}
        self.at(asked, lambda: lina.put("request", need, asked))
        more = self.now - 2 * DAY
        gloves = {"site": "dongfeng", "item": ITEMS["gloves"][0], "unit": ITEMS["gloves"][1], "quantity": 200,
                  "at": more}
        self.at(more, lambda: zhangwei.put("request", gloves, more))

    async def play(self) -> None:
        """Every phone syncs at 22:00 each day (and once now): its day's edits arrive together."""
        self.events.sort(key=lambda e: (e[0], e[1]))
        pending = iter(self.events)
        event = next(pending, None)
        for back in range(DAYS, -1, -1):
            sync_at = min(self.now, _local(self.zone, self.day(back), 22))
            while event is not None and event[0] <= sync_at:
                event[2]()
                event = next(pending, None)
            for phone in self.phones.values():
                await phone.sync(self.session, self.clock, sync_at)
        while event is not None:
            event[2]()
            event = next(pending, None)
        for phone in self.phones.values():
            await phone.sync(self.session, self.clock, self.now)

    async def conflicts(self) -> None:
        """Open conflicts made as they happen: two phones of one person edit one shift, and one
        check-in, offline; two workers count masks at once, neither knowing the other's count."""
        s, lina, now = self.session, self.phones["lina"], self.now
        person = await s.get(Person, "lina")
        second = await _phone(s, self.rng, person, now - 10 * DAY)  # her new phone; the old one still in use
        start = now - 20 * HOUR
        shift = lina.put("shift", {"site": "chengnan", "post": "南门岗亭", "start": start, "kind": "on_call",
                                   "end": start + 4 * HOUR}, start + 4 * HOUR)
        checkin = lina.put("checkin", {"site": "chengnan", "at": start + 5 * HOUR, "fatigue": 3, "mood": 3,
                                       "note": "还行"}, start + 5 * HOUR)
        await lina.sync(s, self.clock, now)
        for phone in (lina, second):
            await phone.pull(s, shift)
            await phone.pull(s, checkin)
        lina.put("shift", {"post": "南门岗亭（东侧）"}, now - 2 * HOUR, shift)
        second.put("shift", {"post": "小区北门"}, now - HOUR, shift)
        lina.put("checkin", {"note": "还行，就是脚疼"}, now - 2 * HOUR, checkin)
        second.put("checkin", {"note": "有点累"}, now - HOUR, checkin)
        await lina.sync(s, self.clock, now)
        await second.sync(s, self.clock, now)

        nanhu = [p for p in self.phones.values() if p.who.site_id == "nanhu"][:2]
        name, unit = ITEMS["suit"]
        for phone, counted, back in zip(nanhu, (120, 95), (4, 3)):
            at = now - back * HOUR
            phone.put("supply", {"site": "nanhu", "item": name, "unit": unit, "movement": "stocktake",
                                 "quantity": counted, "at": at, "follows": self.openings[("nanhu", "suit")]}, at)
            await phone.sync(s, self.clock, now)

    async def staff_work(self) -> None:
        """Staff approved most shifts older than three days and returned one; care staff
        followed up some check-ins that asked to talk; one request was approved."""
        s, rng = self.session, self.rng
        returned = False
        for entry, end in self.shifts:
            if end > self.now - 3 * DAY or rng.random() > 0.85:
                continue
            row = await s.get(Entry, entry)
            if row is None or row.fields.get("approval", "pending") != "pending" or row.fields.get("end") is None:
                continue
            decision, note = ("returned", "岗位填错了，请核对") if not returned else ("approved", "")
            returned = True
            await approve_shift(s, STAFF, entry, decision, note, self.clock, end + DAY)
        for entry, at in self.talks:
            if at < self.now - 2 * DAY:
                await add_followup(s, CARE, entry, "已电话联系，约好周五面谈", "周五上午到站点面谈", self.clock, at + 12 * HOUR)
        request = await s.scalar(select(Entry).where(Entry.kind == "request", Entry.site_id == "dongfeng"))
        if request is not None:
            await staff_edit(s, request, {"status": "approved"}, STAFF, self.clock, self.now - DAY)


async def demo_accounts(session: AsyncSession) -> list[tuple[str, str, str]]:
    """(role, username, password) for each role, with a fresh password each start."""
    now = datetime.now(UTC)
    found = []
    for role, person in ACCOUNTS.items():
        if await session.get(Person, person) is None:
            continue
        password = f"demo-{secrets.token_urlsafe(8)}"
        account = await session.get(StaffAccount, person)
        if account is None:
            await create_account(session, person, role, password, now)
        else:
            account.password_hash = hash_password(password)
            account.session_version += 1
            account.failed_count, account.locked_until = 0, None
        found.append((role, role, password))
    return found


async def demo_codes(session: AsyncSession) -> list[tuple[str, str]]:
    """A fresh enrolment code for the demo's first workers and its site lead, to print at start-up."""
    now = datetime.now(UTC)
    people = await session.scalars(select(Person).where(Person.id.in_(CODES_FOR)).order_by(Person.id))
    return [(p.name, await issue_code(session, p.id, now)) for p in people]
