"""Database tables. Schema changes go through alembic (server/migrations)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, validates


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: DateTime(timezone=True)}


class Site(Base):
    __tablename__ = "sites"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    township: Mapped[str] = mapped_column(String(100))
    # A retired site takes no new people; its entries stay (server/services/sites.py).
    retired_at: Mapped[datetime | None]


class Person(Base):
    __tablename__ = "people"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))  # worker, lead, staff, care, admin
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id"))
    township: Mapped[str] = mapped_column(String(100))
    # Mainland mobile number, 11 digits: a roster import's key within a township (docs/decisions.md).
    phone: Mapped[str | None] = mapped_column(String(20))
    post: Mapped[str | None] = mapped_column(String(50))  # 岗位, e.g. 网格员
    # A retired person's phones get 401 and cannot enrol; their account cannot sign in; entries stay.
    retired_at: Mapped[datetime | None]

    __table_args__ = (Index("uq_people_township_phone", "township", "phone", unique=True),)


class Device(Base):
    __tablename__ = "devices"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    clock_offset_ms: Mapped[int | None] = mapped_column(BigInteger)
    last_sync_at: Mapped[datetime | None]
    app_version: Mapped[str | None] = mapped_column(String(40))
    # Keys the code of this phone's SMS reports (docs/sms.md). Kept as is: the server must
    # compute the code, so it cannot be a hash like the token.
    sms_key: Mapped[str | None] = mapped_column(String(64))
    # A name staff give the phone ("张伟的旧手机"), shown on conflict cards instead of its id.
    label: Mapped[str | None] = mapped_column(String(40))


class StaffAccount(Base):
    """A person who signs in to the dashboard. Passwords are stored as scrypt hashes."""

    __tablename__ = "staff_accounts"
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    # Bumped by sign-out and password change: every older session cookie stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # When the overview was last opened: it lists what arrived late since (services/today.py).
    last_look_at: Mapped[datetime | None]


class EnrolCode(Base):
    __tablename__ = "enrol_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    # Who issued it (a staff person, or "cli"), for the audit log.
    issued_by: Mapped[str | None] = mapped_column(String(64))
    # Tries of this code that did not spend it (another person expected): a few, then it is void.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Entry(Base):
    __tablename__ = "entries"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    schema: Mapped[int] = mapped_column(Integer)
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    author_id: Mapped[str] = mapped_column(String(64))
    # Whose entry it is for privacy and pulls: the author, or for a follow-up the worker.
    subject_id: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[str] = mapped_column(String(32))
    fields: Mapped[dict[str, Any]]
    stamps: Mapped[dict[str, Any]]
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    flags: Mapped[list[Any]]
    device_times: Mapped[dict[str, Any]]  # the phone's own values of corrected times (§7 K3)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    created_at: Mapped[datetime]  # when it was made: its first (corrected) stamp, not its arrival
    updated_at: Mapped[datetime]
    # Columns copied out of the fields so that pulls and pages can use an index; set with the
    # fields (`derived_columns` below). The site a transfer goes to:
    to_site: Mapped[str | None] = mapped_column(String(64))
    # A shift's times (milliseconds, UTC: integers sort and compare alike in both databases), its
    # approval and its kind, for the pages and the subsidy sheet that filter, order and sum on them.
    start: Mapped[int | None] = mapped_column(BigInteger)
    end: Mapped[int | None] = mapped_column(BigInteger)
    approval: Mapped[str | None] = mapped_column(String(20))
    shift_kind: Mapped[str | None] = mapped_column(String(20))  # the rate it is paid at (sync/subsidy.py)

    __table_args__ = (
        # A pull reads each part of a phone's scope as a range of seq (policy.device_scope).
        Index("ix_entries_subject_seq", "subject_id", "seq"),
        Index("ix_entries_kind_site_seq", "kind", "site_id", "seq"),
        Index("ix_entries_to_site_seq", "to_site", "seq"),
        # Shifts by time: the township's newest first, a site's, and a month's (the subsidy sheet).
        Index("ix_entries_kind_start", "kind", "start"),
        Index("ix_entries_kind_site_start", "kind", "site_id", "start"),
        # A kind's entries in the order recorded: requests, check-ins, and exports of them.
        Index("ix_entries_kind_seq", "kind", "seq"),
    )

    @validates("fields")
    def _fields_set(self, _key: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Wherever an entry's fields are written through the ORM, its derived columns follow."""
        for name, value in derived_columns(fields).items():
            setattr(self, name, value)
        return fields


