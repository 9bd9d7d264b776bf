"""Import pages: a preview that saves nothing, then a confirmation that saves once."""

from __future__ import annotations

import io
import re

from openpyxl import Workbook
from sqlalchemy import func, select
from web_helpers import csrf_token, use_english

from attendance.models import AuditEntry, Employee

HEADER = "code,full_name,unit_code,position,category\n"
EVIL = '=HYPERLINK("http://x")<script>alert(1)</script>'


def employee_count(session_factory) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(Employee))


def audit_count(session_factory) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry))


def upload(client, content: bytes, kind="employees", filename="nhan-su.csv"):
    token = csrf_token(client, "/admin/import")
    return client.post("/admin/import", data={
        "csrf_token": token, "kind": kind, "file": (io.BytesIO(content), filename),
    }, content_type="multipart/form-data")


def confirm(client, page: str, skip=False):
    fields = dict(re.findall(r'name="(csrf_token|kind|upload|filename)"[^>]*value="([^"]*)"',
                             page))
    if skip:
        fields["skip_bad_rows"] = "y"
    return client.post("/admin/import/confirm", data=fields)


def uploads(app):
    import os
    folder = os.path.join(os.environ["ATTENDANCE_INSTANCE"], "uploads")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


CSV = (HEADER + "N-1,Nguyễn Văn An,SNV,Chuyên viên,CC\n"
       "N-2,Hoàng Thị Hoa,NOPE,Chuyên viên,CC\n"
       "E-SNV,Trần Thị Bình,SNV,Trưởng phòng,CC\n").encode()


def test_preview_shows_errors_and_saves_nothing(login_as, session_factory, app):
    client = login_as("admin")
    before, audits = employee_count(session_factory), audit_count(session_factory)
    response = upload(client, CSV)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "Xem trước khi nhập" in page
    assert re.search(r'id="count-created">1<', page)
    assert re.search(r'id="count-updated">1<', page)
    assert re.search(r'id="count-errors">1<', page)
    assert "dòng 3:" in page and "NOPE" in page
    assert employee_count(session_factory) == before
    assert audit_count(session_factory) == audits
    # The file is kept under a random name, not the user's.
    [name] = uploads(app)
    assert "nhan-su" not in name and name.endswith(".csv") and name in page


def test_confirm_with_bad_rows_refuses_then_skip_saves(login_as, session_factory, app):
    client = login_as("admin")
    before = employee_count(session_factory)
    page = upload(client, CSV).get_data(as_text=True)
    refused = confirm(client, page)
    assert refused.status_code == 422
    assert "Không nhập dòng nào" in refused.get_data(as_text=True)
    assert employee_count(session_factory) == before
    saved = confirm(client, page, skip=True)
    assert saved.status_code == 303
    assert employee_count(session_factory) == before + 1
    with session_factory() as session:
        bình = session.scalar(select(Employee).where(Employee.code == "E-SNV"))
        assert bình.position == "Trưởng phòng"
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry.action == "import.employees" and entry.actor == "admin"
    assert uploads(app) == []
    done = client.get("/admin/import").get_data(as_text=True)
    # Not "imported 3 rows" when one of them was skipped.
    assert "Đã xử lý 3 dòng: thêm mới 1, cập nhật 1, không đổi 0, bỏ qua 1." in done
    # The audit log names the file the admin uploaded, not where the server kept it.
    assert entry.target == "nhan-su.csv"
    audit = client.get("/admin/audit").get_data(as_text=True)
    assert ">nhan-su.csv</td>" in audit and "/uploads/" not in audit
    # The token cannot be used twice.
    again = confirm(client, page, skip=True)
    assert again.status_code == 303 and employee_count(session_factory) == before + 1


def test_the_audit_log_names_the_uploaded_file_never_a_path(login_as, session_factory, app):
    """A client may send the folder a file was picked from; only its name is kept."""
    client = login_as("admin")
    page = upload(client, CSV, filename="/home/van-thu/Nhân sự tháng 11.csv"
                  ).get_data(as_text=True)
    assert "Nhân sự tháng 11.csv" in page and "van-thu" not in page
    [kept] = uploads(app)
    assert confirm(client, page, skip=True).status_code == 303
    with session_factory() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.target) == ("import.employees", "Nhân sự tháng 11.csv")
    audit = client.get("/admin/audit").get_data(as_text=True)
    row = next(r for r in audit.split("<tr>") if 'title="import.employees"' in r)
    assert ">Nhân sự tháng 11.csv</td>" in row and kept not in audit
    # A confirmation naming a server path keeps only the name's last part.
    page = upload(client, CSV, filename="b.csv").get_data(as_text=True)
    forged = page.replace('value="b.csv"', 'value="/srv/chamcong/instance/secret.csv"')
    assert forged != page and confirm(client, forged, skip=True).status_code == 303
    with session_factory() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.target == "secret.csv"


def test_the_preview_and_its_problems_in_english(login_as):
    client = login_as("admin")
    use_english(client)
    page = upload(client, CSV).get_data(as_text=True)
    assert "line 3: unit_code: the unit NOPE does not exist" in page
    assert "line 3: đơn vị" not in page
    page = upload(client, (HEADER + "N-1,An,SNV,Chuyên viên,XX\n").encode()).get_data(
        as_text=True)
    assert "line 2: category: invalid staff category &#39;XX&#39; (only CB, CC, VC, HĐ)" in page
    refused = upload(client, "code;tên\n".encode("utf-16")).get_data(as_text=True)
    assert "The file cannot be read: the file " in refused and "is not UTF-8" in refused
    page = upload(client, (HEADER + "N-1,Nguyễn Văn An,SNV,Chuyên viên,CC\n").encode()
                  ).get_data(as_text=True)
    response = confirm(client, page)
    assert "Read 1 row: 1 new, 0 updated, 0 unchanged, 0 skipped." in client.get(
        response.headers["Location"]).get_data(as_text=True)


