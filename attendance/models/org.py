"""Units (a tree of agencies and departments), the employees who belong to them, and the
version of the units that lets a process keep them in memory between requests."""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import ForeignKey, String, Text, event, insert, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

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


class OrgVersion(Base):
    """One row: a random token replaced by every change to the units, in the change's own
    transaction (``_bump_on_unit_changes``). ``attendance.org.org_tree`` keeps the
    units in memory under the token it read them with; no row (or no token) means nothing
    is cached."""

    __tablename__ = "org_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str | None] = mapped_column(String(32))


def bump_org_version(connection) -> None:
    """Mark the units changed. A writer of units outside the ORM must call this itself."""
    token = secrets.token_hex(16)
    if not connection.execute(update(OrgVersion).where(OrgVersion.id == 1).values(token=token)
                              ).rowcount:
        connection.execute(insert(OrgVersion).values(id=1, token=token))


@event.listens_for(Session, "after_flush")
def _bump_on_unit_changes(session: Session, _context) -> None:
    if any(isinstance(obj, Unit) for obj in (*session.new, *session.dirty, *session.deleted)):
        bump_org_version(session.connection())
