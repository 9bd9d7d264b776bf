"""The employee page: 30-day attendance history, badges (issue, revoke, print), photo upload."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timezone

from PIL import Image
from report_factories import excuse, local, no_badge, scan
from sqlalchemy import select
from web_helpers import csrf_token, login, use_english

from attendance import badges, cards
from attendance.db import instance_path
from attendance.models import AuditEntry, Badge, Employee

EVIL = '<script>alert("x")</script>'


def build_history(session_factory, province):
    with session_factory() as session:
        e = session.get(Employee, province["e_snv"])
        scan(session, e, local(date(2026, 11, 20), "07:47:30"))  # Friday: 17 minutes late
        scan(session, e, local(date(2026, 11, 20), "16:40"))
        excuse(session, e, date(2026, 11, 19))  # Thursday: leave, approved
        # Wednesday 18: nothing at all -> absent without reason
        scan(session, e, local(date(2026, 11, 17), "07:20"))  # Tuesday: left 40 minutes early
        scan(session, e, local(date(2026, 11, 17), "15:50"))
        # Monday 16: a guard saw no badge in the morning, which was excused
        excuse(session, e, date(2026, 11, 16), part="morning")
        no_badge(session, e, local(date(2026, 11, 16), "08:00"))
        scan(session, e, local(date(2026, 11, 16), "16:45"))
        scan(session, e, local(date(2026, 10, 20), "07:30"))  # outside the 30 days
        session.commit()


def rows_of(html: str) -> dict[str, str]:
    """History rows keyed by their dd/mm/yyyy date."""
    section = html.split('id="history"', 1)[1].split("</section>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", section, re.S):
        found = re.search(r"\d\d/\d\d/\d{4}", row)
        if found:
            rows[found.group(0)] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
    return rows


def test_history_shows_30_days_with_times_minutes_and_excuses(login_as, session_factory, province):
    build_history(session_factory, province)
    html = login_as("head_snv").get(f"/employees/{province['e_snv']}").get_data(as_text=True)
    rows = rows_of(html)
    # Late and early-leave times with the seconds that decide them, as the daily report.
    assert "Đi muộn 17 phút · buổi sáng · lúc 07:47:30" in rows["20/11/2026"]
    assert "16:40" in rows["20/11/2026"]
    assert "Nghỉ có lý do cả ngày: Nghỉ phép (cả ngày)" in rows["19/11/2026"]
    assert "Vắng không lý do" in rows["18/11/2026"]
    assert "Về sớm 40 phút · buổi chiều · lúc 15:50:00" in rows["17/11/2026"]
    monday = rows["16/11/2026"]
    assert "Không đeo thẻ · buổi sáng · lúc 08:00 · Bảo vệ ghi nhận" in monday
    assert "có lý do: Nghỉ phép (buổi sáng), duyệt: Lê Văn Trưởng" in monday
    assert "Hôm nay, chưa kết thúc" in rows["23/11/2026"]
    # Working days only, newest first, 30 days back (25/10 is a Sunday, 26/10 the first).
    assert "21/11/2026" not in rows and "22/11/2026" not in rows
    assert "20/10/2026" not in rows and "26/10/2026" in rows and "24/10/2026" not in rows
    dates = list(rows)
    assert dates[0] == "23/11/2026" and dates[-1] == "26/10/2026"
    # Excused findings look different from open ones.
    assert re.search(r'class="finding-excused">\s*Không đeo thẻ', html)
    assert re.search(r'class="finding-open">\s*Đi muộn 17 phút', html)


def test_history_in_english(app, session_factory, province):
    build_history(session_factory, province)
    client = app.test_client()
    login(client, "head_snv")
    client.post("/auth/language", data={"csrf_token": csrf_token(client, "/"), "lang": "en"})
    html = client.get(f"/employees/{province['e_snv']}").get_data(as_text=True)
    assert "Late 17 min" in html and "Attendance history" in html


def test_staff_home_shows_their_own_history(login_as, session_factory, province):
    build_history(session_factory, province)
    home = login_as("staff_snv").get("/").get_data(as_text=True)
    rows = rows_of(home)
    assert "Đi muộn 17 phút · buổi sáng · lúc 07:47:30" in rows["20/11/2026"]
    assert "Vắng không lý do" in rows["18/11/2026"]
    assert "sẽ hiển thị ở đây" not in home  # the placeholder is gone


def png_bytes(size=(300, 400), **info) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    from PIL import PngImagePlugin

    meta = PngImagePlugin.PngInfo()
    for key, value in info.items():
        meta.add_text(key, value)
    image.save(out, "PNG", pnginfo=meta)
    return out.getvalue()


def upload(client, employee_id, data: bytes, name="anh.png"):
    """POST the photo form. The body is built here, in memory: the test client would spool a
    large one to a temporary file that it never closes (a ResourceWarning)."""
    token = csrf_token(client, f"/employees/{employee_id}")
    boundary = "----ranh-gioi-7d1f"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"{token}\r\n--{boundary}\r\n"
            f'Content-Disposition: form-data; name="photo"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + \
        f"\r\n--{boundary}--\r\n".encode()
    return client.post(f"/employees/{employee_id}/photo", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def test_photo_upload_is_checked_reencoded_and_scoped(app, session_factory, province):
    admin = app.test_client()
    login(admin, "admin")
    e_stc = province["e_stc"]
    response = upload(admin, e_stc, png_bytes(Comment="bí mật nội bộ") + b"<?php junk ?>")
    assert response.status_code == 302
    with session_factory() as session:
        employee = session.get(Employee, e_stc)
        stored = employee.photo
        assert re.fullmatch(rf"photos/{e_stc}-[0-9a-f]{{16}}\.jpg", stored)
        assert cards.load_photo(stored, instance_path()).size == (300, 400)
        audit = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "employee.photo_changed")).one()
        assert audit.actor == "admin" and audit.target == "employee:E-STC"
    response = admin.get(f"/employees/{e_stc}/photo")
    body = response.data
    response.close()
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert body.startswith(b"\xff\xd8") and b"php" not in body and "bí mật".encode() not in body
    assert f'src="/employees/{e_stc}/photo"' in admin.get(f"/employees/{e_stc}").get_data(as_text=True)

    inspector = app.test_client()
    login(inspector, "inspector")
    response = inspector.get(f"/employees/{e_stc}/photo")
    assert response.status_code == 200
    response.close()
    for username in ("head_snv", "staff_snv"):  # not their units / not themselves
        client = app.test_client()
        login(client, username)
        assert client.get(f"/employees/{e_stc}/photo").status_code == 404


def test_bad_photos_are_refused(login_as, session_factory, province):
    client = login_as("admin")
    employee_id = province["e_snv"]
    cases = [
        (b"%PDF-1.4 not an image at all", "không phải là ảnh"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "không phải là ảnh"),  # a truncated JPEG
        (b"\x00" * (2 * 1024 * 1024 + 10), "lớn hơn 2 MB"),
        (png_bytes(size=(8000, 6000)), "quá nhiều điểm ảnh"),
    ]
    for data, message in cases:
        response = upload(client, employee_id, data)
        assert response.status_code == 303
        assert message in client.get(f"/employees/{employee_id}").get_data(as_text=True), message
    response = client.post(f"/employees/{employee_id}/photo",
                           data={"csrf_token": csrf_token(client, "/"), "photo": (io.BytesIO(b""), "")},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    assert client.post(f"/employees/{employee_id}/photo",
                       data={"photo": (io.BytesIO(png_bytes()), "a.png")},
                       content_type="multipart/form-data").status_code == 400  # no CSRF
    with session_factory() as session:
        assert session.get(Employee, employee_id).photo is None
    assert not (instance_path() / "photos").exists() or not list((instance_path() / "photos").glob("*.jpg"))


def test_refusals_in_english(login_as, province):
    client = login_as("admin")
    use_english(client)
    e_p1 = province["e_p1"]
    page = f"/employees/{e_p1}"
    # A revocation sent from a page that still showed a badge since revoked.
    client.post(f"{page}/badges/revoke",
                data={"csrf_token": csrf_token(client, page), "reason": "Mất thẻ"})
    assert "Cannot revoke the badge: E-P1 has no active badge" in client.get(page).get_data(
        as_text=True)
    for data, message in [
            (b"%PDF-1.4 not an image at all", "the file is not an image, or the image is damaged"),
            (b"\x00" * (2 * 1024 * 1024 + 10), "the image is larger than 2 MB")]:
        upload(client, e_p1, data)
        assert f"Photo refused: {message}" in client.get(page).get_data(as_text=True)


def test_admin_issues_prints_and_revokes_a_badge(app, session_factory, province):
    admin = app.test_client()
    login(admin, "admin")
    e_p1 = province["e_p1"]
    page = admin.get(f"/employees/{e_p1}").get_data(as_text=True)
    assert "Chưa được cấp thẻ." in page
    assert admin.get(f"/employees/{e_p1}/badges/card.pdf").status_code == 404
    token = csrf_token(admin, f"/employees/{e_p1}")
    response = admin.post(f"/employees/{e_p1}/badges/issue", data={"csrf_token": token})
    assert response.status_code == 303
    with session_factory() as session:
        badge = session.scalars(select(Badge).where(Badge.employee_id == e_p1)).one()
        serial = badge.serial
        payload = badges.badge_payload(badge, badges.Keyring())
    page = admin.get(f"/employees/{e_p1}").get_data(as_text=True)
    assert serial in page and "Đang hiệu lực" in page and "Đã cấp thẻ" in page
    # Issuing again does not make a second active badge.
    admin.post(f"/employees/{e_p1}/badges/issue", data={"csrf_token": token})
    with session_factory() as session:
        assert len(session.scalars(select(Badge).where(Badge.employee_id == e_p1)).all()) == 1

    response = admin.get(f"/employees/{e_p1}/badges/card.pdf")
    pdf = response.data
    response.close()
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert pdf.startswith(b"%PDF") and f"the-{serial}.pdf" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"

    admin.post(f"/employees/{e_p1}/badges/revoke", data={"csrf_token": token, "reason": ""})
    assert "Cần ghi lý do thu hồi thẻ." in admin.get(f"/employees/{e_p1}").get_data(as_text=True)
    response = admin.post(f"/employees/{e_p1}/badges/revoke",
                          data={"csrf_token": token, "reason": "Mất thẻ"})
    assert response.status_code == 303
    page = admin.get(f"/employees/{e_p1}").get_data(as_text=True)
    assert "Đã thu hồi" in page and "Mất thẻ" in page and 'action="/employees/%d/badges/issue"' % e_p1 in page
    with session_factory() as session:
        assert badges.check_payload(session, payload, badges.Keyring()).reason == badges.REVOKED
        actions = set(session.scalars(select(AuditEntry.action)))
        assert {"badge.card_printed"} <= actions


def test_only_admins_see_the_badge_and_photo_controls(app, session_factory, province):
    head = app.test_client()
    login(head, "head_snv")
    page = head.get(f"/employees/{province['e_snv']}").get_data(as_text=True)
    assert "Thẻ công chức" in page and "Lịch sử chấm công" in page
    assert "/badges/issue" not in page and "/photo" not in page and 'type="file"' not in page


def test_names_are_escaped_on_the_employee_page(app, login_as, session_factory, province):
    build_history(session_factory, province)
    with session_factory() as session:
        employee = session.get(Employee, province["e_snv"])
        employee.full_name = EVIL
        session.commit()
    client = login_as("admin")
    assert upload(client, province["e_snv"], png_bytes()).status_code == 302
    for path in (f"/employees/{province['e_snv']}",):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "&lt;script&gt;alert(" in html
    staff = app.test_client()  # the employee's own view
    login(staff, "staff_snv")
    html = staff.get("/").get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert(" in html


def test_history_uses_the_deployment_timezone(login_as, session_factory, province):
    # 23:30 UTC on Sunday 22 is 06:30 on Monday 23 in Hà Nội: Monday's check-in.
    with session_factory() as session:
        scan(session, session.get(Employee, province["e_snv"]),
             datetime(2026, 11, 22, 23, 30, tzinfo=timezone.utc))
        session.commit()
    rows = rows_of(login_as("staff_snv").get("/").get_data(as_text=True))
    assert "06:30" in rows["23/11/2026"]


def test_today_in_progress_has_no_finding_only_the_end_can_tell(app, session_factory, province):
    """At 10:00 someone who came in at 07:20 has not "missed the check-out" and is not "on
    time, all sessions" either: the day is not over."""
    with session_factory() as session:
        scan(session, session.get(Employee, province["e_snv"]), local(date(2026, 11, 23), "07:20"))
        session.commit()
    for user in ("staff_snv", "head_snv"):
        client = app.test_client()
        login(client, user)
        page = "/" if user == "staff_snv" else f"/employees/{province['e_snv']}"
        today = rows_of(client.get(page).get_data(as_text=True))["23/11/2026"]
        assert "07:20" in today and "Hôm nay, chưa kết thúc" in today
        assert "Không quét thẻ khi về" not in today and "đủ buổi" not in today
        assert "Chưa có vi phạm" in today


