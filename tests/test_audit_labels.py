"""The audit log shows each action by its Vietnamese label, with the code beside it.

``test_every_action_code_written_has_a_label`` reads the product's source: every
``action=`` given to a call (the audit log's writers) must be a code of
``attendance.audit.ACTION_LABELS``, so a new code without a label fails here even before a
test exercises it.
"""

from __future__ import annotations

import ast
import csv
import io
from datetime import datetime, timezone
from pathlib import Path

import pytest

from attendance import excuses
from attendance.audit import ACTION_LABELS, DETAIL_LABELS, record
from attendance.cli.imports import LABELS as IMPORT_KINDS
from attendance.imports import ImportResult

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("attendance", "web", "scanner", "bench")
WRITER = ROOT / "attendance" / "audit.py"
# An f-string as an action: its source text -> every value it takes.
DYNAMIC = {
    'f"import.{kind}"': [f"import.{kind}" for kind in IMPORT_KINDS],
    'f"excuse.{outcome}"': [f"excuse.{outcome}" for outcome in excuses.OUTCOMES],
}


def _constants(tree: ast.Module) -> dict[str, str]:
    return {target.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}


def _values(node: ast.expr, constants: dict[str, str], source: str, where: str) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return (_values(node.body, constants, source, where)
                + _values(node.orelse, constants, source, where))
    if isinstance(node, ast.Name) and node.id in constants:
        return [constants[node.id]]
    text = ast.get_source_segment(source, node)
    if text in DYNAMIC:
        return DYNAMIC[text]
    pytest.fail(f"{where}: action={text} — write the code as a literal, or list its values "
                "in DYNAMIC of this test")