def test_clean_xlsx_confirms_and_shows_names_escaped(login_as, session_factory):
    client = login_as("admin")
    book = Workbook()
    sheet = book.active
    sheet.append(["code", "full_name", "unit_code", "position", "category"])
    sheet.append(["N-9", EVIL, "SNV", "Chuyên viên", "CC"])
    sheet.append(["N-10", "Đỗ Minh", "STC", "Chuyên viên", "CC"])
    data = io.BytesIO()
    book.save(data)
    page = upload(client, data.getvalue(), filename="a.xlsx").get_data(as_text=True)
    assert re.search(r'id="count-created">2<', page) and re.search(r'id="count-errors">0<', page)
    assert confirm(client, page).status_code == 303
    with session_factory() as session:
        evil = session.scalar(select(Employee).where(Employee.code == "N-9"))
        assert evil.full_name == EVIL  # stored verbatim
        evil_id = evil.id
    shown = client.get(f"/employees/{evil_id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in shown
    assert "&lt;script&gt;" in shown


def test_bad_rows_with_html_are_escaped_in_the_preview(login_as):
    client = login_as("admin")
    csv = (HEADER + f'N-1,x,"{EVIL.replace(chr(34), chr(34) * 2)}",Chuyên viên,CC\n')
    page = upload(client, csv.encode()).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "dòng 2:" in page


def test_the_preview_lists_every_problem_of_a_row(login_as):
    client = login_as("admin")
    csv = (HEADER + "N-1,Nguyễn Văn An,SNV,Chuyên viên,CC\n"
           + f'N-2,"{EVIL.replace(chr(34), chr(34) * 2)}",<b>SNV</b>,{"x" * 300},XX\n')
    page = upload(client, csv.encode()).get_data(as_text=True)
    assert re.search(r'id="count-rows">2<', page) and re.search(r'id="count-errors">1<', page)
    problems = re.findall(r"<li>(dòng 3: [^<]*)</li>", page)
    assert problems == ["dòng 3: unit_code: đơn vị &lt;b&gt;SNV&lt;/b&gt; không tồn tại",
                        "dòng 3: position: dài quá 255 ký tự",
                        "dòng 3: category: loại cán bộ không hợp lệ &#39;XX&#39; "
                        "(chỉ nhận CB, CC, VC, HĐ)"]
    assert "<b>SNV</b>" not in page


def test_refuses_bad_files(login_as, session_factory, app):
    client = login_as("admin")
    assert upload(client, b"x", filename="a.exe").status_code == 400
    assert upload(client, b"", filename="").status_code == 400
    assert upload(client, CSV, kind="passwords").status_code == 400
    # A small limit: uploads over 500 kB go through temporary files the test client leaks.
    app.config["IMPORT_MAX_BYTES"] = 1000
    assert upload(client, b"a" * 1001).status_code == 413
    app.config["IMPORT_MAX_BYTES"] = 5 * 1024 * 1024
    wrong_header = upload(client, b"ma,ten\nX,Y\n")
    assert wrong_header.status_code == 400
    assert "cột không hợp lệ" in wrong_header.get_data(as_text=True)
    assert uploads(app) == []
    token = csrf_token(client, "/admin/import")
    for name in ("../secret_key", "x.csv", "a" * 40 + ".py"):
        response = client.post("/admin/import/confirm",
                               data={"csrf_token": token, "kind": "units", "upload": name})
        assert response.status_code == 400, name


def test_csrf_and_roles(login_as, client, session_factory):
    admin = login_as("admin")
    response = admin.post("/admin/import", data={"kind": "employees",
                                                 "file": (io.BytesIO(CSV), "a.csv")},
                          content_type="multipart/form-data")
    assert response.status_code == 400
    page = upload(admin, CSV).get_data(as_text=True)
    fields = dict(re.findall(r'name="(kind|upload)"[^>]*value="([^"]*)"', page))
    before = employee_count(session_factory)
    assert admin.post("/admin/import/confirm", data=dict(fields, skip_bad_rows="y")
                      ).status_code == 400
    assert employee_count(session_factory) == before
    admin.post("/auth/logout", data={"csrf_token": csrf_token(admin, "/")})
    head = login_as("head_snv")
    assert head.get("/admin/import").status_code == 403
    token = csrf_token(head, "/")
    assert head.post("/admin/import/confirm", data=dict(fields, csrf_token=token,
                                                        skip_bad_rows="y")).status_code == 403
    assert employee_count(session_factory) == before


def test_preview_warns_that_new_staff_count_from_the_past(login_as):
    """Once stations have recorded, a newcomer without a start date is expected on every
    recorded working day: the preview says so before anything is saved."""
    client = login_as("admin")
    scans = "employee_code,scanned_at,station,kind\nE-SNV,2026-11-20T07:30:00+07:00,,badge\n"
    page = upload(client, scans.encode(), kind="scans").get_data(as_text=True)
    assert "Lưu ý" not in page and confirm(client, page).status_code == 303
    page = upload(client, (HEADER + "N-9,Lý Thị Hằng,SNV,Chuyên viên,VC\n").encode()
                  ).get_data(as_text=True)
    assert "Lưu ý: 1 cán bộ mới được tính từ trước hôm nay" in page and "Mã: N-9" in page
    use_english(client)
    page = upload(client, (HEADER + "N-9,Lý Thị Hằng,SNV,Chuyên viên,VC\n").encode()
                  ).get_data(as_text=True)
    assert "Note: 1 new employee counts from before today" in page
