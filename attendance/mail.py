"""E-mail delivery of issued reports: the message (Vietnamese HTML, xlsx and pdf attached)
and the sending, with bounded retries.

``deliver_pending`` sends the ``MailDelivery`` rows that are due. Each row is claimed first
(a compare-and-set on its status, committed), so two schedulers never send the same mail;
a failure is retried after ``RETRY_DELAYS`` and, after ``MAX_ATTEMPTS``, left ``failed``
with its last error for the admins (page /admin/deliveries). The body is rendered from the
issued version's stored content; the attachments of a daily or monthly report are compiled
when the mail is sent (the exports write from compiled reports, not from stored JSON) — if
the data changed since, the re-check issues a new version, which is mailed in turn. The
morning report is a snapshot at its cut-off: its attachments are written from the stored
content, like its body.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from html import escape

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from attendance import exports
from attendance.config import Config, Mail
from attendance.exports import LIST_LABELS
from attendance.issuing import (
    DAILY, DETAIL_LABELS, FIGURE_LABELS, KIND_LABELS, MONTHLY, MORNING, RATES, daily_reports,
)
from attendance.models import Employee, IssuedReport, MailDelivery, Unit
from attendance.models.mail import FAILED, PENDING, SENDING, SENT
from attendance.org import org_tree
from attendance.reports import (
    SOURCE_LABELS, compile_monthly, format_day, offenders_of, percent_text,
)

log = logging.getLogger("attendance.mail")

MAX_ATTEMPTS = 5
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15),
                timedelta(hours=1))
# A row left "sending" this long (the process died mid-send) is taken up again.
STALE_CLAIM = timedelta(minutes=15)
SMTP_TIMEOUT = 30

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
FILE_NAMES = {MORNING: "bao-cao-dau-gio", DAILY: "bao-cao-ngay", MONTHLY: "bao-cao-thang"}
DAILY_LISTS = ("late", "early_leave", "missing_checkout", "missed_session", "no_badge",
               "absent_from_post", "absent", "excused")
MORNING_LISTS = ("late", "no_badge", "absent_from_post", "not_arrived", "excused")
STATUS_LABELS = {PENDING: "chờ gửi", SENDING: "đang gửi", SENT: "đã gửi", FAILED: "gửi không được"}
ROLE_LABELS = {"unit_head": "thủ trưởng đơn vị", "inspector": "cán bộ kiểm tra"}


def percent(value: float | None) -> str:
    return "—" if value is None else f"{percent_text(value)}%".replace(".", ",")


def title(kind: str, period: str) -> str:
    """"Báo cáo ngày 04/08/2026", "Báo cáo đầu giờ ngày 04/08/2026", "Báo cáo tháng 07/2026"."""
    if kind == MONTHLY:
        year, month = period.split("-")
        return f"{KIND_LABELS[MONTHLY]} {month}/{year}"
    day = format_day(date.fromisoformat(period))
    return f"{KIND_LABELS[DAILY]} {day}" if kind == DAILY else f"{KIND_LABELS[kind]} ngày {day}"


def subject(report: IssuedReport, unit_name: str) -> str:
    text = f"{title(report.kind, report.period)} – {unit_name}"
    if report.version > 1:
        text += f" (bản cập nhật số {report.version})"
    return text


# --- the message -------------------------------------------------------------------------

@dataclass
class Rendered:
    """What every recipient of one issued report gets: subject, body parts, attachments."""

    subject: str
    intro: str
    body: str
    attachments: list[tuple[str, bytes, tuple[str, str]]] = field(default_factory=list)


def _changed_codes(report: IssuedReport) -> set[str]:
    if not report.changes:
        return set()
    return {code for unit in json.loads(report.changes).get("units", {}).values()
            for delta in unit.get("lists", {}).values()
            for key in ("added", "removed", "changed") for code in delta.get(key, ())}


def _names(session: Session, content: dict, extra: set[str] = frozenset()) -> dict[str, str]:
    codes: set[str] = set(extra)
    for unit in content.get("units", ()):
        # The lists of people: a daily or morning report's, a monthly one's "employees"
        # (whose "late" and "no_badge" are counts).
        for name in {*DAILY_LISTS, *MORNING_LISTS, "employees"}:
            items = unit.get(name)
            if isinstance(items, list):
                codes.update(item if isinstance(item, str) else item["employee"]
                             for item in items)
    if not codes:
        return {}
    rows = session.execute(select(Employee.code, Employee.full_name)
                           .where(Employee.code.in_(codes)))
    return {code: name for code, name in rows}


def _person(code: str, names: dict[str, str]) -> str:
    return f"{escape(names.get(code, code))} ({escape(code)})"


def _hhmm(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%H:%M")


def _item_text(name: str, item, names: dict[str, str]) -> str:
    if isinstance(item, str):
        return _person(item, names)
    parts = [_person(item["employee"], names)]
    if "session" in item:
        parts.append("buổi sáng" if item["session"] == 0 else f"buổi {item['session'] + 1}")
    if item.get("check_in"):
        parts.append(f"đến {_hhmm(item['check_in'])}")
    if item.get("check_out"):
        parts.append(f"về {_hhmm(item['check_out'])}")
    if item.get("at"):
        parts.append(f"lúc {_hhmm(item['at'])}")
    if item.get("minutes") is not None:
        parts.append(f"{item['minutes']} phút")
    if item.get("source"):
        parts.append(escape(SOURCE_LABELS.get(item["source"], item["source"])))
    return ", ".join(parts)


TABLE = 'border="1" cellpadding="4" cellspacing="0" style="border-collapse:collapse"'


def _day_body(content: dict, names: dict[str, str], lists: tuple[str, ...]) -> str:
    rows = "".join(
        f"<tr><td>{escape(u['name'])}</td><td align=right>{u['expected']}</td>"
        f"<td align=right>{u['present']}</td><td align=right>{percent(u['badge_compliance'])}"
        f"</td><td align=right>{percent(u['punctuality'])}</td></tr>"
        for u in content["units"])
    totals = content.get("totals", {})
    rows += (f"<tr><th align=left>Tổng cộng</th><th align=right>{totals.get('expected', '')}</th>"
             f"<th align=right>{totals.get('present', '')}</th>"
             f"<th align=right>{percent(totals.get('badge_compliance'))}</th>"
             f"<th align=right>{percent(totals.get('punctuality'))}</th></tr>")
    present_label = "Đã đến" if content.get("kind") == MORNING else "Có mặt"
    out = [f"<table {TABLE}><tr><th>Đơn vị</th><th>Phải có mặt</th><th>{present_label}</th>"
           f"<th>Tỷ lệ đeo thẻ</th><th>Tỷ lệ đúng giờ</th></tr>{rows}</table>"]
    for unit in content["units"]:
        sections = []
        for name in lists:
            items = unit.get(name) or []
            if items:
                entries = "".join(f"<li>{_item_text(name, i, names)}</li>" for i in items)
                label = LIST_LABELS[name]
                sections.append(f"<p><b>{escape(label[0].upper() + label[1:])}</b> "
                                f"({len(items)}):</p><ul>{entries}</ul>")
        if sections:
            out.append(f"<h3>{escape(unit['name'])}</h3>" + "".join(sections))
    if not any(unit.get(name) for unit in content["units"] for name in lists):
        out.append("<p>Không có cán bộ, công chức, viên chức, người lao động vi phạm.</p>")
    return "".join(out)


def _monthly_body(content: dict) -> str:
    rows = "".join(
        f"<tr><td align=center>{u['rank'] if u['rank'] is not None else '—'}</td>"
        f"<td>{escape(u['name'])}</td><td align=right>{percent(u['badge_compliance'])}</td>"
        f"<td align=right>{percent(u['punctuality'])}</td><td align=right>{u['late']}</td>"
        f"<td align=right>{u['no_badge']}</td><td align=right>{u['absences']}</td></tr>"
        for u in content["units"])
    return (f"<p>Số liệu từ ngày {format_day(date.fromisoformat(content['from']))} đến ngày "
            f"{format_day(date.fromisoformat(content['to']))}.</p>"
            f"<table {TABLE}><tr><th>Xếp hạng thi đua</th><th>Đơn vị</th><th>Tỷ lệ đeo thẻ</th>"
            f"<th>Tỷ lệ đúng giờ</th><th>Lượt đi muộn</th><th>Không đeo thẻ</th>"
            f"<th>Vắng không lý do</th></tr>{rows}</table>")


def _details_text(details: dict | None) -> str:
    """" (vắng không lý do 19 → 14, …)" of a changed entry, or nothing."""
    if not details:
        return ""

    def value(v) -> str:
        if v is None:
            return "—"
        return _hhmm(v) if isinstance(v, str) and len(v) >= 19 and v[10] == "T" else str(v)

    parts = [f"{DETAIL_LABELS.get(k, k).lower()} {value(a)} → {value(b)}"
             for k, (a, b) in details.items()]
    return f" ({escape(', '.join(parts))})"


def _changes_body(report: IssuedReport, names: dict[str, str], unit_names: dict[str, str]
                  ) -> str:
    if not report.changes:
        return ""
    changes = json.loads(report.changes)
    items = []
    for code, change in changes.get("units", {}).items():
        unit = escape(unit_names.get(code, code))
        for list_name, delta in change.get("lists", {}).items():
            what = ("số liệu cá nhân" if list_name == "employees"
                    else f"danh sách {LIST_LABELS.get(list_name, list_name)}")
            details = delta.get("details", {})
            for verb, key in (("thêm", "added"), ("bỏ", "removed"), ("sửa", "changed")):
                people = delta.get(key)
                if people:
                    who = "; ".join(_person(c, names) + _details_text(details.get(c))
                                    for c in people)
                    items.append(f"<li>{unit} – {escape(what)}: {verb} {who}</li>")
        for name, values in change.get("figures", {}).items():
            before, after = (percent(v) if name in RATES else "—" if v is None else str(v)
                             for v in values)
            items.append(f"<li>{unit} – {escape(FIGURE_LABELS.get(name, name).lower())}: "
                         f"{before} → {after}</li>")
    for code in changes.get("units_added", ()):
        items.append(f"<li>Thêm đơn vị {escape(unit_names.get(code, code))}</li>")
    for code in changes.get("units_removed", ()):
        items.append(f"<li>Bỏ đơn vị {escape(unit_names.get(code, code))}</li>")
    return (f"<h3>Thay đổi so với bản số {report.version - 1}</h3>"
            f"<ul>{''.join(items) or '<li>Số liệu tổng hợp thay đổi.</li>'}</ul>")


def render(session: Session, config: Config, report: IssuedReport) -> Rendered:
    """The parts shared by every recipient of ``report``."""
    unit = session.get(Unit, report.unit_id)
    content = json.loads(report.content)
    names = _names(session, content, _changed_codes(report))
    unit_names = {u["unit"]: u["name"] for u in content.get("units", ())}
    head = unit.head.full_name if unit.head is not None else None
    what = title(report.kind, report.period)
    what = what[0].lower() + what[1:]
    intro = (f"<p>Hệ thống Chấm công và kiểm tra đeo thẻ gửi {escape(what)} của "
             f"<b>{escape(unit.name)}</b> (gồm cả các đơn vị trực thuộc).</p>")
    if report.kind == MORNING:
        intro += ("<p>Số liệu tính đến "
                  f"{config.reports.morning_cutoff_minutes} phút sau giờ bắt đầu làm việc.</p>")
    if report.issued_late:
        intro += ("<p><i>Báo cáo được lập muộn hơn giờ quy định do hệ thống lập lịch tạm "
                  "ngừng hoạt động.</i></p>")
    body = _changes_body(report, names, unit_names)
    rendered = Rendered(subject(report, unit.name), intro, body)
    issued_on = report.issued_at.astimezone(config.tz).date()
    letterhead = {"unit_name": unit.name, "issued_on": issued_on, "signer_name": head}
    if report.kind == MONTHLY:
        rendered.body += _monthly_body(content)
        monthly = compile_monthly(session, config, report.period, unit.code)
        offenders = offenders_of(monthly, config)
        xlsx = exports.monthly_xlsx(monthly, offenders)
        pdf = exports.monthly_pdf(monthly, config, offenders, **letterhead)
    elif report.kind == DAILY:
        rendered.body += _day_body(content, names, DAILY_LISTS)
        day = date.fromisoformat(report.period)
        daily = daily_reports(session, config, day, org_tree(session), [unit.id])[unit.id]
        xlsx = exports.daily_xlsx(daily)
        pdf = exports.daily_pdf(daily, config, **letterhead)
    else:
        rendered.body += _day_body(content, names, MORNING_LISTS)
        xlsx = exports.morning_xlsx(content, names)
        pdf = exports.morning_pdf(content, names, config, **letterhead)
    stem = (f"{FILE_NAMES[report.kind]}-{report.kind}-{report.period}-{unit.code}"
            f"-v{report.version}")
    rendered.attachments = [(f"{stem}.xlsx", xlsx, XLSX_TYPE),
                            (f"{stem}.pdf", pdf, ("application", "pdf"))]
    return rendered


def message(config: Config, rendered: Rendered, delivery: MailDelivery) -> EmailMessage:
    settings = config.mail
    msg = EmailMessage()
    msg["Subject"] = rendered.subject
    msg["From"] = settings.sender
    msg["To"] = delivery.recipient
    msg["Date"] = format_datetime(datetime.now().astimezone())
    msg["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    greeting = escape(delivery.recipient_name or ROLE_LABELS.get(delivery.role, ""))
    html = (f'<html><body style="font-family:\'Times New Roman\',serif">'
            f"<p>Kính gửi: {greeting},</p>{rendered.intro}{rendered.body}")
    if rendered.attachments:
        html += "<p>Báo cáo đầy đủ (Excel và PDF) gửi kèm thư này.</p>"
    html += ("<p>Đây là thư tự động của hệ thống Chấm công và kiểm tra đeo thẻ, xin không "
             "trả lời thư này.</p></body></html>")
    msg.set_content("Thư này cần chương trình đọc thư hiển thị được HTML.\n"
                    f"{rendered.subject}\n")
    msg.add_alternative(html, subtype="html")
    for filename, data, (maintype, subtype) in rendered.attachments:
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def send_message(settings: Mail, msg: EmailMessage) -> None:
    """Hand one message to the SMTP server of the config; raises on any failure."""
    with smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT) as smtp:
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        smtp.send_message(msg)


# --- the delivery job --------------------------------------------------------------------

@dataclass
class DeliveryRun:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def _claim(session_factory: sessionmaker[Session], delivery_id: int, now: datetime) -> bool:
    """Take one row for sending (compare-and-set on its status), committed at once."""
    with session_factory() as session:
        result = session.execute(
            update(MailDelivery)
            .where(MailDelivery.id == delivery_id, MailDelivery.next_attempt_at <= now,
                   or_(MailDelivery.status == PENDING,
                       (MailDelivery.status == SENDING)
                       & (MailDelivery.claimed_at < now - STALE_CLAIM)))
            .values(status=SENDING, claimed_at=now))
        session.commit()
        return result.rowcount == 1


def _finish(session_factory, delivery_id: int, now: datetime, error: str | None) -> str:
    with session_factory() as session:
        row = session.get(MailDelivery, delivery_id)
        row.attempts += 1
        if error is None:
            row.status, row.sent_at, row.last_error = SENT, now, None
        else:
            row.last_error = error[:2000]
            if row.attempts >= MAX_ATTEMPTS:
                row.status = FAILED
            else:
                row.status = PENDING
                row.next_attempt_at = now + RETRY_DELAYS[min(row.attempts, len(RETRY_DELAYS)) - 1]
        status = row.status
        session.commit()
        return status


def deliver_pending(session_factory: sessionmaker[Session], config: Config, now: datetime, *,
                    limit: int = 200) -> DeliveryRun:
    """Send the deliveries that are due; retry failures later, bounded by MAX_ATTEMPTS."""
    run = DeliveryRun()
    if config.mail is None:
        return run
    with session_factory() as session:
        due = session.scalars(
            select(MailDelivery.id)
            .where(MailDelivery.next_attempt_at <= now,
                   or_(MailDelivery.status == PENDING,
                       (MailDelivery.status == SENDING)
                       & (MailDelivery.claimed_at < now - STALE_CLAIM)))
            .order_by(MailDelivery.report_id, MailDelivery.id).limit(limit)).all()
    rendered: dict[int, Rendered | Exception] = {}
    for delivery_id in due:
        if not _claim(session_factory, delivery_id, now):
            continue  # another scheduler took it
        error, msg = None, None
        with session_factory() as session:
            delivery = session.get(MailDelivery, delivery_id)
            try:
                if delivery.report_id not in rendered:
                    rendered[delivery.report_id] = render(session, config, delivery.report)
                parts = rendered[delivery.report_id]
                if isinstance(parts, Exception):
                    raise parts
                msg = message(config, parts, delivery)
            except Exception as exc:  # a report that cannot be rendered must not block others
                log.exception("cannot render report %s", delivery.report_id)
                rendered[delivery.report_id] = exc
                error = f"{type(exc).__name__}: {exc}"
            session.rollback()
        if msg is not None:
            # Outside any transaction: on SQLite an open one holds the write lock.
            try:
                send_message(config.mail, msg)
            except (OSError, smtplib.SMTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"
        status = _finish(session_factory, delivery_id, now, error)
        if status == SENT:
            run.sent += 1
        elif status == FAILED:
            run.failed += 1
            log.warning("mail %s failed for good: %s", delivery_id, error)
        else:
            run.retrying += 1
    return run


def retry(session: Session, delivery_id: int, now: datetime) -> bool:
    """Put a failed delivery back in the queue (an admin's action); never commits."""
    row = session.get(MailDelivery, delivery_id)
    if row is None or row.status != FAILED:
        return False
    row.status, row.attempts, row.next_attempt_at = PENDING, 0, now
    return True
