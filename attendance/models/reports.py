"""Reports as issued: every version kept with its content hash and what changed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from attendance.db import Base
from attendance.models.org import Unit


class IssuedReport(Base):
    __tablename__ = "issued_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # morning | daily | monthly
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    period: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD or YYYY-MM
    version: Mapped[int]
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    changes: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[datetime]
    issued_late: Mapped[bool] = mapped_column(default=False)

    unit: Mapped[Unit | None] = relationship()

    __table_args__ = (UniqueConstraint("kind", "unit_id", "period", "version"),)
