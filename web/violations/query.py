"""The filters of the violation log, read from query arguments, and the scoped query.

Shared by the pages (``web.violations.routes``) and the API (``web.api.violations``):
``from``/``to`` (YYYY-MM-DD; default: yesterday and the first day of its month, as the
command line), ``unit`` (a code; with its sub-units), ``type`` (a finding kind or its
Vietnamese label; repeated or comma-separated), ``employee`` (a code), ``status``
(``open`` / ``excused``). A staff member's log is their own record only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from attendance.evaluation import OrgTree
from attendance.calendar import YEARS
from attendance.models import Employee, Unit
from attendance.reports import EXCUSED, OPEN, ViolationPage, kind_from_text, violation_page
from web.db import domain_config, get_db, now
from web.format import date_vn
from web.i18n import _
from web.reports.common import yesterday
from web.security import current_account, visible_units

MAX_DAYS = 366
MAX_PER_PAGE = 200
# Far past any log (a billion pages), and low enough that the row offset it makes fits the
# databases' 64-bit integers: page=99999999999999999999 is refused like page=0, not a 500.
MAX_PAGE = 1_000_000_000
DEFAULT_PER_PAGE = 50
# Counting stops past this many rows (or past the page asked for): "hơn 10.000 vi phạm".
COUNT_LIMIT = 10_000
STATUSES = (OPEN, EXCUSED)


class BadFilter(ValueError):
    """A filter that cannot be read: ``str(exc)`` says which in English, for the API;
    ``shown`` in the user's language, for the log page above its form."""

    def __init__(self, message: str, shown: str) -> None:
        super().__init__(message)
        self.shown = shown


class UnknownUnit(LookupError):
    """A unit code that does not exist or is outside the caller's scope."""


@dataclass
class LogQuery:
    first: date
    last: date
    unit: Unit | None
    kinds: list[str] | None
    employee: str | None
    status: str | None

    def args(self) -> dict:
        """The filters as query arguments (for links to other pages and exports)."""
        out: dict = {"from": self.first.isoformat(), "to": self.last.isoformat()}
        if self.unit is not None:
            out["unit"] = self.unit.code
        if self.kinds:
            out["type"] = ",".join(self.kinds)
        if self.employee:
            out["employee"] = self.employee
        if self.status:
            out["status"] = self.status
        return out


def _date(args: MultiDict, name: str, label: str) -> date | None:
    text = args.get(name, "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or day.year not in YEARS:
        raise BadFilter(f"{name} must be YYYY-MM-DD, year {YEARS[0]} to {YEARS[-1]}", _(
            "{field} không hợp lệ: {value}; cần một ngày, năm từ {first} đến {last}",
            field=_(label), value=text[:40], first=YEARS[0], last=YEARS[-1]))
    return day


def parse_unit(args: MultiDict) -> Unit | None:
    """The ``unit`` argument: a unit of the user's scope, or None; else ``UnknownUnit``."""
    code = args.get("unit", "").strip()
    if not code:
        return None
    unit = get_db().scalar(select(Unit).where(Unit.code == code))
    visible = visible_units()  # staff: no unit (their own record only)
    if unit is None or (visible is not None and unit.id not in visible):
        raise UnknownUnit(code)
    return unit


def parse(args: MultiDict) -> LogQuery:
    last = _date(args, "to", "Đến ngày") or yesterday()
    first = _date(args, "from", "Từ ngày") or last.replace(day=1)
    if first > last:
        raise BadFilter("from must not be after to",
                        _("Từ ngày {first} sau đến ngày {last}", first=date_vn(first),
                          last=date_vn(last)))
    if (last - first).days >= MAX_DAYS:
        raise BadFilter(f"at most {MAX_DAYS} days at a time",
                        _("Từ ngày {first} đến ngày {last} là {days} ngày, quá {max} ngày",
                          first=date_vn(first), last=date_vn(last),
                          days=(last - first).days + 1, max=MAX_DAYS))
    unit = parse_unit(args)
    kinds: list[str] = []
    for value in args.getlist("type"):
        for part in value.split(","):
            if part.strip():
                try:
                    kind = kind_from_text(part)
                except ValueError:
                    raise BadFilter(f"unknown type {part.strip()[:40]!r}",
                                    _("Không có loại vi phạm {kind}",
                                      kind=part.strip()[:40])) from None
                if kind not in kinds:
                    kinds.append(kind)
    status = args.get("status", "").strip() or None
    if status is not None and status not in STATUSES:
        raise BadFilter("status must be open or excused",
                        _("Không có trạng thái {status}", status=status[:40]))
    employee = args.get("employee", "").strip() or None
    return LogQuery(first, last, unit, kinds or None, employee, status)


def page_args(args: MultiDict, default_per_page: int = DEFAULT_PER_PAGE) -> tuple[int, int]:
    """``page`` (1 to ``MAX_PAGE``) and ``per_page`` (1 to ``MAX_PER_PAGE``)."""
    shown = _("Số trang hoặc số dòng mỗi trang không hợp lệ")
    try:
        page = int(args.get("page") or 1)
        per_page = int(args.get("per_page") or default_per_page)
    except ValueError:
        raise BadFilter("page and per_page must be integers", shown) from None
    if not (1 <= page <= MAX_PAGE and 1 <= per_page <= MAX_PER_PAGE):
        raise BadFilter(f"page must be 1 to {MAX_PAGE}, per_page 1 to {MAX_PER_PAGE}", shown)
    return page, per_page


def run(query: LogQuery, *, offset: int = 0, limit: int | None = None,
        tree: OrgTree | None = None) -> ViolationPage:
    """The page of the log the caller may see, and the number of rows matching (counted up
    to ``COUNT_LIMIT``, see ``ViolationPage.exact``)."""
    account = current_account()
    unit_ids = visible_units()
    employee = query.employee
    if account.role == "staff":
        # Staff see their own record only, whatever the filters say.
        own = get_db().get(Employee, account.employee_id) if account.employee_id else None
        if own is None or (employee is not None and employee != own.code):
            return ViolationPage([], 0)
        employee, unit_ids = own.code, None
    return violation_page(get_db(), domain_config(), query.first, query.last,
                          unit_ids=unit_ids, unit_code=query.unit.code if query.unit else None,
                          kinds=query.kinds, employee=employee, status=query.status,
                          offset=offset, limit=limit, count_limit=COUNT_LIMIT, tree=tree,
                          now=now())


def includes_today(query: LogQuery) -> bool:
    today = yesterday() + timedelta(days=1)
    return query.first <= today <= query.last