def test_a_morning_and_an_afternoon_excuse_are_both_named(app, login_as, session_factory,
                                                           province):
    """QA's 13/11: in without a badge at 07:20, no check-out; the morning excused (lý do
    khác) and the afternoon (nghỉ phép). The day names both excuses, not the morning's for
    the whole day, and the missing check-out names the afternoon's."""
    friday = date(2026, 11, 13)
    with session_factory() as session:
        e = session.get(Employee, province["e_snv"])
        no_badge(session, e, local(friday, "07:20"))
        excuse(session, e, friday, part="morning", kind="other", reason="<i>ok</i>")
        excuse(session, e, friday, part="afternoon", reason="Việc gia đình")
        session.commit()
    page = f"/employees/{province['e_snv']}"
    row = rows_of(login_as("head_snv").get(page).get_data(as_text=True))["13/11/2026"]
    assert ("Nghỉ có lý do cả ngày: Lý do khác (buổi sáng), duyệt: Lê Văn Trưởng; "
            "Nghỉ phép (buổi chiều), duyệt: Lê Văn Trưởng") in row
    assert ("Không đeo thẻ · buổi sáng · lúc 07:20 · Bảo vệ ghi nhận · có lý do: Lý do khác "
            "(buổi sáng)") in row
    assert "Không quét thẻ khi về · buổi chiều · có lý do: Nghỉ phép (buổi chiều)" in row
    client = app.test_client()
    login(client, "head_snv")
    client.post("/auth/language", data={"csrf_token": csrf_token(client, "/"), "lang": "en"})
    row = rows_of(client.get(page).get_data(as_text=True))["13/11/2026"]
    assert ("Excused for the whole day: Other reason (morning), approved by Lê Văn Trưởng; "
            "Leave (afternoon), approved by Lê Văn Trưởng") in row
    assert "Missing check-out · afternoon · excused: Leave (afternoon)" in row
