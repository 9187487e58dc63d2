"""Tables of the recording store. Times are epoch seconds (UTC) as floats: interval arithmetic is all
they are used for, and they compare the same in SQLite and PostgreSQL.

The report reads ``recording_covered``, ``recording_asked`` and ``recording_channels`` through SQL
(it does not import this package); the alembic migrations in recording/migrations must match.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Covered(Base):
    """Time for which the recorder held video of the camera, merged, as seen (kept after roll-off)."""

    __tablename__ = "recording_covered"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera: Mapped[str] = mapped_column(String(100))
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    __table_args__ = (Index("ix_recording_covered_camera_start", "camera", "start"),)


class Asked(Base):
    """Time for which the recorder answered for the camera's channel: the rest is unknown, not a gap."""

    __tablename__ = "recording_asked"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera: Mapped[str] = mapped_column(String(100))
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    __table_args__ = (Index("ix_recording_asked_camera_start", "camera", "start"),)


class ChannelState(Base):
    """Per camera: its recorder and channel at the last collection, and the oldest recording held."""

    __tablename__ = "recording_channels"
    camera: Mapped[str] = mapped_column(String(100), primary_key=True)
    recorder: Mapped[str] = mapped_column(String(100))
    channel: Mapped[int] = mapped_column(Integer)
    oldest: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str] = mapped_column(String(20), default="")
    updated: Mapped[float] = mapped_column(Float)


class RecorderState(Base):
    __tablename__ = "recording_recorders"
    recorder: Mapped[str] = mapped_column(String(100), primary_key=True)
    dialect: Mapped[str] = mapped_column(String(20))
    at: Mapped[float] = mapped_column(Float)
    up: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str] = mapped_column(String(20), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    clock_offset: Mapped[float | None] = mapped_column(Float, nullable=True)
    duration: Mapped[float] = mapped_column(Float, default=0.0)


class DiskState(Base):
    __tablename__ = "recording_disks"
    recorder: Mapped[str] = mapped_column(String(100), primary_key=True)
    disk: Mapped[str] = mapped_column(String(100), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    raw: Mapped[str] = mapped_column(String(40))
    capacity_bytes: Mapped[float | None] = mapped_column(Float, nullable=True)
    free_bytes: Mapped[float | None] = mapped_column(Float, nullable=True)
    at: Mapped[float] = mapped_column(Float)
