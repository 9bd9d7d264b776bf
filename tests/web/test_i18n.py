"""Every Vietnamese UI string in web/, and every sentence the domain hands the web, has an
English translation."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from web.translations_en import EN

WEB = Path(__file__).resolve().parents[2] / "web"
PATTERNS = [
    re.compile(r'\b_\(\s*"([^"]+)"'),
    re.compile(r"\b_\(\s*'([^']+)'"),
    re.compile(r'(?:Field\(|message=|errors\.append\()\s*"([^"]+)"'),
    re.compile(r'NavItem\("[^"]+",\s*"([^"]+)"'),
]
# _("Đơn vị", context="list") and NavItem(..., context="list"): the entry "list|Đơn vị".
IN_CONTEXT = [
    re.compile(r'\b_\(\s*"([^"]+)",\s*context="(\w+)"'),
    re.compile(r'NavItem\("[^"]+",\s*"([^"]+)",[^)\n]*context="(\w+)"'),
]
# Literal tables shown through _() indirectly.
from attendance.audit import ACTION_LABELS  # noqa: E402
from attendance.audit import DETAIL_LABELS as AUDIT_DETAIL_LABELS  # noqa: E402
from attendance.audit_details import YES_NO  # noqa: E402
from attendance.excuses import PART_LABELS, STATUS_LABELS  # noqa: E402
from attendance.reports import EXCUSE_KIND_LABELS, EXCUSE_PART_LABELS, WEEKDAY_NAMES  # noqa: E402
from attendance.reports import EXCUSED_ABSENCE_LABEL, KIND_LABELS  # noqa: E402
from attendance.spotchecks import RESULT_LABELS  # noqa: E402
from attendance.issuing import DETAIL_LABELS, FIGURE_LABELS  # noqa: E402
from web.admin.calendar_views import LEGEND  # noqa: E402
from web.admin.forms import ROLE_CHOICES  # noqa: E402
from web.auth.forms import REQUIRED, TOO_LONG  # noqa: E402
from web.errors import HINTS, PAGE_TITLES  # noqa: E402
from web.format import ROLE_LABELS  # noqa: E402
from web.reports.routes import SOURCES  # noqa: E402

VIETNAMESE = re.compile(r"[À-ỹĐđ]|^(Lọc|Xem|Mã|Loại|Ngày|khóa)$", re.IGNORECASE)

DOMAIN = WEB.parent / "attendance"
# The domain's errors whose messages pages show (web.i18n.error_text), and the problems of
# an import file's rows (the admin's preview).
SHOWN_ERRORS = {"ExcuseError", "BadgeError", "PhotoError", "WithdrawalError", "StationError",
                "SpotCheckError", "ImportFileError", "_RowInvalid", "RowError", "problems.add"}
MESSAGE_ARGUMENT = {"_RowInvalid": 1, "problems.add": 1, "RowError": 2}  # else the first


def _called(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return f"{func.value.id}.{func.attr}" if isinstance(func.value, ast.Name) else func.attr
    return getattr(func, "id", "")


def domain_messages() -> tuple[set[str], list[str]]:
    """What the domain hands the web to translate: every ``Message``'s template and every
    literal message of ``SHOWN_ERRORS``; and, to refuse, those messages written as f-strings
    (which no catalog can look up)."""
    found, unreadable = set(), []
    for path in DOMAIN.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = _called(node)
            index = MESSAGE_ARGUMENT.get(name, 0)
            if name != "Message" and name not in SHOWN_ERRORS or len(node.args) <= index:
                continue
            arg = node.args[index]
            if isinstance(arg, ast.Constant) and re.search(r"[À-ỹĐđ]", str(arg.value)):
                found.add(arg.value)
            elif isinstance(arg, ast.JoinedStr):
                unreadable.append(f"{path.name}:{node.lineno}")
    return found, unreadable


def used_strings() -> set[str]:
    found: set[str] = set()
    for path in WEB.rglob("*"):
        if path.suffix not in {".py", ".html"} or path.name in {"translations_en.py", "i18n.py"}:
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in PATTERNS:
            found.update(pattern.findall(text))
        for pattern in IN_CONTEXT:
            found.update(f"{context}|{msg}" for msg, context in pattern.findall(text))
    found.update(label for _, label in ROLE_CHOICES)
    found.update(look.label for look in LEGEND)
    found.update(PAGE_TITLES.values(), HINTS.values(), DETAIL_LABELS.values(),
                 FIGURE_LABELS.values(), ROLE_LABELS.values(), SOURCES.values(),
                 ACTION_LABELS.values(), AUDIT_DETAIL_LABELS.values(),
                 EXCUSE_KIND_LABELS.values(), EXCUSE_PART_LABELS.values(), RESULT_LABELS.values(),
                 STATUS_LABELS.values(), PART_LABELS.values(), WEEKDAY_NAMES, YES_NO.values(),
                 {REQUIRED, TOO_LONG}, domain_messages()[0],
                 # the violation log's kinds, capitalized as its rows show them
                 {label.capitalize() for label in (*KIND_LABELS.values(), EXCUSED_ABSENCE_LABEL)})
    return {s for s in found if VIETNAMESE.search(s)}


def test_every_ui_string_has_english():
    missing = sorted(used_strings() - set(EN))
    assert not missing, "add to web/translations_en.py:\n" + "\n".join(missing)


def test_the_domain_errors_shown_are_not_f_strings():
    """A message a page shows is a ``Message`` with its values apart, or the catalog cannot
    translate it."""
    assert not domain_messages()[1]


def test_placeholders_match():
    for vi, en in EN.items():
        # English may add a plural spec: {late:day|days}.
        assert set(re.findall(r"{(\w+)}", vi)) == set(re.findall(r"{(\w+)(?::[^{}]*)?}", en)), vi


def test_a_station_is_called_diem_quet_the():
    """GLOSSARY.md: a station is an "điểm quét thẻ" on every page and on the station's own
    screen and messages, never a "trạm"."""
    assert not [s for s in used_strings() if "trạm" in s.lower()]
    scanner = WEB.parent / "scanner"
    assert not [p.name for p in scanner.rglob("*.py") if "trạm" in p.read_text("utf-8").lower()]
