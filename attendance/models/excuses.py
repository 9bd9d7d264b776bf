"""Excuses (leave, business trips, other reasons) and the unit head's decisions on them.

The request itself may be edited while pending; decisions are append-only and chained, so
the current status is the latest decision and every earlier one stays on record.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from attendance.db import Base
from attendance.models.chain import Chained
from attendance.models.org import Employee

PARTS = ("full", "morning", "afternoon")
KINDS = ("leave", "business_trip", "other")


class Excuse(Base):
    __tablename__ = "excuses"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    start_date: Mapped[date]
    end_date: Mapped[date]
    part: Mapped[str] = mapped_column(String(10), default="full")
    kind: Mapped[str] = mapped_column(String(20), default="leave")
    note: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(String(80))
    requested_at: Mapped[datetime]
    # Latest decision, kept here for queries; the chained decisions are the record.
    status: Mapped[str] = mapped_column(String(10), default="pending")

    employee: Mapped[Employee] = relationship()
    decisions: Mapped[list[ExcuseDecision]] = relationship(
        back_populates="excuse", order_by="ExcuseDecision.id"
    )


class ExcuseDecision(Chained, Base):
    __tablename__ = "excuse_decisions"
    chain_fields = ("excuse_id", "decision", "decided_by", "reason", "decided_at")

    id: Mapped[int] = mapped_column(primary_key=True)
    excuse_id: Mapped[int] = mapped_column(ForeignKey("excuses.id"), index=True)
    # approved | rejected | withdrawn (by its author) | revoked (an approval taken back)
    decision: Mapped[str] = mapped_column(String(10))
    decided_by: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime]

    excuse: Mapped[Excuse] = relationship(back_populates="decisions")
