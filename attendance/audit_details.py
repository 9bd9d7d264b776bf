"""How an audit entry reads: its details as labelled fields, files by name.

Shared by the admin's audit log page and ``attendance audit list``. An entry's details are
the JSON its writer gave ``attendance.audit.record``. Each key is shown by its Vietnamese
label (``attendance.audit.DETAIL_LABELS``; the key itself when this release does not know
it), codes by their labels (a role, a kind of request, a spot check's result), dates and
instants as every page does (dd/mm/yyyy, local time), and a file by its name only: the
server's folders (an import's uploaded file, a photo's path) are not for the reader.
Everything here is plain text; a page escapes it. Labels go through ``translate`` (the web's
``_``; Vietnamese as written by default).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import PurePosixPath, PureWindowsPath

from attendance.access import ROLE_LABELS
from attendance.audit import DETAIL_LABELS, detail_label
from attendance.imports import KIND_LABELS as IMPORT_KIND_LABELS
from attendance.reports import EXCUSE_KIND_LABELS, EXCUSE_PART_LABELS
from attendance.spotchecks import RESULT_LABELS

FILE_KEYS = frozenset({"photo", "file", "path", "filename"})
YES_NO = {True: "có", False: "không"}
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
# Keys that are codes themselves, by the key of the object they are in.
KEY_LABELS = {"results": RESULT_LABELS}

Translate = Callable[..., str]  # (text, context=None) -> the text in the reader's language


def as_written(text: str, context: str | None = None) -> str:
    return text


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
    """An entry's target as it is shown: an import's file by its name."""
    if not target:
        return ""
    if action.startswith("import.") or is_absolute_path(target):
        return file_name(target)
    return target


def fields_text(fields: tuple[Field, ...]) -> str:
    """Fields on one line: ``Label: value; Label: (Label: value; …)``."""
    return "; ".join(
        f.value if not f.label else
        f"{f.label}: ({fields_text(f.fields)})" if f.fields else f"{f.label}: {f.value}"
        for f in fields)


@dataclass(frozen=True)
class _Reader:
    tz: tzinfo
    translate: Translate

    def text(self, key: str, value) -> str:
        _ = self.translate
        if value is None:
            return "—"
        if isinstance(value, bool):
            return _(YES_NO[value])
        if isinstance(value, (int, float)):
            return str(value)
        if isinstance(value, list):
            return ", ".join(self.text(key, item) for item in value) or "—"
        if isinstance(value, dict):
            return fields_text(self.fields(key, value))
        text = str(value)
        if key in FILE_KEYS or is_absolute_path(text):
            return file_name(text)
        if _DATE.match(text):
            try:
                return date.fromisoformat(text).strftime("%d/%m/%Y")
            except ValueError:
                return text
        if _INSTANT.match(text):
            try:
                instant = datetime.fromisoformat(text)
            except ValueError:
                return text
            if instant.tzinfo is not None:
                instant = instant.astimezone(self.tz)
            return instant.strftime("%d/%m/%Y %H:%M:%S")
        if key == "kind" and text in IMPORT_KIND_LABELS:
            return _(IMPORT_KIND_LABELS[text], context="list")
        label = VALUE_LABELS.get(key, {}).get(text)
        return _(label) if label else text

    def fields(self, parent: str | None, details: dict) -> tuple[Field, ...]:
        _ = self.translate
        labels = KEY_LABELS.get(parent or "", {})
        order = {key: n for n, key in enumerate(labels or DETAIL_LABELS)}
        out = []
        for key, value in sorted(details.items(),
                                 key=lambda item: order.get(item[0], len(order))):
            key = str(key)
            label = _(labels[key]) if key in labels else _(detail_label(key))
            if isinstance(value, dict) and value:
                out.append(Field(label, fields=self.fields(key, value)))
            else:
                out.append(Field(label, self.text(key, value)))
        return tuple(out)


def detail_fields(details: str | None, tz: tzinfo,
                  translate: Translate = as_written) -> tuple[Field, ...]:
    """The fields of an entry's details, instants in ``tz``; text that is not a JSON object
    is one field with no label."""
    if not details:
        return ()
    try:
        parsed = json.loads(details)
    except ValueError:
        return (Field("", details),)
    reader = _Reader(tz, translate)
    if isinstance(parsed, dict):
        return reader.fields(None, parsed)
    return (Field("", reader.text("", parsed)),)
