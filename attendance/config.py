"""The deployment's TOML config file: validated at start, errors name the offending key.

``load_config(path)`` reads a file; ``parse_config(dict)`` validates data already read.
Every figure in RULES.md is a default here that a deployment may change.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date, time
from importlib import resources
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ConfigError(ValueError):
    """The config file is unreadable or invalid; the message names the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _month_day(text: str) -> tuple[int, int]:
    try:
        month, day = (int(part) for part in text.split("-"))
        date(2024, month, day)  # a leap year, so 02-29 is allowed
    except ValueError:
        raise ValueError(f"expected MM-DD, got {text!r}") from None
    return month, day


class Session(_Strict):
    start: time
    end: time


def _parse_session(text: str) -> Session:
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise ValueError(f"expected HH:MM-HH:MM, got {text!r}") from None
    if end <= start:
        raise ValueError(f"session {text!r} ends before it starts")
    return Session(start=start, end=end)


class Period(_Strict):
    from_: str = Field(alias="from")
    to: str
    sessions: list[Session]

    @field_validator("from_", "to")
    @classmethod
    def _valid_month_day(cls, value: str) -> str:
        _month_day(value)
        return value

    @field_validator("sessions", mode="before")
    @classmethod
    def _parse_sessions(cls, value):
        if not isinstance(value, list) or not value:
            raise ValueError("at least one session is required")
        return [_parse_session(v) if isinstance(v, str) else v for v in value]

    @field_validator("sessions")
    @classmethod
    def _ordered(cls, sessions: list[Session]) -> list[Session]:
        for earlier, later in zip(sessions, sessions[1:]):
            if later.start < earlier.end:
                raise ValueError("sessions overlap or are out of order")
        return sessions

    def covers(self, day: date) -> bool:
        start, end, md = _month_day(self.from_), _month_day(self.to), (day.month, day.day)
        if start <= end:
            return start <= md <= end
        return md >= start or md <= end  # wraps over the new year (winter: 10-16 to 04-15)


class Schedule(_Strict):
    workdays: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = list(WEEKDAYS[:5])
    checkin_mode: Literal["day", "session"] = "day"
    late_grace_minutes: int = Field(5, ge=0, le=240)
    early_leave_grace_minutes: int = Field(5, ge=0, le=240)
    checkin_opens_minutes: int = Field(120, ge=0, le=720)
    duplicate_window_seconds: int = Field(60, ge=0, le=3600)
    min_presence_minutes: int = Field(30, ge=0, le=720)
    periods: list[Period]

    @model_validator(mode="after")
    def _periods_cover_the_year(self) -> Schedule:
        day = date(2024, 1, 1)
        while day.year == 2024:
            covering = [p for p in self.periods if p.covers(day)]
            if len(covering) != 1:
                problem = "no period covers" if not covering else "several periods cover"
                raise ValueError(f"{problem} {day:%m-%d}")
            day = date.fromordinal(day.toordinal() + 1)
        return self

    def period_on(self, day: date) -> Period:
        return next(p for p in self.periods if p.covers(day))

    def weekday_numbers(self) -> frozenset[int]:
        return frozenset(WEEKDAYS.index(name) for name in self.workdays)


class Mail(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(25, ge=1, le=65535)
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False


class Reports(_Strict):
    repeat_late_days: int = Field(3, ge=1)
    repeat_absences: int = Field(1, ge=1)
    morning_cutoff_minutes: int = Field(60, ge=0)
    evening_delay_minutes: int = Field(60, ge=0)


class Config(_Strict):
    agency: str = "UBND tỉnh"
    place: str = ""
    timezone: str = "Asia/Ho_Chi_Minh"
    holidays_country: str = "VN"
    extra_holidays: list[date] = []
    extra_workdays: list[date] = []
    # The first day the deployment keeps records (its go-live): no day before it is expected
    # of anyone, so staff are not found absent for the years before the stations came.
    records_from: date | None = None
    clock_skew_seconds: int = Field(120, ge=0)
    evidence_retention_days: int = Field(30, ge=0)
    # Citizens' feedback (with the contact a citizen may leave) is deleted after this; one
    # year keeps it for the officers' yearly assessment. At least a day: the rate limits
    # count the last day's rows.
    feedback_retention_days: int = Field(365, ge=1)
    public_base_url: str | None = None
    schedules: dict[str, Schedule]
    reports: Reports = Reports()
    mail: Mail | None = None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}") from None
        return value

    @field_validator("holidays_country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        import holidays

        if value not in holidays.list_supported_countries():
            raise ValueError(f"unknown country {value!r}")
        return value

    @model_validator(mode="after")
    def _has_default_schedule(self) -> Config:
        if "default" not in self.schedules:
            raise ValueError("schedules.default is required")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def schedule(self, name: str | None) -> Schedule:
        return self.schedules.get(name or "default") or self.schedules["default"]


def _key_path(location: tuple) -> str:
    parts: list[str] = []
    for item in location:
        if isinstance(item, int):
            parts[-1] = f"{parts[-1]}[{item}]" if parts else f"[{item}]"
        elif item == "from_":
            parts.append("from")
        else:
            parts.append(str(item))
    return ".".join(parts)


def parse_config(data: dict) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = _key_path(error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        raise ConfigError(f"config: {key}: {message}") from None


def default_config_text() -> str:
    return resources.files("attendance").joinpath("default.toml").read_text(encoding="utf-8")


def load_config(path: str | os.PathLike | None = None) -> Config:
    """Load ``path``, else ``ATTENDANCE_CONFIG``, else the packaged default."""
    path = path or os.environ.get("ATTENDANCE_CONFIG")
    if path is None:
        return parse_config(tomllib.loads(default_config_text()))
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"config: cannot read {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config: {path}: {exc}") from None
    return parse_config(data)
