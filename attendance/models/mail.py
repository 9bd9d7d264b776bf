"""Mail deliveries: one row per (issued report, recipient), with its attempts and last error.

The row is created in the same transaction as the report it announces, so a report issued
once is announced once; the scheduler's delivery job sends pending rows, retries failures
with a growing delay and finally marks them failed, where admins see them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from attendance.db import Base
from attendance.models.reports import IssuedReport

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


class MailDelivery(Base):
    __tablename__ = "mail_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("issued_reports.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(255))
    recipient_name: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))  # unit_head | inspector
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]

    report: Mapped[IssuedReport] = relationship()

    __table_args__ = (
        UniqueConstraint("report_id", "recipient"),
        Index("ix_mail_deliveries_status_next", "status", "next_attempt_at"),
    )
