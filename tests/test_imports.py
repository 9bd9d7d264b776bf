"""Imports of units, employees, scans and excuses from CSV and XLSX files."""

from __future__ import annotations

import csv
import json
import unicodedata
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from attendance.excuses import revoke_approval
from attendance.imports import (
    ImportFileError,
    email_problem,
    import_employees,
    import_excuses,
    import_scans,
    import_units,
    scan_event_id,
)
from attendance.models import (
    AuditEntry,
    Employee,
    Excuse,
    ExcuseDecision,
    NoBadgeRecord,
    Scan,
    Station,
    Unit,
)

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)
FORMULA = "=cmd|' /C calc'!A0"
HTML = "<b>Phạm</b> <script>alert(1)</script>"


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def csv_to_xlsx(source: Path, target: Path) -> Path:
    """The same table as an XLSX workbook; text that looks like a formula stays text."""
    workbook = Workbook()
    sheet = workbook.active
    with source.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.reader(handle):
            sheet.append([cell if cell != "" else None for cell in row])
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    workbook.save(target)
    return target


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def load_org(session, config, units=DATA / "import_units.csv", employees=DATA / "import_employees.csv"):
    result_units = import_units(session, units, config=config, now=NOW)
    result_employees = import_employees(session, employees, now=NOW)
    return result_units, result_employees


def org_snapshot(session) -> list[tuple]:
    units = [(u.code, u.name, u.parent.code if u.parent else None, u.schedule,
              u.head.code if u.head else None)
             for u in session.scalars(select(Unit).order_by(Unit.code))]
    employees = [(e.code, e.full_name, e.unit.code, e.position, e.category, e.card_number,
                  e.email, e.start_date, e.end_date)
                 for e in session.scalars(select(Employee).order_by(Employee.code))]
    return units + employees


def test_units_and_employees_import_and_reimport_without_duplicates(db_session, config):
    units, employees = load_org(db_session, config)
    assert (units.created, units.updated, units.errors) == (4, 0, [])
    assert (employees.created, employees.errors) == (5, [])

    snv = db_session.scalar(select(Unit).where(Unit.code == "SNV"))
    assert snv.parent.code == "UBND" and snv.schedule == "default"
    assert snv.head.code == "E001"
    assert db_session.scalar(select(Unit).where(Unit.code == "SNV-VP")).parent is snv
    e003 = db_session.scalar(select(Employee).where(Employee.code == "E003"))
    assert e003.category == "HĐ" and e003.start_date == date(2019, 9, 1)

    before = org_snapshot(db_session)
    units, employees = load_org(db_session, config)
    assert (units.created, units.updated, units.unchanged) == (0, 0, 4)
    assert (employees.created, employees.updated, employees.unchanged) == (0, 0, 5)
    assert count(db_session, Unit) == 4 and count(db_session, Employee) == 5
    assert org_snapshot(db_session) == before


def test_reimport_updates_changed_rows(db_session, config, tmp_path):
    load_org(db_session, config)
    changed = write_csv(tmp_path / "e.csv", [
        ["code", "full_name", "unit_code", "position", "category"],
        ["E002", "Trần Thị Bích Ngọc", "STC", "Phó Trưởng phòng", "CC"],
    ])
    result = import_employees(db_session, changed, now=NOW)
    assert (result.created, result.updated) == (0, 1)
    e002 = db_session.scalar(select(Employee).where(Employee.code == "E002"))
    # Columns left out of the header keep their values.
    assert (e002.unit.code, e002.position, e002.card_number) == ("STC", "Phó Trưởng phòng", "QN000002")


def test_a_move_to_another_unit_once_stations_record_gets_a_notice(db_session, config,
                                                                   tmp_path):
    """Reports of past days, compiled again, count staff in their unit of today (QA): once
    there is a past, an import that moves someone says so."""
    load_org(db_session, config)
    moved = write_csv(tmp_path / "e.csv", [
        ["code", "full_name", "unit_code", "position", "category"],
        ["E002", "Trần Thị Bích Ngọc", "STC", "Chuyên viên", "CC"],
    ])
    stay = write_csv(tmp_path / "s.csv", [
        ["code", "full_name", "unit_code", "position", "category"],
        ["E003", "Lê Hoàng", "SNV-VP", "Nhân viên lái xe", "HĐ"],
    ])
    assert import_employees(db_session, moved, now=NOW).notices == []  # setting up: no past
    e002 = db_session.scalar(select(Employee).where(Employee.code == "E002"))
    db_session.add(Scan(source="import:x", event_id="e1", employee_id=e002.id,
                        status="accepted", scanned_at=NOW, received_at=NOW, flags="",
                        stream="s", seq=1, prev_hash="0" * 64, hash="1" * 64))
    db_session.flush()
    back = import_employees(db_session, write_csv(tmp_path / "b.csv", [
        ["code", "full_name", "unit_code", "position", "category"],
        ["E002", "Trần Thị Bích Ngọc", "SNV-VP", "Chuyên viên", "CC"]]), now=NOW)
    assert [str(n) for n in back.notices] == [
        "1 cán bộ chuyển đơn vị: báo cáo xem lại những ngày đã qua sẽ tính họ vào đơn vị mới, "
        "kể cả trước ngày chuyển (báo cáo đã phát hành giữ nguyên). Mã: E002"]
    assert import_employees(db_session, stay, now=NOW).notices == []


