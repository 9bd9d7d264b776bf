"""The deployment's TOML config file: validated at start, errors name the offending key.

``load_config(path)`` reads a file; ``parse_config(dict)`` validates data already read.
Every figure in RULES.md is a default here that a deployment may change. Errors are one
Vietnamese line for the person who edits the file (the command line prints it after
``Lỗi:``): the key as written in the file, then what is wrong with it.
"""

from __future__ import annotations

import errno
import os
import re
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
        raise ValueError(f"cần ngày dạng MM-DD, không phải {text!r}") from None
    return month, day


class Session(_Strict):
    start: time
    end: time


def _parse_session(text: str) -> Session:
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise ValueError(f"cần buổi dạng HH:MM-HH:MM, không phải {text!r}") from None
    if end <= start:
        raise ValueError(f"buổi {text!r} kết thúc trước khi bắt đầu")
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
            raise ValueError("cần ít nhất một buổi")
        return [_parse_session(v) if isinstance(v, str) else v for v in value]

    @field_validator("sessions")
    @classmethod
    def _ordered(cls, sessions: list[Session]) -> list[Session]:
        for earlier, later in zip(sessions, sessions[1:]):
            if later.start < earlier.end:
                raise ValueError("các buổi chồng lên nhau hoặc không theo thứ tự")
        return sessions

    def covers(self, day: date) -> bool:
        start, end, md = _month_day(self.from_), _month_day(self.to), (day.month, day.day)
        if start <= end:
            return start <= md <= end
        return md >= start or md <= end  # wraps over the new year (winter: 10-16 to 04-15)


class Schedule(_Strict):
    name: str | None = Field(None, min_length=1, max_length=200)  # shown; else its id
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
                problem = "không giai đoạn nào" if not covering else "nhiều giai đoạn cùng"
                raise ValueError(f"{problem} chứa ngày {day:%d/%m} (periods phải phủ cả năm, "
                                 "không chồng lên nhau)")
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


class Excuses(_Strict):
    # How far back a request may reach (a trip filed on return), and how far ahead: the
    # calendar of holidays and swapped days is announced a year at a time.
    max_past_days: int = Field(60, ge=0, le=3660)
    max_future_days: int = Field(366, ge=1, le=3660)


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
    excuses: Excuses = Excuses()
    mail: Mail | None = None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"không có múi giờ {value!r}") from None
        return value

    @field_validator("holidays_country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        import holidays

        if value not in holidays.list_supported_countries():
            raise ValueError(f"không có ngày lễ của quốc gia {value!r}")
        return value

    @field_validator("schedules")
    @classmethod
    def _has_default_schedule(cls, value: dict[str, Schedule]) -> dict[str, Schedule]:
        if "default" not in value:
            raise ValueError("cần có lịch làm việc default ([schedules.default])")
        return value

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


# pydantic's own errors, by type, as Vietnamese (placeholders from the error's context).
_MESSAGES = {
    "extra_forbidden": "khóa không được hỗ trợ (kiểm tra lại tên khóa)",
    "missing": "bắt buộc, chưa có",
    "int_type": "cần một số nguyên",
    "int_parsing": "cần một số nguyên",
    "int_from_float": "cần một số nguyên",
    "greater_than": "phải lớn hơn {gt}",
    "greater_than_equal": "phải lớn hơn hoặc bằng {ge}",
    "less_than": "phải nhỏ hơn {lt}",
    "less_than_equal": "phải nhỏ hơn hoặc bằng {le}",
    "literal_error": "phải là một trong: {expected}",
    "bool_type": "cần true hoặc false",
    "bool_parsing": "cần true hoặc false",
    "string_type": "cần một chuỗi trong dấu ngoặc kép",
    "list_type": "cần một danh sách [...]",
    "dict_type": "cần một bảng (mục [...] hoặc {{...}})",
    "model_type": "cần một bảng (mục [...] hoặc {{...}})",
    "date_type": "cần ngày dạng YYYY-MM-DD",
    "date_parsing": "cần ngày dạng YYYY-MM-DD",
    "date_from_datetime_parsing": "cần ngày dạng YYYY-MM-DD",
    "date_from_datetime_inexact": "cần ngày dạng YYYY-MM-DD, không kèm giờ",
}


def _message(error: dict) -> str:
    if error["type"] == "value_error":  # the validators above, already in Vietnamese
        return str(error["ctx"]["error"])
    template = _MESSAGES.get(error["type"])
    if template is None:
        return f"giá trị không hợp lệ: {error.get('input')!r}"
    context = dict(error.get("ctx") or {})
    if "expected" in context:  # "'day' or 'session'"
        context["expected"] = str(context["expected"]).replace(" or ", ", ")
    return template.format(**context)


def parse_config(data: dict) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = _key_path(error["loc"]) or "(cấp cao nhất)"
        raise ConfigError(f"cấu hình: {key}: {_message(error)}") from None


_OS_ERRORS = {errno.ENOENT: "không có tệp này", errno.EACCES: "không có quyền đọc",
              errno.EISDIR: "đây là một thư mục"}


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
        reason = _OS_ERRORS.get(exc.errno, exc.strerror)
        raise ConfigError(f"cấu hình: không đọc được tệp {path}: {reason}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"cấu hình: tệp {path} không phải UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib says where in English: "(at line 3, column 7)" or "(at end of document)".
        where = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        place = f"dòng {where[1]}, cột {where[2]}" if where else "cuối tệp"
        raise ConfigError(f"cấu hình: {path}: sai cú pháp TOML ở {place}") from None
    return parse_config(data)
