"""Every Vietnamese UI string in web/ has an English translation."""

from __future__ import annotations

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
from attendance.reports import EXCUSE_KIND_LABELS, EXCUSE_PART_LABELS  # noqa: E402
from attendance.spotchecks import RESULT_LABELS  # noqa: E402
from attendance.issuing import DETAIL_LABELS, FIGURE_LABELS  # noqa: E402
from web.admin.calendar_views import LEGEND  # noqa: E402
from web.admin.forms import ROLE_CHOICES  # noqa: E402
from web.auth.forms import REQUIRED, TOO_LONG  # noqa: E402
from web.errors import HINTS, PAGE_TITLES  # noqa: E402
from web.format import ROLE_LABELS  # noqa: E402
from web.reports.routes import SOURCES  # noqa: E402

VIETNAMESE = re.compile(r"[À-ỹĐđ]|^(Lọc|Xem|Mã|Loại|Ngày|khóa)$", re.IGNORECASE)


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
                 YES_NO.values(),
                 {REQUIRED, TOO_LONG})
    return {s for s in found if VIETNAMESE.search(s)}


def test_every_ui_string_has_english():
    missing = sorted(used_strings() - set(EN))
    assert not missing, "add to web/translations_en.py:\n" + "\n".join(missing)


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
