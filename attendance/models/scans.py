"""Stations, badge scans and no-badge records: the append-only evidence of presence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger, ColumnElement, ForeignKey, Index, Integer, String, Text, UniqueConstraint, and_,
    select,
)
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship

from attendance.db import Base
from attendance.models.chain import Chained
from attendance.models.org import Employee, Unit


ScanId = BigInteger().with_variant(Integer, "sqlite")


class Station(Base):
    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)

    unit: Mapped[Unit] = relationship()


class Scan(Chained, Base):
    """One badge read: accepted (counts as presence) or rejected (kept for inspectors).

    ``scanned_at`` is the instant the rules use: the station's time, or the server's when a
    live scan's station clock was off by more than the allowed skew (``flags`` says so).

    A scan is withdrawn (someone else's badge shown, as its photo proves) by a later row of
    the same chain that supersedes it: rejected with reason ``withdrawn``, its ``source``
    ``withdrawal:<user>``, its ``payload`` the reason given, ``received_at`` when
    (``attendance.scans.withdraw_scan``). Only :meth:`counted` scans are presence.
    """

    __tablename__ = "scans"
    chain_fields = (
        "source", "event_id", "employee_id", "badge_serial", "status", "reason", "payload",
        "scanned_at", "station_time", "received_at", "flags", "supersedes_id",
    )

    # 64-bit on PostgreSQL: a country's scans pass 2**31 within two years (SQLite's integer
    # keys are 64-bit already).
    id: Mapped[int] = mapped_column(ScanId, primary_key=True)
    # "station:<code>" for live stations, "import:<label>" for imported files.
    source: Mapped[str] = mapped_column(String(120))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    event_id: Mapped[str] = mapped_column(String(80))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    badge_serial: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10))  # accepted | rejected
    reason: Mapped[str | None] = mapped_column(String(40))
    payload: Mapped[str | None] = mapped_column(Text)
    scanned_at: Mapped[datetime]
    station_time: Mapped[datetime | None]
    received_at: Mapped[datetime]
    flags: Mapped[str] = mapped_column(String(120), default="")
    evidence_path: Mapped[str | None] = mapped_column(String(255))
    supersedes_id: Mapped[int | None] = mapped_column(ScanId, ForeignKey("scans.id"), index=True)

    employee: Mapped[Employee | None] = relationship()
    station: Mapped[Station | None] = relationship()

    @classmethod
    def counted(cls) -> ColumnElement[bool]:
        """The scans that are presence: accepted and not superseded by a later row."""
        replaced = aliased(cls)
        return and_(cls.status == "accepted",
                    ~select(replaced.id).where(replaced.supersedes_id == cls.id).exists())

    __table_args__ = (
        UniqueConstraint("stream", "seq"),
        UniqueConstraint("source", "event_id"),
        Index("ix_scans_employee_time", "employee_id", "scanned_at"),
        Index("ix_scans_time", "scanned_at"),
    )


class NoBadgeRecord(Chained, Base):
    """An employee seen at work without a badge, recorded by a guard (or imported).

    A correction is a new record with ``supersedes_id`` pointing at the one it replaces;
    ``void`` marks a correction that withdraws the old record altogether.
    """

    __tablename__ = "no_badge_records"
    chain_fields = (
        "employee_id", "recorded_at", "source", "place", "note", "recorded_by",
        "event_id", "supersedes_id", "void",
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    recorded_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(20), default="guard")
    place: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(String(80))
    event_id: Mapped[str | None] = mapped_column(String(80), unique=True)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("no_badge_records.id"), index=True)
    void: Mapped[bool] = mapped_column(default=False)

    employee: Mapped[Employee] = relationship()

    __table_args__ = (
        UniqueConstraint("stream", "seq"),
        Index("ix_no_badge_employee_time", "employee_id", "recorded_at"),
    )
