"""The config a process runs on, as its database completes it.

A deployment names its go-live (``records_from``) in its config file. A database loaded with
the demo province holds its own (``models.Deployment``): the first day of the demo's scans,
which moves with the day the demo was loaded. ``bind_config`` gives the file's go-live when
it names one, else the database's; the command line, the scheduler and the web service run
on what it returns, read once when they start.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from attendance.config import Config
from attendance.models import Deployment


def set_records_from(session: Session, day: date) -> None:
    """Record the database's go-live (the demo's first day); never commits."""
    row = session.get(Deployment, 1) or Deployment(id=1)
    row.records_from = day
    session.add(row)


def bind_config(config: Config, engine: Engine) -> Config:
    if config.records_from is not None:
        return config
    try:
        with engine.connect() as connection:
            day = connection.scalar(select(Deployment.records_from).where(Deployment.id == 1))
    except (OperationalError, ProgrammingError):
        return config  # no schema yet (before init-db), or no server: the command says so
    return config.model_copy(update={"records_from": day}) if day else config
