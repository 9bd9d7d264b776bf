"""What a database knows of its deployment that the config file cannot: one row."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Mapped, mapped_column

from attendance.db import Base


class Deployment(Base):
    """``records_from``: the go-live of a database loaded with the demo province, the first
    day of its scans (it moves with the day the demo was loaded, so no config file can name
    it). The config's own ``records_from`` comes first (``attendance.deployment``)."""

    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(primary_key=True)
    records_from: Mapped[date | None]