def test_formula_and_html_names_are_stored_verbatim(db_session, config):
    load_org(db_session, config)
    names = set(db_session.scalars(select(Employee.full_name)))
    assert FORMULA in names and HTML in names


def test_hd_is_stored_as_hđ_and_text_is_nfc(db_session, config, tmp_path):
    load_org(db_session, config)
    decomposed = unicodedata.normalize("NFD", "Đỗ Thị Thủy")
    path = write_csv(tmp_path / "e.csv", [
        ["code", "full_name", "unit_code", "position", "category"],
        ["E201", decomposed, "SNV", "Văn thư", "hd"],
        ["E202", "Ngô Văn Lực", "SNV", "Bảo vệ", unicodedata.normalize("NFD", "HĐ")],
    ], encoding="utf-8-sig")
    result = import_employees(db_session, path, now=NOW)
    assert result.errors == []
    rows = dict(db_session.execute(select(Employee.code, Employee.category)
                                   .where(Employee.code.in_(["E201", "E202"]))).all())
    assert rows == {"E201": "HĐ", "E202": "HĐ"}
    name = db_session.scalar(select(Employee.full_name).where(Employee.code == "E201"))
    assert name == unicodedata.normalize("NFC", "Đỗ Thị Thủy")


def test_xlsx_and_csv_give_the_same_result(db_session, config, tmp_path):
    load_org(db_session, config)
    from_csv = org_snapshot(db_session)
    db_session.rollback()
    assert count(db_session, Unit) == 0
    load_org(db_session, config,
             units=csv_to_xlsx(DATA / "import_units.csv", tmp_path / "units.xlsx"),
             employees=csv_to_xlsx(DATA / "import_employees.csv", tmp_path / "employees.xlsx"))
    assert org_snapshot(db_session) == from_csv


def employee_codes(session_factory) -> set[str]:
    """The employees committed (what another process would see)."""
    with session_factory() as session:
        return set(session.scalars(select(Employee.code)))


BAD_ROWS = ["dòng 3: unit_code: đơn vị KHONGCO không tồn tại",
            "dòng 4: category: loại cán bộ không hợp lệ 'XX' (chỉ nhận CB, CC, VC, HĐ)"]


def test_a_bad_row_is_reported_with_its_line_and_nothing_is_imported(cli, session_factory):
    assert cli("import", "units", str(DATA / "import_units.csv")).exit_code == 0
    result = cli("import", "employees", str(DATA / "import_employees_bad.csv"))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == BAD_ROWS
    assert "Không nhập dòng nào: tệp có 2 dòng lỗi trên 4 dòng" in result.stdout
    assert employee_codes(session_factory) == set()


def test_skip_bad_rows_imports_the_good_rows_and_succeeds(cli, session_factory):
    """Skipping the bad rows is what the user asked for: exit 0, each skipped row named."""
    assert cli("import", "units", str(DATA / "import_units.csv")).exit_code == 0
    path = DATA / "import_employees_bad.csv"
    result = cli("import", "employees", str(path), "--skip-bad-rows")
    assert result.exit_code == 0
    assert result.stderr.splitlines() == BAD_ROWS
    assert result.stdout.splitlines() == [
        f"Nhập cán bộ, công chức, viên chức, người lao động từ {path}: Đã xử lý 4 dòng: "
        "nhập 2 dòng (thêm mới 2, cập nhật 0, không thay đổi 0), bỏ qua 2 dòng lỗi."]
    assert employee_codes(session_factory) == {"E101", "E104"}
    again = cli("import", "employees", str(path), "--skip-bad-rows")
    assert again.exit_code == 0 and again.stderr.splitlines() == BAD_ROWS
    assert "nhập 2 dòng (thêm mới 0, cập nhật 0, không thay đổi 2), bỏ qua 2" in again.stdout


def test_skip_bad_rows_fails_when_no_row_is_good(cli, session_factory, tmp_path):
    assert cli("import", "units", str(DATA / "import_units.csv")).exit_code == 0
    path = write_csv(tmp_path / "e.csv", [
        ["code", "full_name", "unit_code", "position", "category"],
        ["E101", "Võ Thị Hạnh", "KHONGCO", "Chuyên viên", "CC"]])
    result = cli("import", "employees", str(path), "--skip-bad-rows")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["dòng 2: unit_code: đơn vị KHONGCO không tồn tại"]
    assert "nhập 0 dòng" in result.stdout and "bỏ qua 1 dòng lỗi" in result.stdout
    assert employee_codes(session_factory) == set()


def test_nothing_of_a_bad_file_reaches_the_database(db_session, config):
    import_units(db_session, DATA / "import_units.csv", config=config, now=NOW)
    result = import_employees(db_session, DATA / "import_employees_bad.csv", now=NOW)
    assert not result.applied
    assert [(e.line, e.reason.split(":")[0]) for e in result.errors] == [(3, "unit_code"), (4, "category")]
    assert count(db_session, Employee) == 0


