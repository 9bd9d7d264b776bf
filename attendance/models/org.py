"""Units (a tree of agencies and departments) and the employees who belong to them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from attendance.db import Base

CATEGORIES = ("CB", "CC", "VC", "HĐ")


class Unit(Base):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    schedule: Mapped[str | None] = mapped_column(String(60))
    head_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", use_alter=True, name="fk_units_head_id_employees")
    )

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent")
    head: Mapped[Employee | None] = relationship(foreign_keys=[head_id], post_update=True)

    def __repr__(self) -> str:
        return f"<Unit {self.code}>"


class Employee(Base):
    __tablename__ = "employees"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    full_name: Mapped[str] = mapped_column(String(255))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    position: Mapped[str | None] = mapped_column(String(255))
    category: Mapped[str] = mapped_column(String(2), default="CC")
    card_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    email: Mapped[str | None] = mapped_column(String(255))
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    schedule: Mapped[str | None] = mapped_column(String(60))
    photo: Mapped[str | None] = mapped_column(Text)

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])

    def is_active_on(self, day: date) -> bool:
        return (self.start_date is None or self.start_date <= day) and (
            self.end_date is None or day <= self.end_date
        )

    def __repr__(self) -> str:
        return f"<Employee {self.code}>"
