"""The admin's audit log page names each action in Vietnamese, the code in its title."""

from __future__ import annotations

from datetime import datetime, timezone

from attendance.audit import record

AT = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


def test_actions_are_labelled_with_the_code_in_the_title(login_as, session_factory):
    with session_factory() as session:
        record(session, actor="head_snv", action="excuse.approved", at=AT,
               target="employee:E-SNV")
        record(session, actor="old", action="legacy.thing", at=AT)  # unknown to this release
        session.commit()
    client = login_as("admin")
    html = client.get("/admin/audit").get_data(as_text=True)
    assert ('<span class="action" title="excuse.approved">Duyệt đơn nghỉ phép, công tác</span>'
            in html)
    assert '<span class="action" title="auth.login">Đăng nhập</span>' in html  # the sign-in
    assert '<span class="action" title="legacy.thing">legacy.thing</span>' in html
    assert "<code>excuse.approved</code>" not in html


EVIL = '<script>alert("x")</script>'


def audit_rows(html: str) -> dict[str, str]:
    """Each row's cells after the action, by the action's code: target | details."""
    import re

    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.DOTALL):
        code = re.search(r'<span class="action" title="([^"]+)"', row)
        if code:
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)
            rows[code.group(1)] = " | ".join(" ".join(c.split()) for c in cells[4:])
    return rows


def test_details_are_labelled_fields_and_files_are_named_not_located(login_as, session_factory):
    with session_factory() as session:
        record(session, actor="admin", action="user.role_changed", at=AT, target="user:binh",
               details={"before": {"role": "staff", "unit": None, "employee": "E-SNV"},
                        "after": {"role": "inspector", "unit": None, "employee": None}})
        record(session, actor="admin", action="import.units", at=AT,
               target="/srv/chamcong/instance/uploads/import-3f9a.csv",
               details={"kind": "units", "rows": 12, "created": 10, "updated": 1,
                        "unchanged": 0, "skipped": 1, "errors": 1})
        record(session, actor="admin", action="employee.photo_changed", at=AT,
               target="employee:E-SNV",
               details={"photo": "/srv/chamcong/instance/photos/7-a1b2.jpg"})
        record(session, actor="E-SNV", action="excuse.requested", at=AT,
               target="employee:E-SNV",
               details={"excuse": 4, "kind": "leave", "part": "morning",
                        "from": "2026-11-24", "to": "2026-11-25"})
        record(session, actor="inspector", action="scan.withdrawn", at=AT, target="scan:9",
               details={"scan": 9, "scanned_at": "2026-11-23T00:35:07+00:00",
                        "reason": EVIL})
        record(session, actor="inspector", action="spot_check.recorded", at=AT,
               details={"spot_check": 2, "findings": 3,
                        "results": {"present_with_badge": 2, "absent_from_post": 1}})
        record(session, actor="scheduler", action="health.check", at=AT,
               details={"ok": False, "silent_stations": ["CONG-1", "CONG-2"]})
        record(session, actor="newer", action="future.thing", at=AT,
               target="C:\\chamcong\\uploads\\x.xlsx",
               details={"mystery_key": "=HYPERLINK(\"http://x\")", "other": EVIL})
        session.commit()
    html = login_as("admin").get("/admin/audit").get_data(as_text=True)
    rows = audit_rows(html)
    # No JSON, no server folder; the uploaded file by its name.
    assert '{"' not in html and "&#34;before&#34;" not in html
    assert "/srv/chamcong" not in html and "chamcong\\" not in html and "uploads" not in html
    assert rows["import.units"] == (
        "import-3f9a.csv | <small><dl class=\"facts audit-details\"><dt>Loại</dt><dd>Đơn vị</dd>"
        "<dt>Số dòng</dt><dd>12</dd><dt>Thêm mới</dt><dd>10</dd><dt>Cập nhật</dt><dd>1</dd>"
        "<dt>Không đổi</dt><dd>0</dd><dt>Bỏ qua</dt><dd>1</dd><dt>Dòng lỗi</dt><dd>1</dd>"
        "</dl></small>")
    assert "<dt>Ảnh</dt><dd>7-a1b2.jpg</dd>" in rows["employee.photo_changed"]
    # A change: before and after, each a list of its own; codes by their labels.
    changed = rows["user.role_changed"]
    assert changed.startswith("user:binh | ")
    assert ("<dt>Trước khi sửa</dt><dd><dl class=\"facts audit-details\"><dt>Vai trò</dt>"
            "<dd>Cán bộ, công chức, viên chức</dd><dt>Đơn vị</dt><dd>—</dd><dt>Cán bộ</dt>"
            "<dd>E-SNV</dd></dl></dd>") in changed
    assert "<dt>Sau khi sửa</dt>" in changed and "<dd>Cán bộ kiểm tra</dd>" in changed
    # Dates as every page writes them, instants in local time.
    assert ("<dt>Đơn số</dt><dd>4</dd><dt>Loại</dt><dd>nghỉ phép</dd><dt>Thời gian nghỉ</dt>"
            "<dd>buổi sáng</dd><dt>Từ</dt><dd>24/11/2026</dd><dt>Đến</dt><dd>25/11/2026</dd>"
            ) in rows["excuse.requested"]
    assert "<dt>Thời điểm quét thẻ</dt><dd>23/11/2026 07:35:07</dd>" in rows["scan.withdrawn"]
    assert ("<dt>Kết quả</dt><dd><dl class=\"facts audit-details\"><dt>có mặt, đeo thẻ</dt>"
            "<dd>2</dd><dt>vắng mặt tại vị trí làm việc</dt><dd>1</dd></dl></dd>"
            ) in rows["spot_check.recorded"]
    assert ("<dt>Đạt yêu cầu</dt><dd>không</dd><dt>Điểm quét thẻ mất tín hiệu</dt>"
            "<dd>CONG-1, CONG-2</dd>") in rows["health.check"]
    # A key this release does not know is shown as it is; what anyone typed stays text.
    future = rows["future.thing"]
    assert future.startswith("x.xlsx | ")
    assert "<dt>mystery_key</dt><dd>=HYPERLINK(&#34;http://x&#34;)</dd>" in future
    assert "<script>" not in html and html.count("&lt;script&gt;alert(&#34;x&#34;)") == 2


def test_details_that_are_not_an_object_are_shown_as_text(login_as, session_factory):
    with session_factory() as session:
        record(session, actor="old", action="legacy.list", at=AT, details='["a", "<b>"]')
        record(session, actor="old", action="legacy.text", at=AT, details="free <i>text</i>")
        session.commit()
    rows = audit_rows(login_as("admin").get("/admin/audit").get_data(as_text=True))
    assert rows["legacy.list"] == " | <small>a, &lt;b&gt;</small>"
    assert rows["legacy.text"] == " | <small>free &lt;i&gt;text&lt;/i&gt;</small>"


def test_details_in_english(login_as, session_factory, client):
    from web_helpers import csrf_token

    with session_factory() as session:
        record(session, actor="admin", action="import.employees", at=AT,
               target="/srv/chamcong/instance/uploads/import-77.xlsx",
               details={"kind": "employees", "rows": 1, "skipped": 0})
        session.commit()
    login_as("admin")
    client.post("/auth/language", data={"lang": "en", "csrf_token": csrf_token(client, "/")})
    rows = audit_rows(client.get("/admin/audit").get_data(as_text=True))
    assert rows["import.employees"] == (
        "import-77.xlsx | <small><dl class=\"facts audit-details\"><dt>Category</dt>"
        "<dd>Employees</dd><dt>Rows</dt><dd>1</dd><dt>Skipped</dt><dd>0</dd></dl></small>")