EMPLOYEE_HEADER = ["code", "full_name", "unit_code", "position", "category", "card_number",
                   "email", "start_date", "end_date", "head_of"]
MANY_ERRORS = [
    EMPLOYEE_HEADER,
    ["N-1", "Nguyễn Văn An", "SNV", "Chuyên viên", "CC", "", "", "", "", ""],
    ["N-2", FORMULA, HTML, "x" * 300, "XX", "", "", "2026-12-01", "31/02/2026", HTML],
    ["N-1", "Lê Văn Cường", "SNV", "", "CC", "", "", "2026-12-01", "2026-11-01", ""],
    ["N-3", FORMULA, "SNV", "", "VC", "", "", "", "", ""],
]


def test_every_problem_of_a_row_is_reported_with_its_column(cli, tmp_path):
    assert cli("import", "units", str(DATA / "import_units.csv")).exit_code == 0
    path = write_csv(tmp_path / "nhan-su.csv", MANY_ERRORS)
    result = cli("import", "employees", str(path))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"dòng 3: unit_code: đơn vị {HTML} không tồn tại",
        "dòng 3: position: dài quá 255 ký tự",
        "dòng 3: category: loại cán bộ không hợp lệ 'XX' (chỉ nhận CB, CC, VC, HĐ)",
        "dòng 3: end_date: ngày không hợp lệ '31/02/2026' (cần YYYY-MM-DD hoặc dd/mm/yyyy)",
        f"dòng 3: head_of: đơn vị {HTML} không tồn tại",
        "dòng 4: code: mã N-1 trùng trong tệp (đã có ở dòng 2)",
        "dòng 4: end_date: ngày kết thúc trước ngày bắt đầu",
    ]  # a name that looks like a formula is data, not a mistake
    assert "tệp có 2 dòng lỗi trên 4 dòng" in result.stdout
    skipped = cli("import", "employees", str(path), "--skip-bad-rows")
    assert skipped.exit_code == 0
    assert "nhập 2 dòng (thêm mới 2, cập nhật 0, không thay đổi 0), bỏ qua 2" in skipped.stdout


def test_several_problems_on_a_row_change_nothing_else(db_session, config, tmp_path):
    import_units(db_session, DATA / "import_units.csv", config=config, now=NOW)
    path = write_csv(tmp_path / "nhan-su.csv", MANY_ERRORS)
    refused = import_employees(db_session, path, now=NOW)
    assert not refused.applied and (refused.bad_rows, len(refused.errors)) == (2, 7)
    assert [(e.line, e.column) for e in refused.errors] == [
        (3, "unit_code"), (3, "position"), (3, "category"), (3, "end_date"), (3, "head_of"),
        (4, "code"), (4, "end_date")]
    assert count(db_session, Employee) == 0
    result = import_employees(db_session, path, skip_bad_rows=True, now=NOW)
    assert (result.created, result.skipped) == (2, 2)
    names = dict(db_session.execute(select(Employee.code, Employee.full_name)).all())
    assert names == {"N-1": "Nguyễn Văn An", "N-3": FORMULA}


def test_a_malformed_email_is_a_bad_row(db_session, config, tmp_path):
    import_units(db_session, DATA / "import_units.csv", config=config, now=NOW)
    path = write_csv(tmp_path / "e.csv", [
        ["code", "full_name", "unit_code", "position", "category", "email"],
        ["E101", "Võ Thị Hạnh", "SNV", "Chuyên viên", "CC", "hanh.vt@snv.quangnam.gov.vn"],
        ["E102", "Đặng Minh Quân", "SNV", "Chuyên viên", "CC", "quan.dm snv.quangnam.gov.vn"],
        ["E103", "Bùi Thu Trang", "SNV", "Chuyên viên", "CC", "trang.bt@"],
        ["E104", "Hồ Văn Sơn", "SNV", "Cán sự", "CB", "son.hv@quangnam"],
        ["E105", "Lê Thị Mai", "SNV", "Chuyên viên", "CC", "mai.lt.quangnam.gov.vn"],
        ["E106", "Ngô Văn Lực", "SNV", "Bảo vệ", "HĐ", ""],
    ])
    refused = import_employees(db_session, path, now=NOW)
    assert not refused.applied
    assert [str(e) for e in refused.errors] == [
        "dòng 3: email: địa chỉ thư điện tử không hợp lệ 'quan.dm snv.quangnam.gov.vn'",
        "dòng 4: email: địa chỉ thư điện tử không hợp lệ 'trang.bt@'",
        "dòng 5: email: địa chỉ thư điện tử không hợp lệ 'son.hv@quangnam'",
        "dòng 6: email: địa chỉ thư điện tử không hợp lệ 'mai.lt.quangnam.gov.vn'",
    ]
    assert count(db_session, Employee) == 0
    result = import_employees(db_session, path, skip_bad_rows=True, now=NOW)
    assert (result.created, result.skipped) == (2, 4)
    emails = dict(db_session.execute(select(Employee.code, Employee.email)).all())
    assert emails == {"E101": "hanh.vt@snv.quangnam.gov.vn", "E106": None}


