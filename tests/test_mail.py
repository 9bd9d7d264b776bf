"""Mailing issued reports through a real SMTP server (aiosmtpd on 127.0.0.1): unit heads get
their unit's report, inspectors the roll-up; attachments open; failures are retried, then
shown to admins as failed."""

from __future__ import annotations

import io
import socket
import tomllib
from datetime import date, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from attendance import access, jobs
from attendance.config import parse_config
from attendance.models import Employee, MailDelivery
from attendance.models.mail import FAILED, PENDING, SENT
from factories import make_user
from report_factories import add_employee, add_unit, local, no_badge, pdf_text, scan

DAY = date(2026, 8, 4)  # a Tuesday in summer: 07:00–11:30, 13:30–17:00
XSS_NAME = "Đỗ <b>Thị</b> Hằng"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(
            envelope.original_content or envelope.content, policy=policy.default)))
        return "250 OK"

    def to(self, address: str):
        return [m for rcpts, m in self.messages if address in rcpts]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def mail_config(port: int):
    data = tomllib.loads((Path(__file__).parent.parent / "config" / "default.toml").read_text())
    data["agency"] = "UBND tỉnh Hà Nam"
    data["place"] = "Hà Nam"
    data["mail"] = {"host": "127.0.0.1", "port": port, "sender": "chamcong@hanam.gov.vn"}
    return parse_config(data)


