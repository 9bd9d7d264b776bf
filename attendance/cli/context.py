"""What every command shares: the config, the engine and a session per unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
import sys
from functools import cached_property

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from attendance.calendar import YEARS
from attendance.config import Config, load_config
from attendance.db import make_engine, make_session_factory, session_scope
from attendance.deployment import bind_config


class UserError(Exception):
    """A mistake the user can fix; shown as one line, exit status 1."""


def parse_date(text: str, option: str) -> date:
    """A date option as a person writes it, dd/mm/yyyy (as the pages show dates) or
    YYYY-MM-DD: the imports' parser."""
    from attendance.imports import parse_day

    day = parse_day(text)
    if day is None or day.year not in YEARS:
        raise UserError(f"{option}: ngày không hợp lệ {text!r} (cần dạng dd/mm/yyyy hoặc "
                        f"YYYY-MM-DD, năm từ {YEARS[0]} đến {YEARS[-1]})")
    return day


class AppContext:
    def __init__(self, config_path: str | None = None):
        self.config_path = config_path

    @cached_property
    def config(self) -> Config:
        return bind_config(load_config(self.config_path), self.engine)

    @cached_property
    def engine(self) -> Engine:
        return make_engine()

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work, committed at the end (commits happen at the edge)."""
        with session_scope(self.session_factory) as session:
            yield session


pass_app = click.make_pass_decorator(AppContext)


def progress_enabled() -> bool:
    """Progress bars only on a terminal, never in pipes or CI logs."""
    return sys.stderr.isatty()