@pytest.mark.parametrize("address, valid", [
    ("an.nv@example.gov.vn", True),
    ("o'brien+bao-cao@snv.quangnam.gov.vn", True),
    ("an@sởnộivụ.vn", True),  # a Vietnamese domain name
    ("an@xn--snv-ola.vn", True),
    ("an nv@example.gov.vn", False),
    ("an.nv\t@example.gov.vn", False),
    ("an@@example.gov.vn", False),
    ("@example.gov.vn", False),
    ("nguyễn.an@example.gov.vn", False),  # not every office's mail server takes SMTPUTF8
    ("an,binh@example.gov.vn", False),
    ("an..nv@example.gov.vn", False),
    ("an.@example.gov.vn", False),
    ("an@example..vn", False),
    ("an@example.gov.vn.", False),
    ("an@-example.vn", False),
    ("an@example_snv.vn", False),
    ("an@10.0.0.1", False),
    ("an@localhost", False),
])
def test_email_addresses_are_checked_by_form_only(address, valid):
    """No DNS: offices run on closed networks, so only the address's form is checked."""
    found = email_problem(address)
    assert found is None if valid else found == f"địa chỉ thư điện tử không hợp lệ {address!r}"


def test_new_staff_counted_from_the_past_get_a_notice(db_session, config, tmp_path):
    """QA: HR adding this week's recruits without a start date made them absent on every
    recorded working day, and rewrote those days' reports, without a word."""
    load_org(db_session, config)
    header = ["code", "full_name", "unit_code", "position", "category", "start_date"]
    recruits = write_csv(tmp_path / "moi.csv", [
        header, ["E201", "Lý Thị Hằng", "SNV", "Chuyên viên", "VC", ""],
        ["E202", "Đỗ Văn Khải", "SNV", "Chuyên viên", "VC", "2026-11-27"]])
    setting_up = write_csv(tmp_path / "dau.csv", [
        header, ["E200", "Phan Văn Tùng", "SNV", "Chuyên viên", "CC", ""]])
    # before any scan (setting up the deployment) there is nothing to warn about
    assert import_employees(db_session, setting_up, config=config, now=NOW).notices == []
    import_scans(db_session, DATA / "import_scans.csv", config=config, now=NOW)
    live = import_employees(db_session, recruits, config=config, now=NOW)
    assert live.notices == [
        "1 cán bộ mới được tính từ trước hôm nay (không có ngày bắt đầu, hoặc ngày bắt đầu đã "
        "qua): các ngày làm việc đã qua, từ ngày 23/11/2026, sẽ tính là vắng không lý do và "
        "báo cáo của những ngày đó sẽ thay đổi. Nếu họ mới đến, hãy ghi cột start_date. "
        "Mã: E201"]
    again = import_employees(db_session, recruits, config=config, now=NOW)
    assert again.notices == []  # only newcomers: E201 is known now


def test_skip_bad_rows_imports_the_good_ones(db_session, config):
    import_units(db_session, DATA / "import_units.csv", config=config, now=NOW)
    result = import_employees(db_session, DATA / "import_employees_bad.csv", skip_bad_rows=True, now=NOW)
    assert result.applied and (result.created, result.skipped) == (2, 2)
    assert set(db_session.scalars(select(Employee.code))) == {"E101", "E104"}


def test_cli_summary_and_committed_data(cli, database_url):
    for kind in ("units", "employees", "scans", "excuses"):
        result = cli("import", kind, str(DATA / f"import_{kind}.csv"))
        assert result.exit_code == 0, result.output
        assert "thêm mới" in result.output
    again = cli("import", "scans", str(DATA / "import_scans.csv"))
    assert "thêm mới 0" in again.output and "không thay đổi 5" in again.output


@pytest.mark.parametrize("rows, line, reason", [
    ([["A", "Đơn vị A", "B", ""], ["B", "Đơn vị B", "A", ""]], 2, "vòng lặp"),
    ([["A", "Đơn vị A", "", ""], ["A", "Đơn vị A lần hai", "", ""]], 3, "trùng trong tệp"),
    ([["A", "Đơn vị A", "", "khong-co"]], 2, "lịch làm việc"),
    ([["A", "Đơn vị A", "ZZZ", ""]], 2, "không tồn tại"),
    ([["A", "", "", ""]], 2, "name: bắt buộc"),
])
def test_unit_validation(db_session, config, tmp_path, rows, line, reason):
    path = write_csv(tmp_path / "u.csv", [["code", "name", "parent_code", "schedule"], *rows])
    result = import_units(db_session, path, config=config, now=NOW)
    assert not result.applied
    assert result.errors[0].line == line and reason in result.errors[0].reason
    assert count(db_session, Unit) == 0


def test_a_cycle_through_stored_units_is_refused(db_session, config, tmp_path):
    import_units(db_session, DATA / "import_units.csv", config=config, now=NOW)
    path = write_csv(tmp_path / "u.csv", [["code", "name", "parent_code"],
                                          ["UBND", "UBND tỉnh", "SNV-VP"]])
    result = import_units(db_session, path, config=config, now=NOW)
    assert "vòng lặp" in result.errors[0].reason
    assert "UBND → SNV-VP → SNV → UBND" in result.errors[0].reason