def written_actions() -> dict[str, str]:
    """Every action code the product's source writes, with where (path:line)."""
    found: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
            constants = _constants(tree)
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or (
                        isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument"):
                    continue  # argparse's action= is something else
                for keyword in node.keywords:
                    if keyword.arg == "action" and not (path == WRITER and ast.unparse(
                            keyword.value) == "action"):  # record() itself passes it on
                        where = f"{path.relative_to(ROOT)}:{node.lineno}"
                        for code in _values(keyword.value, constants, source, where):
                            found.setdefault(code, where)
    return found


def test_every_action_code_written_has_a_label():
    written = written_actions()
    # The scan finds the writers, literal, named and computed alike.
    assert {"auth.login", "health.check", "import.excuses", "excuse.rejected",
            "user.deactivated"} <= set(written)
    missing = [f"{where}: {code}" for code, where in sorted(written.items())
               if code not in ACTION_LABELS]
    assert not missing, "add to attendance.audit.ACTION_LABELS:\n" + "\n".join(missing)
    assert not set(ACTION_LABELS) - set(written), "labels for codes nothing writes"


def _dict_keys(node: ast.expr, assigned: dict[str, list[ast.expr]], source: str,
               where: str) -> set[str]:
    """The keys of a details dict as written: literal keys, those of nested dicts, those of
    a name assigned a dict in the same module, and ``**`` of a known call."""
    if isinstance(node, ast.Name):
        found = assigned.get(node.id)
        if not found:
            pytest.fail(f"{where}: details={node.id} — give the dict as a literal")
        return set().union(*(_dict_keys(value, assigned, source, where) for value in found))
    if not isinstance(node, ast.Dict):
        pytest.fail(f"{where}: details={ast.get_source_segment(source, node)} — a dict literal")
    keys: set[str] = set()
    for key, value in zip(node.keys, node.values):
        if key is None:  # **mapping
            text = ast.get_source_segment(source, value)
            if text not in DYNAMIC_DETAILS:
                pytest.fail(f"{where}: **{text} — list its keys in DYNAMIC_DETAILS")
            keys |= DYNAMIC_DETAILS[text]
            continue
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            keys.add(key.value)
        if isinstance(value, (ast.Dict, ast.Name)) and not (
                isinstance(value, ast.Name) and value.id not in assigned):
            keys |= _dict_keys(value, assigned, source, where)
    return keys


# A ``**`` in a details dict: its source text -> the keys it adds.
DYNAMIC_DETAILS = {"result.counts()": set(ImportResult(kind="units").counts())}


def written_detail_keys() -> dict[str, str]:
    """Every key of the details the product's source writes, with where (path:line)."""
    found: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
            assigned: dict[str, list[ast.expr]] = {}
            for node in ast.walk(tree):
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            assigned.setdefault(target.id, []).append(node.value)
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                for keyword in node.keywords:
                    if keyword.arg == "details" and not (path == WRITER and ast.unparse(
                            keyword.value) == "details"):  # record() itself passes it on
                        where = f"{path.relative_to(ROOT)}:{node.lineno}"
                        for key in _dict_keys(keyword.value, assigned, source, where):
                            found.setdefault(key, where)
    return found


def test_every_details_key_written_has_a_label():
    written = written_detail_keys()
    # The scan finds literal, nested, named and spread keys alike.
    assert {"excuse", "before", "role", "today", "skipped", "silent_stations"} <= set(written)
    missing = [f"{where}: {key}" for key, where in sorted(written.items())
               if key not in DETAIL_LABELS]
    assert not missing, "add to attendance.audit.DETAIL_LABELS:\n" + "\n".join(missing)
    assert not set(DETAIL_LABELS) - set(written), "labels for keys nothing writes"


AT = datetime(2026, 11, 23, 3, 0, 5, tzinfo=timezone.utc)  # 10:00:05 in Hà Nội


def test_the_cli_lists_labels_and_codes(cli, session_factory):
    with session_factory() as session:
        record(session, actor="head_snv", action="excuse.approved", at=AT,
               target="employee:E-SNV", details={"excuse": 7})
        record(session, actor="admin", action="user.deactivated", at=AT,
               target="=cmd|' /C calc'!A0")
        record(session, actor="old", action="legacy.thing", at=AT)  # unknown to this release
        session.commit()
    text = cli("audit", "list", "--limit", "2")
    assert text.exit_code == 0
    assert text.stdout.splitlines() == [
        "#3\t23/11/2026 10:00:05\told\tlegacy.thing [legacy.thing]\t\t",
        "#2\t23/11/2026 10:00:05\tadmin\tKhóa tài khoản [user.deactivated]\t=cmd|' /C calc'!A0\t",
    ]
    exported = cli("audit", "list", "--format", "csv")
    assert exported.exit_code == 0
    rows = list(csv.reader(io.StringIO(exported.stdout.lstrip("\ufeff"))))
    assert rows == [
        ["Số thứ tự", "Thời điểm", "Người thực hiện", "Thao tác", "Mã thao tác", "Đối tượng",
         "Chi tiết"],
        ["3", "23/11/2026 10:00:05", "old", "legacy.thing", "legacy.thing", "", ""],
        ["2", "23/11/2026 10:00:05", "admin", "Khóa tài khoản", "user.deactivated",
         "'=cmd|' /C calc'!A0", ""],  # a spreadsheet shows it as text, never runs it
        ["1", "23/11/2026 10:00:05", "head_snv", "Duyệt đơn nghỉ phép, công tác",
         "excuse.approved", "employee:E-SNV", '{"excuse": 7}'],
    ]


def test_the_cli_on_an_empty_log(cli):
    assert cli("audit", "list").stdout == "Nhật ký hệ thống chưa có mục nào.\n"


def test_the_cli_shows_details_as_the_audit_log_page_does(cli, session_factory):
    """Labelled fields on the entry's line, codes by their labels, dates dd/mm/yyyy and
    instants in local time, files by name; the csv keeps the details as recorded."""
    with session_factory() as session:
        record(session, actor="admin", action="user.role_changed", at=AT, target="user:binh",
               details={"before": {"role": "staff", "unit": None, "employee": "E-SNV"},
                        "after": {"role": "inspector", "unit": None, "employee": None}})
        record(session, actor="admin", action="import.units", at=AT,
               target="/srv/chamcong/instance/uploads/import-3f9a.csv",
               details={"kind": "units", "rows": 12, "skipped": 1})
        record(session, actor="E-SNV", action="excuse.requested", at=AT,
               target="employee:E-SNV",
               details={"excuse": 4, "kind": "leave", "part": "morning",
                        "from": "2026-11-24", "to": "2026-11-25"})
        record(session, actor="inspector", action="scan.withdrawn", at=AT, target="scan:9",
               details={"scan": 9, "scanned_at": "2026-11-23T00:35:07+00:00",
                        "reason": "Quẹt hộ"})
        record(session, actor="scheduler", action="health.check", at=AT,
               details={"ok": False, "silent_stations": ["CONG-1", "CONG-2"]})
        record(session, actor="old", action="legacy.text", at=AT, details="free text")
        session.commit()
    result = cli("audit", "list")
    assert result.exit_code == 0
    details = {line.split("\t")[3]: line.split("\t")[4:] for line in result.stdout.splitlines()}
    assert details == {
        "Kiểm tra hằng đêm [health.check]": [
            "", "Đạt yêu cầu: không; Điểm quét thẻ mất tín hiệu: CONG-1, CONG-2"],
        "legacy.text [legacy.text]": ["", "free text"],
        "Hủy lượt quét thẻ [scan.withdrawn]": [
            "scan:9", "Lượt quét thẻ số: 9; Thời điểm quét thẻ: 23/11/2026 07:35:07; "
            "Lý do: Quẹt hộ"],
        "Gửi đơn nghỉ phép, công tác [excuse.requested]": [
            "employee:E-SNV", "Đơn số: 4; Loại: nghỉ phép; Thời gian nghỉ: buổi sáng; "
            "Từ: 24/11/2026; Đến: 25/11/2026"],
        "Nhập đơn vị từ tệp [import.units]": [
            "import-3f9a.csv", "Loại: Đơn vị; Số dòng: 12; Bỏ qua: 1"],
        "Đổi vai trò tài khoản [user.role_changed]": [
            "user:binh", "Trước khi sửa: (Vai trò: Cán bộ, công chức, viên chức; Đơn vị: —; "
            "Cán bộ: E-SNV); Sau khi sửa: (Vai trò: Cán bộ kiểm tra; Đơn vị: —; Cán bộ: —)"],
    }
    assert "{" not in result.stdout and "/srv/" not in result.stdout
    exported = cli("audit", "list", "--format", "csv").stdout.lstrip("\ufeff")
    rows = {row[4]: row for row in csv.reader(io.StringIO(exported))}
    assert rows["import.units"][5:] == ["/srv/chamcong/instance/uploads/import-3f9a.csv",
                                        '{"kind": "units", "rows": 12, "skipped": 1}']
