"""Helpers shared by the report, violation-log and dashboard views.

Query arguments (a day, a month, a unit within the user's scope), the unit picker of the
filters, the issuing unit and its head for a PDF, and file downloads. Report logic itself
is ``attendance.reports``; files are ``attendance.exports``.

The unit picker: a scope of up to ``PICKER_LIMIT`` units is a plain list; a larger one (a
province of 2,000 units, for inspectors) is a text box for a unit code, which
``web/static/unitpicker.js`` turns into a search by code or name, tones optional
(``search_units``, served by ``org.unit_search``). Without the script, a code typed and
submitted works as it is; anything else answers 404 with the units it matches, as links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NoReturn
from weakref import WeakKeyDictionary

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from attendance import access, exports
from attendance.calendar import YEARS
from attendance.evaluation import OrgTree, UnitRow
from attendance.models import Employee, Unit
from attendance.org import org_tree
from attendance.reports import month_bounds
from attendance.scans import fold
from web.db import domain_config, get_db, now
from web.errors import bad_request
from web.format import Count
from web.i18n import _
from web.security import current_account, is_api_request, visible_units

PICKER_LIMIT = 30  # units in a user's scope listed in full; more: a search box
SEARCH_LIMIT = 20  # units a search answers at most
MAX_SEARCH = 100  # characters of a search read

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "json": "application/json",
}


def today() -> date:
    return now().astimezone(domain_config().tz).date()


def yesterday() -> date:
    return today() - timedelta(days=1)


def _in_calendar(day: date, hint: str) -> date:
    if day.year not in YEARS:
        raise bad_request(hint)
    return day


def day_arg(name: str = "date", default: date | None = None) -> date:
    """A YYYY-MM-DD query argument (400 if malformed or out of ``YEARS``); ``default`` (else
    today) if absent."""
    text = request.args.get(name, "").strip()
    if not text:
        return default or today()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise bad_request("date") from None
    return _in_calendar(day, "date")


def month_arg(name: str = "month") -> date:
    """The first day of a YYYY-MM query argument (400 if malformed or out of ``YEARS``);
    this month if absent."""
    text = request.args.get(name, "").strip()
    if not text:
        return today().replace(day=1)
    try:
        first = month_bounds(text)[0]
    except (ValueError, OverflowError):  # month_bounds overflows on 9999-12
        raise bad_request("month") from None
    return _in_calendar(first, "month")


def unit_arg(name: str = "unit") -> Unit | None:
    """The unit named by a code argument if the user may see it; 404 otherwise."""
    code = request.args.get(name, "").strip()
    if not code:
        return None
    unit = get_db().scalar(select(Unit).where(Unit.code == code))
    visible = visible_units()
    if unit is None or (visible is not None and unit.id not in visible):
        unit_not_found(code)
    return unit


def scope_units() -> list[Unit]:
    """The units the signed-in user may see, by code."""
    db = get_db()
    return sorted(db.scalars(select(Unit).where(access.unit_filter(db, current_account()))),
                  key=lambda u: u.code)


@dataclass
class UnitPicker:
    """What the ``unit_picker`` macro shows: the unit chosen, and every unit of the scope
    by code, or None for a search box."""

    unit: Unit | None
    choices: list[UnitRow] | None


def request_tree() -> OrgTree:
    """The units (``attendance.org.org_tree``), looked up once per request."""
    if "org_tree" not in g:
        g.org_tree = org_tree(get_db())
    return g.org_tree


def _scope_rows() -> list[UnitRow]:
    tree = request_tree()
    visible = visible_units()
    if visible is None:
        return list(tree.units.values())
    return [tree.units[i] for i in visible if i in tree.units]


def unit_picker(unit: Unit | None) -> UnitPicker:
    visible = visible_units()
    size = len(request_tree().units) if visible is None else len(visible)
    if size > PICKER_LIMIT:
        return UnitPicker(unit, None)
    return UnitPicker(unit, sorted(_scope_rows(), key=lambda u: u.code))


_SEARCH_KEYS: WeakKeyDictionary[OrgTree, dict] = WeakKeyDictionary()


def _search_keys(tree: OrgTree) -> dict[int, tuple[str, str, list[str]]]:
    """Each unit's code and name as searched (folded: 2,000 names take ~16 ms), once per
    tree, which ``org_tree`` keeps as long as the units do not change."""
    keys = _SEARCH_KEYS.get(tree)
    if keys is None:
        keys = {u.id: (u.code.casefold(), name := fold(u.name), name.split())
                for u in tree.units.values()}
        _SEARCH_KEYS[tree] = keys
    return keys


def search_units(text: str, limit: int = SEARCH_LIMIT) -> list[UnitRow]:
    """Units of the user's scope matching ``text``: the code itself first, then codes that
    start with it, then names whose words start with its words ("so noi vu" finds "Sở Nội
    vụ"), then codes or names that contain it; by code within each."""
    needle = fold(text[:MAX_SEARCH])
    words = needle.split()
    if not words:
        return []
    keys = _search_keys(request_tree())
    ranked = []
    for unit in _scope_rows():
        code, name, name_words = keys[unit.id]
        if code == needle:
            rank = 0
        elif code.startswith(needle):
            rank = 1
        elif all(any(w.startswith(word) for w in name_words) for word in words):
            rank = 2
        elif needle in code or all(word in name for word in words):
            rank = 3
        else:
            continue
        ranked.append((rank, unit.code, unit))
    ranked.sort(key=lambda entry: entry[:2])
    return [entry[-1] for entry in ranked[:limit]]


def unit_not_found(text: str) -> NoReturn:
    """404: for a page, with links to the same page for the units ``text`` matches (what a
    user typed in the picker without its script)."""
    if is_api_request():
        abort(404)
    args = {**(request.view_args or {}), **request.args.to_dict()}
    args.pop("page", None)
    args.pop("unit", None)
    matches = [(unit, url_for(request.endpoint, **args, unit=unit.code))
               for unit in search_units(text)]
    page = render_template("unit_not_found.html", text=text, matches=matches,
                           without=url_for(request.endpoint, **args))
    abort(Response(page, 404))


def issuer(unit: Unit | None) -> tuple[str | None, str | None]:
    """The issuing unit's name and its head's name, for a PDF's header and signature.

    Without a unit ("Tất cả"), a unit head's scope is the tree of his own unit, which issues
    it; for the others, the governing agency (no unit, no signer's name)."""
    account = current_account()
    if unit is None and account.role == "unit_head" and account.unit_id is not None:
        unit = get_db().get(Unit, account.unit_id)
    if unit is None:
        return None, None
    head = get_db().get(Employee, unit.head_id) if unit.head_id else None
    return unit.name, head.full_name if head else None


def pdf_refused(endpoint: str, **args) -> Response:
    """Back to the page a PDF was asked from, with its filters, saying why there is none:
    past ``exports.PDF_MAX_ROWS`` rows its layout would hold a worker for minutes."""
    flash(_(
        "Hơn {limit} dòng: quá nhiều cho một tệp PDF. Hãy thu hẹp bộ lọc hoặc tải XLSX, CSV.",
        limit=Count(exports.PDF_MAX_ROWS)), "error")
    return redirect(url_for(endpoint, **args))


def download(data: bytes, fmt: str, stem: str) -> Response:
    """``data`` as an attachment named ``<stem>.<fmt>`` (an ASCII file name)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-") or "bao-cao"
    response = Response(data, content_type=MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}.{fmt}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