@pytest.mark.parametrize("row, column", [
    (["E9", "Tên", "SNV", "", "CC", "", "", "2026-13-01", "", ""], "start_date"),
    (["E9", "Tên", "SNV", "", "CC", "", "", "2026-05-01", "2026-04-01", ""], "end_date"),
    (["E9", "Tên", "SNV", "", "CC", "", "", "", "", "NOPE"], "head_of"),
    (["E9", "Tên", "SNV", "", "", "", "", "", "", ""], "category"),
    (["E9", "Tên", "SNV", "", "CC", "QN000001", "", "", "", ""], "card_number"),
])
def test_employee_validation(db_session, config, tmp_path, row, column):
    load_org(db_session, config)
    header = ["code", "full_name", "unit_code", "position", "category", "card_number", "email",
              "start_date", "end_date", "head_of"]
    result = import_employees(db_session, write_csv(tmp_path / "e.csv", [header, row]), now=NOW)
    assert [(e.line, e.reason.split(":")[0]) for e in result.errors] == [(2, column)]


def test_header_errors_name_line_one(db_session, config, tmp_path):
    path = write_csv(tmp_path / "u.csv", [["code", "ten"], ["A", "B"]])
    with pytest.raises(ImportFileError, match="dòng 1: cột không hợp lệ: ten"):
        import_units(db_session, path, config=config)
    path = write_csv(tmp_path / "e.csv", [["code", "full_name"], ["A", "B"]])
    with pytest.raises(ImportFileError, match="thiếu cột bắt buộc: unit_code"):
        import_employees(db_session, path)


def test_a_scan_not_yet_taken_is_a_bad_row(db_session, config, tmp_path):
    """Scans are chained, so a typo in the year (2062 for 2026) could never be taken back:
    an instant past now (beyond the stations' allowed clock skew, 2 minutes) is refused."""
    load_org(db_session, config)
    path = write_csv(tmp_path / "s.csv", [
        ["employee_code", "scanned_at", "station", "kind"],
        ["E001", "2026-11-27T10:01:00+07:00", "CONG", "badge"],  # NOW + 1 min: a clock ahead
        ["E001", "2062-11-26T07:30:00+07:00", "CONG", "badge"],
        ["E002", "2026-11-27T10:05:00+07:00", "CONG", "no_badge"],
    ])
    result = import_scans(db_session, path, config=config, now=NOW)
    assert [str(e) for e in result.errors] == [
        "dòng 3: scanned_at: thời điểm 26/11/2062 07:30:00 chưa tới; không nhập lượt quét "
        "chưa xảy ra",
        "dòng 4: scanned_at: thời điểm 27/11/2026 10:05:00 chưa tới; không nhập lượt quét "
        "chưa xảy ra"]
    assert not result.applied and count(db_session, Scan) == 0


def test_scans_are_idempotent_and_chained(db_session, config):
    load_org(db_session, config)
    unit = db_session.scalar(select(Unit).where(Unit.code == "SNV"))
    db_session.add(Station(code="CONG-SNV", unit_id=unit.id, key_hash="x" * 64, created_at=NOW))
    db_session.flush()

    result = import_scans(db_session, DATA / "import_scans.csv", now=NOW)
    assert (result.created, result.errors) == (5, [])
    scans = db_session.scalars(select(Scan).order_by(Scan.seq)).all()
    assert [s.seq for s in scans] == [1, 2, 3, 4]
    assert all(s.hash == s.compute_hash() for s in scans)
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(scans, scans[1:]))
    first = scans[0]
    assert first.source == "import:CONG-SNV" and first.station_id is not None
    assert first.status == "accepted" and first.received_at == NOW
    assert first.scanned_at == datetime(2026, 11, 23, 0, 20, tzinfo=timezone.utc)
    assert first.event_id == scan_event_id("E001", first.scanned_at, "CONG-SNV", "badge")
    assert scans[2].source == "import:" and scans[3].source == "import:CONG-STC"
    assert scans[3].station_id is None
    no_badge = db_session.scalars(select(NoBadgeRecord)).one()
    assert (no_badge.source, no_badge.place, no_badge.stream) == ("guard", "Cổng bảo vệ", "nobadge:SNV-VP")

    again = import_scans(db_session, DATA / "import_scans.csv", now=NOW)
    assert (again.created, again.unchanged) == (0, 5)
    assert count(db_session, Scan) == 4 and count(db_session, NoBadgeRecord) == 1


def test_a_scan_without_an_offset_is_refused(db_session, config, tmp_path):
    load_org(db_session, config)
    path = write_csv(tmp_path / "s.csv", [["employee_code", "scanned_at", "station", "kind"],
                                          ["E001", "2026-11-23T07:20:00+07:00", "", "badge"],
                                          ["E001", "2026-11-23T07:20:00", "", "badge"],
                                          ["E404", "2026-11-23T07:20:00+07:00", "", "badge"],
                                          ["E001", "2026-11-23T07:20:00+07:00", "", "face"]])
    result = import_scans(db_session, path, now=NOW)
    assert [e.line for e in result.errors] == [3, 4, 5]
    assert "múi giờ" in result.errors[0].reason
    assert count(db_session, Scan) == 0


