"""How things are shown: dates dd/mm/yyyy and weekdays, 24-hour times in the deployment's
timezone, percentages, role names, and simple pagination."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, Sequence, TypeVar

from attendance.access import ROLE_LABELS
from attendance.reports import WEEKDAY_NAMES, count_text, shown_rate
from web.db import domain_config

T = TypeVar("T")


def _local(value: datetime) -> datetime:
    return value.astimezone(domain_config().tz)


def weekday_vn(value: date) -> str:
    """Thứ Hai … Chủ Nhật (English when the user chose it)."""
    from web.i18n import _

    return _(WEEKDAY_NAMES[value.weekday()])


def date_vn(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value)
    return value.strftime("%d/%m/%Y")


def time_vn(value: datetime | str | None, seconds: bool = False) -> str:
    """24-hour local time; ``seconds`` where they decide a finding (late at 07:35:01)."""
    if value is None:
        return ""
    if isinstance(value, str):  # ISO 8601 from a JSON report
        value = datetime.fromisoformat(value)
    pattern = "%H:%M:%S" if seconds else "%H:%M"
    return _local(value).strftime(pattern) if value.tzinfo else value.strftime(pattern)


def datetime_vn(value: datetime | None, seconds: bool = False) -> str:
    if value is None:
        return ""
    return _local(value).strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")


def decimal(value: float, places: int = 1) -> str:
    """A number with ``places`` decimals and a decimal comma in Vietnamese (as in the PDF
    reports and mails: 92,5), a decimal point in English."""
    from web.i18n import current_language

    text = f"{value:.{places}f}"
    return text.replace(".", ",") if current_language() == "vi" else text


def percent(value: float | None) -> str:
    """A rate as a percentage with one decimal (``decimal``); "—" where there is none
    (nobody present). Below 1, never 100,0% (``shown_rate``)."""
    return "—" if value is None else f"{decimal(shown_rate(value, 3) * 100)}%"


class Count(int):
    """A count shown as 10.000 in Vietnamese, 10,000 in English; a number still, so that
    English says "1 violation" and "2 violations" (``{total:violation|violations}``)."""

    def __format__(self, spec: str) -> str:
        from web.i18n import current_language

        return f"{int(self):,}" if current_language() == "en" else count_text(int(self))


def role_label(role: str) -> str:
    from web.i18n import _

    return _(ROLE_LABELS.get(role, role))


@dataclass
class Page(Generic[T]):
    items: Sequence[T]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def paginate(items: Sequence[T], page: int, per_page: int = 50) -> Page[T]:
    pages = max(1, math.ceil(len(items) / per_page))
    page = min(max(page, 1), pages)
    start = (page - 1) * per_page
    return Page(items[start:start + per_page], page, per_page, len(items))
