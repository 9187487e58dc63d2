"""SQLAlchemy models of the ticket store. Times are stored as naive UTC and read back as aware UTC.

The alembic migrations in tickets/migrations must match these tables (a test compares them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Ticket states. "merged" is terminal: the ticket's alerts moved to its root-cause ticket.
OPEN, ACKNOWLEDGED, IN_PROGRESS, RESOLVED, CLOSED, MERGED = (
    "open", "acknowledged", "in_progress", "resolved", "closed", "merged")
ACTIVE_STATES = (OPEN, ACKNOWLEDGED, IN_PROGRESS)
STATES = (OPEN, ACKNOWLEDGED, IN_PROGRESS, RESOLVED, CLOSED, MERGED)


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the ticket store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    root_key: Mapped[str] = mapped_column(String(200), index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    severity: Mapped[str] = mapped_column(String(20))
    alertname: Mapped[str] = mapped_column(String(200))
    title_zh: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(String(200), default="")
    contractor: Mapped[str] = mapped_column(String(100), index=True, default="")
    township: Mapped[str] = mapped_column(String(100), default="")
    village: Mapped[str] = mapped_column(String(100), default="")
    area: Mapped[str] = mapped_column(String(20), default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sla_start: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    quiet_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    restored_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    response_due: Mapped[datetime] = mapped_column(UTCDateTime())
    repair_due: Mapped[datetime] = mapped_column(UTCDateTime())
    response_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    repair_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    cause_category: Mapped[str] = mapped_column(String(50), default="")
    parts_replaced: Mapped[list[Any]] = mapped_column(JSON, default=list)
    repair_note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # devices the root cause takes down per the inventory (children whose alerts were inhibited)
    affected: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    # the technician a contractor manager gave the ticket to ("" = the whole zone's technicians)
    assignee: Mapped[str] = mapped_column(String(100), default="", server_default="", index=True)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # supervisor's review of a closure: "" (not closed), pending, approved
    review: Mapped[str] = mapped_column(String(20), default="", server_default="")
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class TicketAncestor(Base):
    """Ancestor keys of a ticket's root-cause alert; a later root ticket with one of them merges it."""

    __tablename__ = "ticket_ancestors"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("fingerprint", "starts_at", name="uq_alerts_fingerprint_starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    alertname: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(20))
    scope: Mapped[str] = mapped_column(String(20))
    root_key: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    labels: Mapped[dict[str, str]] = mapped_column(JSON)
    annotations: Mapped[dict[str, str]] = mapped_column(JSON)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True, nullable=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TicketEvent(Base):
    """Every transition and action on a ticket: who, when, what."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str] = mapped_column(String(20), default="")
    to_state: Mapped[str] = mapped_column(String(20), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class InboxNotification(Base):
    """Raw Alertmanager notifications, persisted before the webhook answers 200."""

    __tablename__ = "inbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # processed | failed | processing (batched, in progress)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str] = mapped_column(Text, default="")


class OutboxMessage(Base):
    """A notification to send through one channel; retried with backoff until sent or dead."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_next", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(100))
    event: Mapped[str] = mapped_column(String(30))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20))  # pending | sent | dead
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


# People who log in to the web app. Roles, most to least confined.
TECHNICIAN, MANAGER, SUPERVISOR, ADMIN = "technician", "manager", "supervisor", "admin"
PERSON_ROLES = (TECHNICIAN, MANAGER, SUPERVISOR, ADMIN)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    # company (the tickets' contractor id); empty for supervisors and admins
    contractor: Mapped[str] = mapped_column(String(100), default="")
    # townships a technician covers; empty = every zone of the company
    zones: Mapped[list[Any]] = mapped_column(JSON, default=list)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebSession(Base):
    """A logged-in browser. Only the SHA-256 of the cookie value is kept."""

    __tablename__ = "web_sessions"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Photo(Base):
    """A photo of the site, stored under the data directory with a random name."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # before | after
    filename: Mapped[str] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