@pytest.fixture
def province(session_factory, monkeypatch):
    from argon2 import PasswordHasher

    monkeypatch.setattr(access, "password_hasher",
                        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    with session_factory() as session:
        root = add_unit(session, "UBND", "Ủy ban nhân dân tỉnh")
        snv = add_unit(session, "SNV", "Sở Nội vụ", root)
        stc = add_unit(session, "STC", "Sở Tài chính", root)
        chair = add_employee(session, "E100", "Hoàng Văn Chủ", root, "Chủ tịch")
        chair.email = "chutich@hanam.gov.vn"
        head = add_employee(session, "E200", "Lê Văn Trưởng", snv, "Giám đốc")
        head.email = "giamdoc.snv@hanam.gov.vn"
        inspector = add_employee(session, "E300", "Vũ Thị Kiểm", root, "Thanh tra viên")
        inspector.email = "thanhtra@hanam.gov.vn"
        root.head_id, snv.head_id = chair.id, head.id  # STC has no head: nobody to mail
        late = add_employee(session, "E201", "Nguyễn Văn An", snv)
        guard_found = add_employee(session, "E202", XSS_NAME, snv)
        add_employee(session, "E203", "Trần Thị Bích", snv)  # never comes: absent
        add_employee(session, "E400", "Phạm Thị Dung", stc)
        for person in (chair, head, inspector):
            scan(session, person, local(DAY, "06:50"))
            scan(session, person, local(DAY, "17:10"))
        scan(session, late, local(DAY, "07:20"))
        scan(session, late, local(DAY, "17:05"))
        no_badge(session, guard_found, local(DAY, "06:58"))
        scan(session, guard_found, local(DAY, "17:02"))
        make_user(session, "thanhtra", "inspector", employee=inspector)
        session.commit()


def deliveries(session_factory):
    with session_factory() as session:
        return session.scalars(select(MailDelivery).order_by(MailDelivery.id)).all()


def test_heads_and_inspectors_receive_the_reports_with_attachments_that_open(
        session_factory, province, smtp, tmp_path):
    inbox, port = smtp
    config = mail_config(port)
    jobs.tick(config, session_factory, local(DAY, "08:00"))
    run = jobs.deliver(config, session_factory, local(DAY, "08:02"))
    assert (run.sent, run.failed) == (2, 0)  # the morning report: to the two heads
    morning = inbox.to("giamdoc.snv@hanam.gov.vn")
    assert len(morning) == 1 and morning[0]["Subject"] == (
        "Báo cáo đầu giờ ngày 04/08/2026 – Sở Nội vụ")
    html = morning[0].get_body(("html",)).get_content()
    assert "Nguyễn Văn An (E201), đến 07:20, 20 phút" in html
    assert "Trần Thị Bích (E203)" in html and "Chưa đến" in html
    assert "Đỗ &lt;b&gt;Thị&lt;/b&gt; Hằng (E202)" in html and "<b>Thị</b>" not in html

    jobs.tick(config, session_factory, local(DAY, "18:00"))
    run = jobs.deliver(config, session_factory, local(DAY, "18:02"))
    # The end-of-day report: SNV's head (SNV), the chair and the inspector (the roll-up).
    assert (run.sent, run.failed) == (3, 0)
    assert {d.status for d in deliveries(session_factory)} == {SENT}
    [snv_mail] = [m for m in inbox.to("giamdoc.snv@hanam.gov.vn")
                  if m["Subject"].startswith("Báo cáo ngày")]
    [rollup] = inbox.to("thanhtra@hanam.gov.vn")
    assert rollup["Subject"] == "Báo cáo ngày 04/08/2026 – Ủy ban nhân dân tỉnh"
    assert len([m for m in inbox.to("chutich@hanam.gov.vn")
                if m["Subject"].startswith("Báo cáo ngày")]) == 1
    html = snv_mail.get_body(("html",)).get_content()
    assert "Kính gửi: Lê Văn Trưởng" in html and "Vắng không lý do" in html
    assert "Đỗ &lt;b&gt;Thị&lt;/b&gt; Hằng" in html

    for mail_message, names in ((snv_mail, ["Nguyễn Văn An", "Trần Thị Bích"]),
                                (rollup, ["Nguyễn Văn An", "Phạm Thị Dung"])):
        files = {part.get_filename(): part.get_content()
                 for part in mail_message.iter_attachments()}
        xlsx = next(data for name, data in files.items() if name.endswith(".xlsx"))
        pdf = next(data for name, data in files.items() if name.endswith(".pdf"))
        book = openpyxl.load_workbook(io.BytesIO(xlsx))
        cells = {str(c.value) for sheet in book.worksheets for row in sheet.iter_rows()
                 for c in row if c.value is not None}
        assert "Chi tiết" in book.sheetnames
        for name in names:
            assert name in cells
        path = tmp_path / "report.pdf"
        path.write_bytes(pdf)
        text = pdf_text(path)
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
        assert "Độc lập - Tự do - Hạnh phúc" in text
        for name in names:
            if name in ("Trần Thị Bích", "Nguyễn Văn An"):
                assert name in text
    assert "Lê Văn Trưởng" in pdf_text_of(snv_mail, tmp_path)  # the signature block


def test_the_morning_report_comes_with_its_own_xlsx_and_pdf(session_factory, province, smtp,
                                                             tmp_path):
    inbox, port = smtp
    config = mail_config(port)
    jobs.tick(config, session_factory, local(DAY, "08:00"))
    jobs.deliver(config, session_factory, local(DAY, "08:02"))
    [snv_mail] = inbox.to("giamdoc.snv@hanam.gov.vn")
    files = {part.get_filename(): (part.get_content_type(), part.get_content())
             for part in snv_mail.iter_attachments()}
    stem = "bao-cao-dau-gio-morning-2026-08-04-SNV-v1"
    assert {name: kind for name, (kind, _) in files.items()} == {
        f"{stem}.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"{stem}.pdf": "application/pdf"}

    book = openpyxl.load_workbook(io.BytesIO(files[f"{stem}.xlsx"][1]))
    assert book.sheetnames == ["Tổng hợp", "Đi muộn", "Không đeo thẻ",
                               "Vắng mặt tại vị trí làm việc", "Chưa đến", "Nghỉ có lý do"]

    def rows(sheet):
        return [[c.value for c in row] for row in book[sheet].iter_rows(min_row=2)]

    [late] = rows("Đi muộn")
    assert late[1:5] == ["E201", "Nguyễn Văn An", "SNV", "Sở Nội vụ"]
    assert late[5].strftime("%H:%M") == "07:20" and late[6] == 20
    assert book["Đi muộn"]["F2"].number_format == "hh:mm:ss"
    # Not arrived by the cut-off — the morning report never calls them absent.
    assert [r[2] for r in rows("Chưa đến")] == ["Trần Thị Bích"]
    [guard] = rows("Không đeo thẻ")
    assert guard[2] == XSS_NAME and guard[5] == "bảo vệ ghi nhận"
    summary = rows("Tổng hợp")
    assert summary[0][1:3] == ["SNV", "Sở Nội vụ"] and summary[-1][2] == "Tổng cộng"
    expected, arrived, not_arrived = summary[0][3:6]
    assert arrived + not_arrived == expected and not_arrived == 1
    assert book["Tổng hợp"]["K2"].number_format == "0.0%"

    path = tmp_path / "morning.pdf"
    path.write_bytes(files[f"{stem}.pdf"][1])
    text = " ".join(pdf_text(path).split())
    for words in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                  "UBND TỈNH HÀ NAM", "BÁO CÁO", "đầu giờ Thứ Ba, ngày 04/08/2026",
                  "Số liệu tính đến 60 phút sau giờ bắt đầu làm việc",
                  "Nguyễn Văn An (E201)", "đến 07:20:00, 20 phút", "Chưa đến",
                  "Trần Thị Bích (E203)", "Lê Văn Trưởng"):
        assert words in text, words
    assert "Vắng không lý do" not in text and "vắng không lý do" not in text


def pdf_text_of(mail_message, tmp_path) -> str:
    part = next(p for p in mail_message.iter_attachments() if p.get_filename().endswith(".pdf"))
    path = tmp_path / "signed.pdf"
    path.write_bytes(part.get_content())
    return pdf_text(path)


def test_a_new_version_is_mailed_with_what_changed(session_factory, province, smtp):
    inbox, port = smtp
    config = mail_config(port)
    jobs.tick(config, session_factory, local(DAY, "18:00"))
    jobs.deliver(config, session_factory, local(DAY, "18:02"))
    with session_factory() as session:  # a late upload: Trần Thị Bích was in after all
        bich = session.scalar(select(Employee).where(Employee.code == "E203"))
        scan(session, bich, local(DAY, "07:01"))
        scan(session, bich, local(DAY, "17:01"))
        session.commit()
    jobs.recheck(config, session_factory, local(DAY + timedelta(days=1), "08:20"))
    jobs.deliver(config, session_factory, local(DAY + timedelta(days=1), "08:22"))
    updates = [m for m in inbox.to("giamdoc.snv@hanam.gov.vn")
               if "bản cập nhật số 2" in m["Subject"]]
    assert len(updates) == 1
    html = updates[0].get_body(("html",)).get_content()
    assert "Thay đổi so với bản số 1" in html
    assert "danh sách vắng không lý do: bỏ Trần Thị Bích (E203)" in html


def test_a_revised_monthly_report_is_mailed_an_old_daily_one_only_kept(
        session_factory, province, smtp, tmp_path):
    """The monthly report reaches the head with files that open (it did not: its counts
    were read as lists of people); an excuse approved after the month revises it that
    night, and the revision is mailed with what changed."""
    import json

    from attendance.models import IssuedReport
    from report_factories import excuse

    inbox, port = smtp
    config = mail_config(port)
    jobs.tick(config, session_factory, local(DAY, "18:00"))
    september = date(2026, 9, 4)  # August's monthly report is due by then (caught up)
    jobs.tick(config, session_factory, local(september, "12:00"))
    jobs.deliver(config, session_factory, local(september, "12:02"))
    [monthly] = [m for m in inbox.to("giamdoc.snv@hanam.gov.vn")
                 if m["Subject"] == "Báo cáo tháng 08/2026 – Sở Nội vụ"]
    html = monthly.get_body(("html",)).get_content()
    assert "Xếp hạng thi đua" in html and "Sở Nội vụ" in html
    text = pdf_text_of(monthly, tmp_path)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Trần Thị Bích" in text
    xlsx = next(p.get_content() for p in monthly.iter_attachments()
                if p.get_filename().endswith(".xlsx"))
    cells = {str(c.value) for sheet in openpyxl.load_workbook(io.BytesIO(xlsx)).worksheets
             for row in sheet.iter_rows() for c in row if c.value is not None}
    assert "Trần Thị Bích" in cells
    with session_factory() as session:
        first = session.scalar(select(IssuedReport).where(
            IssuedReport.kind == "monthly", IssuedReport.unit_id == _unit_id(session, "SNV")))
        absences = next(u for u in json.loads(first.content)["units"]
                        if u["unit"] == "SNV")["absences"]
        excuse(session, session.scalar(select(Employee).where(Employee.code == "E203")), DAY)
        session.commit()
    night = local(september + timedelta(days=4), "01:40")  # Tuesday 08/9
    revised = jobs.recheck_history(config, session_factory, night)
    assert {(r.kind, r.period) for r in revised} == {("monthly", "2026-08"),
                                                     ("daily", DAY.isoformat())}
    jobs.deliver(config, session_factory, night + timedelta(minutes=5))
    updates = [m for m in inbox.to("giamdoc.snv@hanam.gov.vn") if "bản cập nhật" in m["Subject"]]
    assert [m["Subject"] for m in updates] == [
        "Báo cáo tháng 08/2026 – Sở Nội vụ (bản cập nhật số 2)"]
    html = updates[0].get_body(("html",)).get_content()
    assert ("Sở Nội vụ – số liệu cá nhân: sửa Trần Thị Bích (E203) (vắng không lý do "
            in html)
    assert "nghỉ có lý do (ngày) 0 → 1)" in html
    assert f"Sở Nội vụ – vắng không lý do: {absences} → {absences - 1}" in html


def _unit_id(session, code: str) -> int:
    from attendance.models import Unit

    return session.scalar(select(Unit.id).where(Unit.code == code))


def test_a_failed_send_is_retried_then_shown_to_admins_as_failed(
        session_factory, province, database_url, smtp):
    inbox, _ = smtp
    config = mail_config(free_port())  # nobody listens there
    jobs.tick(config, session_factory, local(DAY, "18:00"))
    moment = local(DAY, "18:02")
    attempts = []
    for _ in range(10):
        jobs.deliver(config, session_factory, moment)
        rows = deliveries(session_factory)
        attempts.append(rows[0].attempts)
        if rows[0].status == FAILED:
            break
        assert rows[0].status == PENDING and rows[0].next_attempt_at > moment
        # Not before its time: a delivery run now leaves it alone.
        jobs.deliver(config, session_factory, moment + timedelta(seconds=30))
        assert deliveries(session_factory)[0].attempts == attempts[-1]
        moment = rows[0].next_attempt_at
    assert attempts == [1, 2, 3, 4, 5]
    rows = deliveries(session_factory)
    # Started at 18:00: the end-of-day report (3 recipients) and that day's morning report,
    # issued late (2 heads).
    assert {r.status for r in rows} == {FAILED} and len(rows) == 5
    assert all("ConnectionRefusedError" in r.last_error for r in rows)
    assert inbox.messages == []

    # The admin sees them on /admin/deliveries and puts one back in the queue.
    from web import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": database_url,
                      "DOMAIN_CONFIG": config, "WTF_CSRF_ENABLED": False,
                      "CLOCK": lambda: moment + timedelta(hours=1)})
    with session_factory() as session:
        make_user(session, "quantri", "admin", password="mat-khau-123")
        session.commit()
    client = app.test_client()
    response = client.post("/auth/login", data={"username": "quantri",
                                                "password": "mat-khau-123"})
    assert response.status_code == 302
    page = client.get("/admin/deliveries/?status=failed").get_data(as_text=True)
    assert page.count("gửi không được") >= 5 and "ConnectionRefusedError" in page
    assert "Báo cáo ngày 04/08/2026 – Sở Nội vụ" in page
    assert "giamdoc.snv@hanam.gov.vn" in page
    response = client.post(f"/admin/deliveries/{rows[0].id}/retry")
    assert response.status_code == 302
    app.extensions["attendance"]["engine"].dispose()
    # With the server back (the right port), the retried mail goes out.
    inbox, port = smtp
    jobs.deliver(mail_config(port), session_factory, moment + timedelta(hours=2))
    assert [d.status for d in deliveries(session_factory)] == [SENT] + [FAILED] * 4
    assert len(inbox.messages) == 1
