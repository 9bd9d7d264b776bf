"""The audit log (nhật ký hệ thống): who did what, append-only and hash-chained."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from attendance.db import Base
from attendance.models.chain import Chained


class AuditEntry(Chained, Base):
    __tablename__ = "audit_log"
    chain_fields = ("at", "actor", "action", "target", "details")

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[str | None] = mapped_column(Text)