def test_excuses_are_approved_and_idempotent(db_session, config):
    load_org(db_session, config)
    result = import_excuses(db_session, DATA / "import_excuses.csv", now=NOW)
    assert (result.created, result.errors) == (3, [])
    excuses = db_session.scalars(select(Excuse).order_by(Excuse.id)).all()
    assert {e.status for e in excuses} == {"approved"}
    assert excuses[1].part == "morning" and excuses[1].kind == "business_trip"
    decisions = db_session.scalars(select(ExcuseDecision)).all()
    assert len(decisions) == 3
    assert {(d.decision, d.decided_by) for d in decisions} == {("approved", "import")}
    assert {d.stream for d in decisions} == {"excuse:STC", "excuse:SNV-VP"}

    again = import_excuses(db_session, DATA / "import_excuses.csv", now=NOW)
    assert (again.created, again.unchanged) == (0, 3)
    assert count(db_session, Excuse) == 3 and count(db_session, ExcuseDecision) == 3


def test_excuse_ending_before_it_starts_is_refused(db_session, config, tmp_path):
    load_org(db_session, config)
    path = write_csv(tmp_path / "x.csv", [["employee_code", "start_date", "end_date", "part", "kind", "note"],
                                          ["E001", "2026-11-25", "2026-11-24", "full", "leave", ""]])
    result = import_excuses(db_session, path, now=NOW)
    assert result.errors[0].line == 2 and "ngày kết thúc trước ngày bắt đầu" in result.errors[0].reason


def test_excuses_the_form_would_refuse_are_refused(db_session, config,
                                                                    tmp_path):
    load_org(db_session, config)  # NOW is Friday 27/11/2026: the horizon is 28/11/2027
    path = write_csv(tmp_path / "x.csv", [
        ["employee_code", "start_date", "end_date", "part", "kind", "note"],
        ["E001", "9999-12-31", "9999-12-31", "full", "leave", ""],
        ["E001", "29/11/2026", "29/11/2026", "morning", "business_trip", ""],
        ["E001", "2026-11-28", "2026-11-29", "full", "leave", ""],
        ["E404", "2026-11-24", "2026-11-24", "full", "leave", ""],
        ["E001", "2026-11-27", "2026-11-30", "full", "leave", "Qua cuối tuần"],
        ["E001", "2025-11-03", "2025-11-03", "full", "other", "Hồ sơ năm trước"],
        ["E001", "0206-11-23", "0206-11-23", "full", "leave", ""],
        ["E001", "2026-11-23", "2026-11-25", "morning", "leave", ""],
    ])
    result = import_excuses(db_session, path, config=config, now=NOW)
    assert [str(e) for e in result.errors] == [
        "dòng 2: end_date: chỉ xin trước được tối đa 366 ngày (đến ngày 28/11/2027)",
        "dòng 3: start_date: ngày 29/11/2026 không phải ngày làm việc (Chủ Nhật, ngày nghỉ "
        "hằng tuần); không cần xin nghỉ",
        "dòng 4: start_date: từ ngày 28/11/2026 đến ngày 29/11/2026 không có ngày làm việc "
        "nào (ngày nghỉ lễ, ngày nghỉ hằng tuần hoặc ngoài thời gian công tác); không cần "
        "xin nghỉ",
        "dòng 5: employee_code: không có cán bộ mã E404",
        "dòng 8: start_date: ngày trước năm 1900 nằm ngoài lịch",
        "dòng 9: part: nghỉ buổi sáng hoặc buổi chiều chỉ áp dụng cho một ngày",
    ]
    imported = import_excuses(db_session, path, config=config, now=NOW, skip_bad_rows=True)
    assert (imported.created, imported.skipped) == (2, 6)
    assert [e.note for e in db_session.scalars(select(Excuse).order_by(Excuse.id))] == [
        "Qua cuối tuần", "Hồ sơ năm trước"]  # a file may bring last year's records


EXCUSE_HEADER = ["employee_code", "start_date", "end_date", "part", "kind", "note"]
LEAVE = ["E005", "2026-11-23", "2026-11-25", "full", "leave", "Nghỉ phép năm"]


def test_an_excuse_repeated_in_a_file_counts_once(db_session, config, tmp_path):
    """As a repeated scan row: the same excuse twice is one excuse, and so is a re-import."""
    load_org(db_session, config)
    path = write_csv(tmp_path / "x.csv", [
        EXCUSE_HEADER, LEAVE, ["E004", "2026-11-25", "2026-11-25", "morning", "other", ""], LEAVE])
    result = import_excuses(db_session, path, config=config, now=NOW)
    assert result.errors == [] and (result.created, result.unchanged) == (2, 1)
    assert count(db_session, Excuse) == 2 and count(db_session, ExcuseDecision) == 2
    again = import_excuses(db_session, path, config=config, now=NOW)
    assert again.errors == []
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert count(db_session, Excuse) == 2 and count(db_session, ExcuseDecision) == 2


