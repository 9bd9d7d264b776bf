"""Spot checks (kiểm tra đột xuất): an inspector's visit and what they found per person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from attendance.db import Base
from attendance.models.chain import Chained
from attendance.models.org import Employee, Unit

RESULTS = ("present_with_badge", "present_without_badge", "absent_from_post")


class SpotCheck(Base):
    __tablename__ = "spot_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    checked_at: Mapped[datetime]
    inspector: Mapped[str] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(Text)

    unit: Mapped[Unit] = relationship()
    findings: Mapped[list[SpotCheckFinding]] = relationship(back_populates="spot_check")


class SpotCheckFinding(Chained, Base):
    __tablename__ = "spot_check_findings"
    chain_fields = ("spot_check_id", "employee_id", "result", "found_at", "note", "supersedes_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    spot_check_id: Mapped[int] = mapped_column(ForeignKey("spot_checks.id"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    result: Mapped[str] = mapped_column(String(30))
    found_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("spot_check_findings.id"), index=True)

    spot_check: Mapped[SpotCheck] = relationship(back_populates="findings")
    employee: Mapped[Employee] = relationship()
