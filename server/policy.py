"""Who may read and write what: the one place every read and write is checked.

Handlers and services ask this module; they do not repeat its rules. The written table of
roles is docs/roles.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, true

from server.models import Entry, Site
from sync.entries import SITE_SHARED_KINDS, FieldError, Kind

WORKER_ROLES = frozenset({"worker", "lead"})
STAFF_ROLES = frozenset({"staff", "care", "admin"})
DASHBOARD_ROLES = frozenset({"lead", "staff", "care", "admin"})

# What each role may do on the dashboard. docs/roles.md is this table in words; a test checks
# that they agree. Wellbeing details are for care staff only (and the worker, on the phone).
ACTIONS: dict[str, frozenset[str]] = {
    "account.self": DASHBOARD_ROLES,
    "shifts.read": frozenset({"lead", "staff", "care", "admin"}),
    "shifts.approve": frozenset({"staff", "admin"}),
    "conflicts.read": frozenset({"staff", "admin"}),
    "conflicts.resolve": frozenset({"staff", "admin"}),
    "wellbeing.counts": frozenset({"lead", "staff", "care", "admin"}),
    "wellbeing.details": frozenset({"care"}),
    "followups.write": frozenset({"care"}),
    "people.read": frozenset({"staff", "admin"}),
    "people.enrol": frozenset({"staff", "admin"}),
    "people.manage": frozenset({"admin"}),
    "subsidy.read": frozenset({"staff", "admin"}),
    "supplies.read": frozenset({"lead", "staff", "admin"}),
    "requests.decide": frozenset({"staff", "admin"}),
    "deployment.manage": frozenset({"admin"}),
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

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


def allowed(who: Principal | None, action: str) -> bool:
    return who is not None and who.role in ACTIONS[action]


def visible_sites(who: Principal) -> ColumnElement[bool]:
    """The sites a dashboard user sees: a lead their own, everyone else their township's."""
    if who.role == "lead":
        return Site.id == who.site_id
    if who.township == "*":  # the development-only administrator
        return true()
    return Site.township == who.township


def device_write_errors(
    who: Principal, kind: Kind, op: str, fields: dict[str, Any], current: Entry | None,
    to_site: Site | None = None,
) -> list[FieldError]:
    """What stops a phone's change (docs/sync-protocol.md §6 M6-M7). `to_site` is the site a
    transfer names, as found in the database (None: there is no such site)."""
    if not kind.device_writable:
        return [FieldError("kind", "forbidden", f"{kind.name} entries are written by staff")]
    if current is not None and current.author_id != who.person_id:
        return [FieldError("entry", "forbidden", "this entry belongs to someone else")]
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
    """A transfer raises the stock of the site it names: only another site of the worker's own
    township may be named. A missing site and another township's answer alike, so that a phone
    learns nothing of other townships."""
    if target is None or target.id != named or target.township != who.township:
        return [FieldError("to_site", "forbidden", f"your township has no site {named!r}")]
    if target.id == who.site_id:
        return [FieldError("to_site", "own_site", "a transfer goes to another site, not your own")]
    return []


def visible_to_device(who: Principal) -> ColumnElement[bool]:
    """Scoped pulls: a phone sees its person's entries and its site's supply ledger, including
    transfers other sites sent it (they count in its stock)."""
    own = Entry.subject_id == who.person_id
    if who.site_id is None:
        return own
    ours = or_(Entry.site_id == who.site_id, Entry.fields["to_site"].as_string() == who.site_id)
    return or_(own, and_(Entry.kind.in_(SITE_SHARED_KINDS), ours))

