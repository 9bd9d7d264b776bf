"""Badges (thẻ công chức): one active badge per employee; reissue revokes the old serial."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from attendance.db import Base
from attendance.models.org import Employee


class Badge(Base):
    __tablename__ = "badges"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(40), unique=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(40))
    issued_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(String(255))

    employee: Mapped[Employee] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None
