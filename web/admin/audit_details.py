"""How the audit log page shows an entry: its details as labelled fields, files by name.

An entry's details are the JSON its writer gave ``attendance.audit.record``. The page shows
each key by its Vietnamese label (``attendance.audit.DETAIL_LABELS``; the key itself when
this release does not know it), codes by their labels (a role, a kind of request, a spot
check's result), dates and instants as every page does (local time), and a file by its name
only: the server's folders (an import's uploaded file, a photo's path) are not for the page.
Everything here is plain text; the template escapes it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePosixPath, PureWindowsPath

from attendance.audit import DETAIL_LABELS, detail_label
from attendance.reports import EXCUSE_KIND_LABELS, EXCUSE_PART_LABELS
from attendance.spotchecks import RESULT_LABELS
from web.admin.forms import IMPORT_KINDS
from web.format import ROLE_LABELS, date_vn, datetime_vn
from web.i18n import _

FILE_KEYS = frozenset({"photo", "file", "path", "filename"})
_ABSOLUTE = re.compile(r"^(?:/|~|[A-Za-z]:[\\/]|\\\\)")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
# Codes among the values, by the key they are under, shown by their labels.
VALUE_LABELS = {
    "role": ROLE_LABELS,
    "kind": EXCUSE_KIND_LABELS,
    "part": EXCUSE_PART_LABELS,
    "from": RESULT_LABELS,
    "to": RESULT_LABELS,
}
IMPORT_KIND_LABELS = dict(IMPORT_KINDS)
# Keys that are codes themselves, by the key of the object they are in.
KEY_LABELS = {"results": RESULT_LABELS}


@dataclass(frozen=True)
class Field:
    label: str
    value: str = ""                   # empty when the field is an object (``fields``)
    fields: tuple[Field, ...] = ()    # a change's "before" and "after", a spot check's results


def file_name(text: str) -> str:
    """The last part of a path, written with / or \\."""
    return (PureWindowsPath(text) if "\\" in text else PurePosixPath(text)).name or text


def is_absolute_path(text: str) -> bool:
    return bool(_ABSOLUTE.match(text))


def shown_target(action: str, target: str | None) -> str:
    """An entry's target as the page shows it: an import's file by its name."""
    if not target:
        return ""
    if action.startswith("import.") or is_absolute_path(target):
        return file_name(target)
    return target


def _text(key: str, value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("có") if value else _("không")
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return ", ".join(_text(key, item) for item in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{f.label}: {f.value}" for f in _fields(key, value))
    text = str(value)
    if key in FILE_KEYS or is_absolute_path(text):
        return file_name(text)
    if _DATE.match(text):
        try:
            return date_vn(date.fromisoformat(text))
        except ValueError:
            return text
    if _INSTANT.match(text):
        try:
            instant = datetime.fromisoformat(text)
        except ValueError:
            return text
        if instant.tzinfo is None:
            return instant.strftime("%d/%m/%Y %H:%M:%S")
        return datetime_vn(instant, seconds=True)
    if key == "kind" and text in IMPORT_KIND_LABELS:
        return _(IMPORT_KIND_LABELS[text], context="list")
    label = VALUE_LABELS.get(key, {}).get(text)
    return _(label) if label else text


def _fields(parent: str | None, details: dict) -> tuple[Field, ...]:
    labels = KEY_LABELS.get(parent or "", {})
    order = {key: n for n, key in enumerate(labels or DETAIL_LABELS)}
    out = []
    for key, value in sorted(details.items(), key=lambda item: order.get(item[0], len(order))):
        key = str(key)
        label = _(labels[key]) if key in labels else _(detail_label(key))
        if isinstance(value, dict) and value:
            out.append(Field(label, fields=_fields(key, value)))
        else:
            out.append(Field(label, _text(key, value)))
    return tuple(out)


def detail_fields(details: str | None) -> tuple[Field, ...]:
    """The fields of an entry's details; text that is not a JSON object is one field with
    no label."""
    if not details:
        return ()
    try:
        parsed = json.loads(details)
    except ValueError:
        return (Field("", details),)
    if isinstance(parsed, dict):
        return _fields(None, parsed)
    return (Field("", _text("", parsed)),)
