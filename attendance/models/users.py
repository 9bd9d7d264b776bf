"""Users and roles: admin, inspector, unit head (a unit subtree) and staff (themselves)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from attendance.db import Base
from attendance.models.org import Employee, Unit

ROLES = ("admin", "inspector", "unit_head", "staff")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    language: Mapped[str] = mapped_column(String(5), default="vi")

    unit: Mapped[Unit | None] = relationship()
    employee: Mapped[Employee | None] = relationship()


# A username is unique whatever its case (head_stc and HEAD_STC would be one person signing
# in): the forms check it, and this refuses a second one made at the same moment.
Index("uq_users_username_lower", func.lower(User.username), unique=True)