def test_excuse_rows_that_differ_are_not_one_excuse(db_session, config, tmp_path):
    """The same excuse with another note is refused (which note?); another part or kind of
    the same day is an excuse of its own, as before."""
    load_org(db_session, config)
    path = write_csv(tmp_path / "x.csv", [
        EXCUSE_HEADER, LEAVE,
        ["E005", "2026-11-23", "2026-11-25", "full", "leave", "Nghỉ ốm"],
        ["E004", "2026-11-25", "2026-11-25", "morning", "business_trip", "Họp tại Bộ"],
        ["E004", "2026-11-25", "2026-11-25", "afternoon", "business_trip", "Họp tại Bộ"],
        ["E004", "2026-11-25", "2026-11-25", "morning", "other", "Họp tại Bộ"],
    ])
    result = import_excuses(db_session, path, config=config, now=NOW)
    assert [str(e) for e in result.errors] == ["dòng 3: trùng với dòng 2 nhưng ghi chú khác"]
    assert not result.applied and count(db_session, Excuse) == 0
    skipped = import_excuses(db_session, path, config=config, now=NOW, skip_bad_rows=True)
    assert (skipped.created, skipped.skipped) == (4, 1)
    assert db_session.scalar(select(Excuse.note).where(Excuse.kind == "leave")) == "Nghỉ phép năm"


def test_a_file_does_not_approve_again_what_a_head_revoked(db_session, config, tmp_path):
    """docs/rules.md: a revoked request is not approved again; the employee files a new one."""
    load_org(db_session, config)
    path = write_csv(tmp_path / "x.csv", [EXCUSE_HEADER, LEAVE])
    import_excuses(db_session, path, config=config, now=NOW)
    first = db_session.scalar(select(Excuse))
    revoke_approval(db_session, first, by="thutruong", actor="web:thutruong",
                    reason="Không nghỉ thực tế", now=NOW)
    again = import_excuses(db_session, path, config=config, now=NOW)
    assert [str(e) for e in again.errors] == [
        "dòng 2: đơn này đã bị hủy duyệt, không duyệt lại từ tệp (người được nghỉ nộp đơn mới)"]
    assert not again.applied and first.status == "revoked"
    # filed anew (pending), the same excuse in the file approves the new request
    employee = db_session.scalar(select(Employee).where(Employee.code == "E005"))
    anew = Excuse(employee_id=employee.id, start_date=first.start_date,
                  end_date=first.end_date, part="full", kind="leave", note="Nộp lại",
                  requested_by="nhanvien", requested_at=NOW, status="pending")
    db_session.add(anew)
    db_session.flush()
    later = import_excuses(db_session, path, config=config, now=NOW)
    assert later.errors == [] and (later.created, later.updated) == (0, 1)
    assert (first.status, anew.status, anew.note) == ("revoked", "approved", "Nghỉ phép năm")


def test_cli_reimports_a_file_with_a_repeated_excuse(cli, tmp_path):
    assert cli("import", "units", str(DATA / "import_units.csv")).exit_code == 0
    assert cli("import", "employees", str(DATA / "import_employees.csv")).exit_code == 0
    leave = ["E005", "2026-11-16", "2026-11-17", "full", "leave", "Nghỉ phép năm"]
    path = write_csv(tmp_path / "nghi-phep.csv", [EXCUSE_HEADER, leave, leave])
    first = cli("import", "excuses", str(path))
    assert (first.exit_code, first.stderr) == (0, "")
    assert "Đã nhập 2 dòng: thêm mới 1, cập nhật 0, không thay đổi 1, bỏ qua 0." in first.stdout
    again = cli("import", "excuses", str(path))
    assert (again.exit_code, again.stderr) == (0, "")
    assert "thêm mới 0, cập nhật 0, không thay đổi 2" in again.stdout


def test_each_import_is_audited_with_its_counts(db_session, config):
    load_org(db_session, config)
    entries = db_session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [e.action for e in entries] == ["import.units", "import.employees"]
    assert json.loads(entries[1].details)["created"] == 5
    assert entries[0].stream == "audit" and entries[1].prev_hash == entries[0].hash


def test_rows_can_be_given_as_mappings(db_session, config):
    result = import_units(db_session, [{"code": "X", "name": "Đơn vị X"},
                                       {"code": "Y", "name": "Đơn vị Y", "parent_code": "X"}],
                          config=config, now=NOW)
    assert result.created == 2
    assert db_session.scalar(select(Unit).where(Unit.code == "Y")).parent.code == "X"