def derived_columns(fields: dict[str, Any]) -> dict[str, Any]:
    """The columns copied out of an entry's fields so that pulls and pages can use an index.
    The one place that says which: ORM writes use it through `Entry._fields_set`, and bulk
    (Core) writes of entries must set these too."""
    return {column: fields.get(name) for column, name in DERIVED.items()}


# column: the field it copies. A shift's `kind` (day, night, on call) is `shift_kind`: `kind`
# is already the entry's kind.
DERIVED = {"to_site": "to_site", "start": "start", "end": "end", "approval": "approval", "shift_kind": "kind"}


class StockLevel(Base):
    """An item's stock at a site, kept up to date as its movements are written
    (server/services/stock_levels.py), so that the supplies page reads no ledger."""

    __tablename__ = "stock_levels"
    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    item: Mapped[str] = mapped_column(String(100), primary_key=True)
    unit: Mapped[str] = mapped_column(String(20))
    stock: Mapped[float] = mapped_column(Float)
    # The movements the rate of use can still count (sync.ledger.per_day): the ledger's first,
    # and those of the last RATE_DAYS days when it was written; and its latest
    # (stock_levels.kept_moves).
    rate_moves: Mapped[list[Any]]


class Conflict(Base):
    __tablename__ = "conflicts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("entries.id"), index=True)
    field: Mapped[str] = mapped_column(String(64))
    candidates: Mapped[list[Any]]
    # The value the candidates started from, recorded when the conflict opened:
    # {"stamp": ..., "value": ...}; None for a conflict opened before it was recorded.
    base: Mapped[dict[str, Any] | None]
    opened_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(64))

    # The open ones, oldest first: the conflict queue reads these, not every entry of a kind.
    __table_args__ = (Index("ix_conflicts_open", "resolved_at", "opened_at", "id"),)


class ChangeLog(Base):
    """Every change ever received, with its first result: idempotency and audit (§5 S3)."""

    __tablename__ = "changes"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(32))
    entry_id: Mapped[str] = mapped_column(String(64), index=True)
    body: Mapped[str] = mapped_column(Text)
    result: Mapped[dict[str, Any]]
    received_at: Mapped[datetime]


class SmsMessage(Base):
    """Every text the SMS gateway passed on, and what became of it (docs/sms.md)."""

    __tablename__ = "sms_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime]
    sender: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    device_id: Mapped[str | None] = mapped_column(String(32))
    change_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # applied, conflict, rejected (the change's own result), duplicate, or refused
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(300))


class DeploymentConfig(Base):
    """Per-deployment settings an administrator edits (server/services/deployment.py)."""

    __tablename__ = "deployment_config"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]]


class TownshipConfig(Base):
    """A township's own settings over the deployment's defaults (server/services/deployment.py)."""

    __tablename__ = "township_config"
    township: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict[str, Any]]


class SyncCounter(Base):
    """One row: the last `seq` handed out (§5.1)."""

    __tablename__ = "sync_counter"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class RateCounter(Base):
    """Attempts per key in a fixed window, shared by every server process (server/ratelimit.py)."""

    __tablename__ = "rate_counters"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer)


class AuditEvent(Base):
    """A security-relevant event (server/services/audit.py). Written once, never edited."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    event: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(64))  # a person id, "device:<id>", "cli" or "anonymous"
    subject: Mapped[str] = mapped_column(String(200), default="")
    township: Mapped[str] = mapped_column(String(100), default="", index=True)
    address: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]]
