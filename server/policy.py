"""Who may read and write what: the one place every read and write is checked.

Handlers and services ask this module; they do not repeat its rules. The written table of
roles is docs/roles.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar.exceptions import PermissionDeniedException
from sqlalchemy import ColumnElement, and_, bindparam, exists, or_, true
from sqlalchemy.orm import aliased

from server.models import Entry, Site
from sync.entries import KINDS, SITE_SHARED_KINDS, WELLBEING_KINDS, FieldError, Kind

WORKER_ROLES = frozenset({"worker", "lead"})
STAFF_ROLES = frozenset({"staff", "care", "admin"})
DASHBOARD_ROLES = frozenset({"lead", "staff", "care", "admin"})

# What each role may do on the dashboard. docs/roles.md is this table in words; a test checks
# that they agree. Wellbeing details are for care staff only (and the worker, on the phone).
ACTIONS: dict[str, frozenset[str]] = {
    "account.self": DASHBOARD_ROLES,
    # The first page: each part only for a role that reads the page it sums up (services/today.py).
    "overview.read": DASHBOARD_ROLES,
    "reports.read": frozenset({"staff", "admin"}),
    "shifts.read": frozenset({"lead", "staff", "care", "admin"}),
    "shifts.approve": frozenset({"staff", "admin"}),
    # Of the conflict queue, care staff get the wellbeing conflicts and only those; staff and
    # administrators everything else, and a count of the wellbeing ones (`conflict_kinds`).
    "conflicts.read": frozenset({"staff", "care", "admin"}),
    "conflicts.resolve": frozenset({"staff", "care", "admin"}),
    "wellbeing.counts": frozenset({"lead", "staff", "care", "admin"}),
    "wellbeing.details": frozenset({"care"}),
    "followups.write": frozenset({"care"}),
    "people.read": frozenset({"staff", "admin"}),
    "people.enrol": frozenset({"staff", "admin"}),
    "people.manage": frozenset({"admin"}),
    # A phone's exported file, carried by hand, applied as that phone's sync (services/carried.py).
    "carried.upload": frozenset({"staff", "admin"}),
    "sites.manage": frozenset({"admin"}),
    "accounts.manage": frozenset({"admin"}),
    "subsidy.read": frozenset({"staff", "admin"}),
    "supplies.read": frozenset({"lead", "staff", "admin"}),
    "requests.decide": frozenset({"staff", "admin"}),
    "deployment.manage": frozenset({"admin"}),
    "audit.read": frozenset({"admin"}),
}


@dataclass(frozen=True)
class Principal:
    """Who is asking: a phone (device_id set) or a staff member on the dashboard."""

    person_id: str
    name: str
    role: str
    site_id: str | None
    township: str
    device_id: str | None = None
    # When this phone was enrolled: it sees wellbeing made from then on (docs/roles.md).
    enrolled_at: datetime | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


def allowed(who: Principal | None, action: str) -> bool:
    return who is not None and who.role in ACTIONS[action]


class Forbidden(PermissionDeniedException):
    """A service refusing a caller the policy does not allow (a 403, whoever called it)."""


def require(who: Principal | None, action: str) -> Principal:
    """Services call this themselves rather than trust that their caller asked the policy."""
    if not allowed(who, action):
        raise Forbidden("您的角色不能这样做 / your role may not do this")
    return who


def visible_sites(who: Principal) -> ColumnElement[bool]:
    """The sites a dashboard user sees: a lead their own, everyone else their township's."""
    if who.role == "lead":
        return Site.id == who.site_id
    if who.township == "*":  # the development-only administrator
        return true()
    return Site.township == who.township


def conflict_kinds(who: Principal) -> frozenset[str]:
    """The kinds of entry whose conflicts `who` lists and resolves: a wellbeing conflict shows
    a check-in's contents, so it goes to care staff only."""
    if allowed(who, "wellbeing.details"):
        return WELLBEING_KINDS
    return frozenset(KINDS) - WELLBEING_KINDS


# What a phone hears about an entry id it may not write, whether or not the id exists.
NOT_YOURS = FieldError("entry", "forbidden", "you have no entry with this id")


