"""Citizens' feedback on an officer's service, given from the public page of a badge.

One row per submission. The citizen's address is never stored: ``ip_hash`` is a keyed hash
of it (``attendance.feedback.hash_ip``), kept only to enforce the per-address rate limit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from attendance.db import Base
from attendance.models.org import Employee


class ServiceFeedback(Base):
    __tablename__ = "service_feedback"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        # The two rate-limit counts: recent rows per address and per badge.
        Index("ix_service_feedback_ip_hash_created_at", "ip_hash", "created_at"),
        Index("ix_service_feedback_badge_serial_created_at", "badge_serial", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    badge_serial: Mapped[str] = mapped_column(String(40))
    rating: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(index=True)
    ip_hash: Mapped[str] = mapped_column(String(64))

    employee: Mapped[Employee] = relationship()
