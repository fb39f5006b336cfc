"""Deterministic workloads for the benchmarks: the same seed gives the same entries, byte for byte.

- `fields(kind, rng, site, at)`: an entry's fields as a phone fills them in, for every kind the
  benchmarks write (shifts, supply movements, check-ins, requests).
- `phones(seed, count, entries)`: the phone workload of the budget table (50 phones × 200
  entries: 60% shifts, 25% supply movements, 15% check-ins), ten phones a site.

Times are offsets in ms before a `now` given later, so a run's stamps are as fresh as its clock.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field

HOUR = 3_600_000
DAY = 24 * HOUR
MIX = (("shift", 60), ("supply", 25), ("checkin", 15))  # percent of the phone workload
POSTS = ("东门卡口", "西门卡口", "北路检查点", "核酸采样点", "物资转运站", "隔离点值守")
ITEMS = (("医用外科口罩", "个"), ("N95口罩", "个"), ("防护服", "套"), ("手套", "副"),
         ("消毒液", "瓶"), ("面屏", "个"))
MOVEMENTS = (("used", 60), ("received", 20), ("issued", 10), ("transferred", 5), ("stocktake", 5))
SHIFT_KINDS = (("day", 70), ("night", 25), ("on_call", 5))
PHONES_PER_SITE = 10
DAYS = 40  # the workload's entries were made over the last DAYS days


def pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([name for name, _ in weighted], [w for _, w in weighted])[0]


def new_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def fields(kind: str, rng: random.Random, site: str, at: int, other_sites: list[str] | None = None) -> dict:
    """What a worker at `site` fills in for one entry of `kind` made at `at` (ms)."""
    if kind == "shift":  # recorded when it ended: a shift cannot end after now
        end = at - at % HOUR
        return {"site": site, "post": rng.choice(POSTS), "start": end - rng.choice((8, 8, 8, 12)) * HOUR,
                "end": end, "kind": pick(rng, SHIFT_KINDS)}
    if kind == "supply":
        item, unit = rng.choice(ITEMS)
        movement, elsewhere = pick(rng, MOVEMENTS), [s for s in other_sites or [] if s != site]
        if movement == "transferred" and not elsewhere:
            movement = "used"  # a transfer goes to another site; there is none
        found = {"site": site, "item": item, "unit": unit, "movement": movement,
                 "quantity": rng.randint(1, 10) * (50 if movement == "received" else 5), "at": at}
        if movement == "transferred":
            found["to_site"] = rng.choice(elsewhere)
        return found
    if kind == "checkin":
        found = {"site": site, "at": at, "fatigue": rng.randint(1, 5), "sleep_hours": rng.randint(8, 18) / 2,
                 "mood": rng.randint(1, 5), "ate": rng.random() < 0.9, "rested": rng.random() < 0.7}
        if rng.random() < 0.05:
            found["talk"] = True
        return found
    if kind == "request":
        item, unit = rng.choice(ITEMS)
        return {"site": site, "item": item, "unit": unit, "quantity": rng.randint(1, 20) * 50, "at": at,
                "urgent": rng.random() < 0.1}
    raise ValueError(kind)


@dataclass
class PhoneWork:
    """One phone's person, site and the entries it will push."""

    person: str
    site: str
    items: list[tuple[str, int, int]] = field(default_factory=list)  # kind, ms before now, seed

    def entries(self, now: int, sites: list[str]) -> list[tuple[int, str, dict]]:
        """(made at, kind, fields), in the order the worker made them: a phone stamps each entry
        when it is made, so its stamps follow its times (and its ids are those stamps)."""
        made = sorted((now - ago, kind, seed) for kind, ago, seed in self.items)
        return [(at, kind, fields(kind, random.Random(seed), self.site, at, sites)) for at, kind, seed in made]


def phones(seed: int = 1, count: int = 50, entries: int = 200) -> list[PhoneWork]:
    """`count` phones of `entries` entries each, made over the last DAYS days, in the MIX."""
    rng = random.Random(seed)
    work = []
    for n in range(count):
        phone = PhoneWork(person=f"bw{n:03d}", site=f"bs{n // PHONES_PER_SITE:02d}")
        for _ in range(entries):
            ago = rng.randint(HOUR, DAYS * DAY)
            phone.items.append((pick(rng, MIX), ago, rng.getrandbits(32)))
        work.append(phone)
    return work


def sites(work: list[PhoneWork]) -> list[str]:
    return sorted({p.site for p in work})