def device_write_errors(
    who: Principal, kind: Kind, op: str, fields: dict[str, Any], current: Entry | None,
    to_site: Site | None = None, claimable: bool = True,
) -> list[FieldError]:
    """What stops a phone's change (docs/sync-protocol.md §6 M6-M7). `to_site` is the site a
    transfer names, as found in the database (None: there is no such site). `claimable`: a new
    entry may take this id; an id that is a stamp of another person's phone may not (§4 "Ids")."""
    if not kind.device_writable:
        return [FieldError("kind", "forbidden", f"{kind.name} entries are written by staff")]
    if current is not None and current.author_id != who.person_id:
        return [NOT_YOURS]  # the same answer as for an id nobody has used (§5 S3)
    if current is None and not claimable:
        return [NOT_YOURS]  # the same answer as above: whether it is used stays unknown
    if current is not None and current.kind in WELLBEING_KINDS and not _made_here_or_since(who, current):
        return [NOT_YOURS]  # wellbeing this phone may not see, it may not write either
    if current is not None and current.kind != kind.name:
        return [FieldError("kind", "invalid", f"this entry is a {current.kind}")]
    if current is not None and kind.immutable and op == "put":
        return [
            FieldError("entry", "immutable", "a movement cannot be changed; delete it and record it again")
        ]
    errors = [
        FieldError(name, "staff_only", f"only township staff set {name}")
        for name in fields
        if name in kind.staff_fields
    ]
    if "site" in fields and fields["site"] != who.site_id:
        errors.append(FieldError("site", "site", "entries can only be made for your own site"))
    if fields.get("to_site") is not None:
        errors += _transfer_errors(who, fields["to_site"], to_site)
    return errors


def _transfer_errors(who: Principal, named: str, target: Site | None) -> list[FieldError]:
    """A transfer raises the stock of the site it names: only another open site of the worker's
    own township may be named. A missing, retired and another township's site answer alike, so
    that a phone learns nothing of other townships."""
    open_here = target is not None and target.township == who.township and target.retired_at is None
    if not open_here or target.id != named:
        return [FieldError("to_site", "forbidden", f"your township has no site {named!r}")]
    if target.id == who.site_id:
        return [FieldError("to_site", "own_site", "a transfer goes to another site, not your own")]
    return []


# A phone's scope names its values (`scope_values`) instead of holding them: one statement
# serves every phone of a shape, and run without its phone's values it fails, not reads another's.
_PERSON, _SITE, _DEVICE, _SINCE = (bindparam(f"scope_{name}", required=True)
                                   for name in ("person", "site", "device", "since"))


def device_scope(has_site: bool) -> list[ColumnElement[bool]]:
    """Scoped pulls: a phone sees its person's entries and its site's supply ledger, including
    transfers other sites sent it (they count in its stock). `has_site`: whether its person
    has a site; the phone's own values are given at execution (`scope_values`).

    Of its person's wellbeing it sees only what was made on it or after it was enrolled, and
    the follow-ups on those check-ins: a code issued by staff must not open a worker's
    wellbeing history (docs/roles.md, "A new phone and wellbeing").

    The scope is the union of the parts returned. They are disjoint, and each begins with
    equalities an index of entries pairs with seq, so a pull reads each part as a range of seq
    and merges them (sync_pull.pull) rather than reading and sorting all of them."""
    mine = Entry.subject_id == _PERSON
    parts = [and_(mine, or_(Entry.kind.not_in(WELLBEING_KINDS), _wellbeing_of_this_phone()))]
    if not has_site:
        return parts
    others = Entry.subject_id != _PERSON  # the person's own are all in the first part
    parts += [and_(Entry.kind == kind, Entry.site_id == _SITE, others) for kind in sorted(SITE_SHARED_KINDS)]
    sent_here = and_(Entry.to_site == _SITE, Entry.kind.in_(SITE_SHARED_KINDS), Entry.site_id != _SITE)
    return [*parts, and_(sent_here, others)]


def scope_values(who: Principal) -> dict[str, Any]:
    """The values `device_scope(who.site_id is not None)` is run with, for this phone."""
    return {"scope_person": who.person_id, "scope_site": who.site_id, "scope_device": who.device_id,
            "scope_since": who.enrolled_at or datetime.max.replace(tzinfo=UTC)}  # unknown: only its own


def _made_here_or_since(who: Principal, entry: Entry) -> bool:
    """`new_here` below, for one entry in hand."""
    made = entry.created_at if entry.created_at.tzinfo else entry.created_at.replace(tzinfo=UTC)
    return entry.device_id == who.device_id or (who.enrolled_at is not None and made >= who.enrolled_at)


def _wellbeing_of_this_phone() -> ColumnElement[bool]:
    """Check-ins made on this phone or since its enrolment; follow-ups on such check-ins."""

    def new_here(row) -> ColumnElement[bool]:  # noqa: ANN001 - Entry or an alias of it
        return or_(row.device_id == _DEVICE, row.created_at >= _SINCE)

    checkin = aliased(Entry)
    followed = exists().where(
        checkin.id == Entry.fields["checkin"].as_string(), checkin.kind == "checkin",
        checkin.subject_id == _PERSON, new_here(checkin),
    )
    return or_(and_(Entry.kind == "checkin", new_here(Entry)), and_(Entry.kind == "followup", followed))