def test_progress_is_reported_through_checking_and_writing(db_session, config):
    load_org(db_session, config)
    calls: list[tuple[int, int]] = []
    import_scans(db_session, DATA / "import_scans.csv", now=NOW,
                 progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (10, 10) and {total for _, total in calls} == {10}


def test_xlsx_numbers_shown_with_leading_zeros_keep_them(db_session, config, tmp_path):
    """A clerk's sheet shows 000101 (a number formatted 000000): the code is what they see."""
    load_org(db_session, config)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["code", "full_name", "unit_code", "position", "category", "card_number"])
    sheet.append([101, "Phạm Văn Số", "SNV", "Chuyên viên", "CC", 77])
    sheet.append([102, "Lê Thị Không Định Dạng", "SNV", "Chuyên viên", "CC", 78])
    sheet["A2"].number_format = "000000"
    sheet["F2"].number_format = "00000"
    workbook.save(tmp_path / "e.xlsx")
    result = import_employees(db_session, tmp_path / "e.xlsx", now=NOW)
    assert result.errors == [] and result.created == 2
    stored = {e.code: e.card_number for e in db_session.scalars(
        select(Employee).where(Employee.full_name.in_(["Phạm Văn Số", "Lê Thị Không Định Dạng"])))}
    assert stored == {"000101": "00077", "102": "78"}


def test_an_xlsx_date_time_cell_is_local_time(db_session, config, tmp_path):
    """A spreadsheet's date-time cell has no offset: it is the deployment's local time."""
    load_org(db_session, config)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["employee_code", "scanned_at", "station", "kind"])
    sheet.append(["E001", datetime(2026, 11, 23, 7, 40), "Cổng chính", "badge"])
    sheet["B2"].number_format = "dd/mm/yyyy hh:mm"
    workbook.save(tmp_path / "s.xlsx")
    result = import_scans(db_session, tmp_path / "s.xlsx", config=config, now=NOW)
    assert result.errors == [] and result.created == 1
    scan = db_session.scalar(select(Scan))
    assert scan.scanned_at.astimezone(timezone.utc) == datetime(2026, 11, 23, 0, 40,
                                                                 tzinfo=timezone.utc)
    again = import_scans(db_session, tmp_path / "s.xlsx", config=config, now=NOW)
    assert (again.created, again.unchanged) == (0, 1)


def test_cli_summary_says_processed_when_rows_were_skipped(cli):
    assert cli("import", "units", str(DATA / "import_units.csv")).exit_code == 0
    result = cli("import", "employees", str(DATA / "import_employees_bad.csv"), "--skip-bad-rows")
    assert "Đã xử lý 4 dòng: nhập 2 dòng" in result.output
    assert "Đã nhập 4 dòng" not in result.output


def test_a_file_deep_in_folders_is_audited_by_the_end_of_its_path(db_session, config,
                                                                   tmp_path):
    """The audit entry's target holds 255 characters: a longer path keeps its end, the
    file's name, rather than failing the import on PostgreSQL."""
    folder = tmp_path / ("thư mục " * 12) / ("báo cáo " * 12)
    folder.mkdir(parents=True)
    path = folder / "don-vi.csv"
    path.write_bytes((DATA / "import_units.csv").read_bytes())
    assert len(str(path)) > 255
    assert import_units(db_session, path, config=config, now=NOW).applied
    db_session.flush()
    target = db_session.scalar(select(AuditEntry.target).order_by(AuditEntry.id.desc()))
    assert len(target) == 255 and target.startswith("…") and target.endswith("/don-vi.csv")


def test_excuses_overlapping_others_are_kept_with_a_notice(db_session, config, tmp_path):
    """The form refuses a request over a day another one covers; a file is kept whole, but
    the import names each excuse that now overlaps another, so that a head takes back the
    extra one. A morning and an afternoon of one day do not overlap."""
    load_org(db_session, config)
    employee = db_session.scalar(select(Employee).where(Employee.code == "E005"))
    pending = Excuse(employee_id=employee.id, start_date=date(2026, 11, 24),
                     end_date=date(2026, 11, 24), part="morning", kind="other", note="Khám bệnh",
                     requested_by="nhanvien", requested_at=NOW, status="pending")
    db_session.add(pending)
    db_session.flush()
    path = write_csv(tmp_path / "x.csv", [
        EXCUSE_HEADER, LEAVE,
        ["E004", "2026-11-25", "2026-11-25", "morning", "business_trip", "Họp tại Bộ"],
        ["E004", "2026-11-25", "2026-11-25", "afternoon", "other", "Việc riêng"],
    ])
    result = import_excuses(db_session, path, config=config, now=NOW)
    assert result.errors == [] and result.created == 3
    assert [str(n) for n in result.notices] == [
        "1 đơn trong tệp trùng thời gian với đơn khác (đang chờ duyệt hoặc đã duyệt) của cùng "
        "người; cả hai đều được giữ. Nếu đơn nào là thừa, trưởng đơn vị hãy từ chối hoặc hủy "
        "duyệt nó. Đơn: E005 (23/11/2026 – 25/11/2026)"]
    assert pending.status == "pending"  # the head decides
    assert import_excuses(db_session, path, config=config, now=NOW).notices == []  # nothing new

    both = write_csv(tmp_path / "y.csv", [
        EXCUSE_HEADER, ["E003", "2026-11-26", "2026-11-26", "full", "leave", "Nghỉ phép"],
        ["E003", "2026-11-26", "2026-11-26", "afternoon", "business_trip", "Đi Sở"]])
    assert "Đơn: E003 (26/11/2026), E003 (26/11/2026)" in str(
        import_excuses(db_session, both, config=config, now=NOW).notices[0])
