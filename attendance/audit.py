"""Tamper evidence: the audit log, the append-only guard and the verification of hash chains.

Scans, no-badge records, spot-check findings, excuse decisions and the audit log are
append-only: a correction is a new record that points at the old one. The ORM refuses to
change or delete them, and ``verify_chains`` recomputes every stream's hashes so that a
change made behind the application's back (in SQL, say) names its first broken link.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from attendance.models import (
    AuditEntry, ChainHead, ExcuseDecision, NoBadgeRecord, Scan, SpotCheckFinding,
)
from attendance.models.chain import GENESIS, append

AUDIT_STREAM = "audit"
CHAINED_MODELS = (Scan, NoBadgeRecord, SpotCheckFinding, ExcuseDecision, AuditEntry)

# What each action code the product writes means, as the audit log shows it. Every code
# written needs its label here (tests/test_audit_labels.py reads the source to check).
ACTION_LABELS = {
    "auth.login": "Đăng nhập",
    "auth.password_changed": "Đổi mật khẩu",
    "auth.password_set": "Đặt mật khẩu (dòng lệnh)",
    "user.created": "Tạo tài khoản",
    "user.role_changed": "Đổi vai trò tài khoản",
    "user.renamed": "Đổi tên đăng nhập",
    "user.deactivated": "Khóa tài khoản",
    "user.reactivated": "Mở lại tài khoản",
    "badge.issue": "Cấp thẻ",
    "badge.revoke": "Thu hồi thẻ",
    "badge.card_printed": "In thẻ",
    "keys.initialized": "Tạo khóa ký thẻ",
    "station.registered": "Đăng ký điểm quét thẻ",
    "station.demo_key": "Cấp khóa cho điểm quét thẻ mẫu",
    "employee.photo_changed": "Đổi ảnh cán bộ",
    "excuse.requested": "Gửi đơn nghỉ phép, công tác",
    "excuse.approved": "Duyệt đơn nghỉ phép, công tác",
    "excuse.rejected": "Từ chối đơn nghỉ phép, công tác",
    "excuse.withdrawn": "Rút đơn nghỉ phép, công tác",
    "excuse.revoked": "Hủy duyệt đơn nghỉ phép, công tác",
    "spot_check.recorded": "Ghi nhận kiểm tra đột xuất",
    "spot_check.corrected": "Sửa kết quả kiểm tra đột xuất",
    "no_badge.withdrawn": "Hủy ghi nhận không đeo thẻ",
    "scan.withdrawn": "Hủy lượt quét thẻ",
    "import.units": "Nhập đơn vị từ tệp",
    "import.employees": "Nhập cán bộ từ tệp",
    "import.scans": "Nhập lượt quét thẻ từ tệp",
    "import.excuses": "Nhập đơn nghỉ phép, công tác từ tệp",
    "mail.retry": "Gửi lại thư báo cáo",
    "health.check": "Kiểm tra hằng đêm",
    "evidence.purged": "Xóa ảnh ghi nhận hết hạn lưu",
    "feedback.purged": "Xóa góp ý hết hạn lưu",
    "demo.load": "Nạp dữ liệu mẫu",
}


# What each key of an entry's details means, as the audit log page shows it, in the order
# the page lists them (the stored JSON sorts its keys). Every key the product writes needs
# its label here (tests/test_audit_labels.py reads the source to check); a key written by
# another release is shown as it is, after these.
DETAIL_LABELS = {
    # people, units, accounts
    "role": "Vai trò", "unit": "Đơn vị", "employee": "Cán bộ", "address": "Địa chỉ IP",
    "before": "Trước khi sửa", "after": "Sau khi sửa",
    # badges, photos
    "serial": "Số sê-ri thẻ", "key_id": "Khóa ký thẻ", "photo": "Ảnh",
    # excuses
    "excuse": "Đơn số", "kind": "Loại", "part": "Thời gian nghỉ", "from": "Từ", "to": "Đến",
    # withdrawn scans and no-badge records
    "record": "Bản ghi số", "withdrawal": "Bản ghi hủy số", "recorded_at": "Thời điểm ghi nhận",
    "recorded_by": "Người ghi nhận", "scan": "Lượt quét thẻ số", "source": "Nguồn",
    "scanned_at": "Thời điểm quét thẻ",
    # spot checks
    "spot_check": "Lần kiểm tra số", "findings": "Số người được kiểm tra", "results": "Kết quả",
    "finding": "Kết quả số", "correction": "Kết quả sửa số",
    # imports
    "rows": "Số dòng", "created": "Thêm mới", "updated": "Cập nhật", "unchanged": "Không đổi",
    "skipped": "Bỏ qua", "errors": "Dòng lỗi",
    # housekeeping and the nightly check
    "files": "Số tệp đã xóa", "retention_days": "Số ngày lưu", "ok": "Đạt yêu cầu",
    "silent_stations": "Điểm quét thẻ mất tín hiệu", "chain_records": "Số bản ghi đã kiểm tra",
    "broken_link": "Liên kết hỏng",
    # the demo
    "today": "Ngày", "records_from": "Ngày bắt đầu ghi nhận", "employees": "Số cán bộ",
    "scans": "Số lượt quét thẻ", "no_badge": "Số lần không đeo thẻ",
    "excuses": "Số đơn nghỉ phép, công tác",
    "reason": "Lý do",
}


def detail_label(key: str) -> str:
    """The Vietnamese label of a details key; the key itself for one this release does not
    know."""
    return DETAIL_LABELS.get(key, key)


def action_label(action: str) -> str:
    """The Vietnamese label of an action code; the code itself for one this release does not
    know (written by an older or a newer one)."""
    return ACTION_LABELS.get(action, action)


def record(session: Session, *, actor: str, action: str, at: datetime, target: str | None = None,
           details: dict | str | None = None) -> AuditEntry:
    """Append one entry to the audit log (nhật ký hệ thống)."""
    if isinstance(details, dict):
        details = json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)
    entry = AuditEntry(at=at, actor=actor, action=action, target=target, details=details)
    append(session, entry, AUDIT_STREAM)
    return entry


@dataclass(frozen=True)
class BrokenLink:
    table: str
    stream: str
    seq: int
    record_id: int | None
    problem: str

    def __str__(self) -> str:
        record = f" (id {self.record_id})" if self.record_id is not None else ""
        return (f"{TABLE_LABELS.get(self.table, self.table)} ({self.table}), chuỗi "
                f"{self.stream!r}, bản ghi số {self.seq}{record}: {self.problem}")


# What each chained table holds, as a broken link names it (the table's name beside it).
TABLE_LABELS = {
    "scans": "lượt quét thẻ", "no_badge_records": "ghi nhận không đeo thẻ",
    "spot_check_findings": "kết quả kiểm tra đột xuất", "excuse_decisions": "quyết định duyệt đơn",
    "audit_log": "nhật ký hệ thống", "chain_heads": "đầu chuỗi",
}


def verify_chains(session: Session, batch: int = 5000) -> tuple[int, BrokenLink | None]:
    """Check every chain; returns (records checked, the first broken link or None)."""
    checked = 0
    heads = {h.stream: h for h in session.scalars(select(ChainHead))}
    seen_streams: set[str] = set()
    for model in CHAINED_MODELS:
        query = select(model).order_by(model.stream, model.seq).execution_options(yield_per=batch)
        result = session.scalars(query)
        try:
            count, broken = _verify_table(session, model.__tablename__, result, heads,
                                          seen_streams)
        finally:
            result.close()
        checked += count
        if broken:
            return checked, broken
    for name, head in heads.items():
        if name not in seen_streams and head.seq:
            return checked, BrokenLink("chain_heads", name, head.seq, None,
                                       "bản ghi cuối chuỗi đã bị xóa")
    return checked, None


def _verify_table(session, table, records, heads, seen_streams) -> tuple[int, BrokenLink | None]:
    checked, stream, expected_seq, prev_hash = 0, None, 0, GENESIS
    for rec in records:
        if rec.stream != stream:
            if stream is not None and (broken := _check_head(table, stream, expected_seq,
                                                            prev_hash, heads)):
                return checked, broken
            stream, expected_seq, prev_hash = rec.stream, 0, GENESIS
            seen_streams.add(stream)
        expected_seq += 1
        checked += 1
        if rec.seq != expected_seq:
            return checked, BrokenLink(table, stream, expected_seq, None,
                                       f"thiếu bản ghi (tiếp theo là bản ghi số {rec.seq})")
        if rec.prev_hash != prev_hash:
            return checked, BrokenLink(table, stream, rec.seq, rec.id,
                                       "không nối tiếp bản ghi trước")
        if rec.compute_hash() != rec.hash:
            return checked, BrokenLink(table, stream, rec.seq, rec.id,
                                       "nội dung đã bị sửa sau khi ghi")
        prev_hash = rec.hash
        session.expunge(rec)
    if stream is not None:
        return checked, _check_head(table, stream, expected_seq, prev_hash, heads)
    return checked, None


def _check_head(table, stream, last_seq, last_hash, heads) -> BrokenLink | None:
    head = heads.get(stream)
    if head is None or head.seq != last_seq or head.hash != last_hash:
        return BrokenLink(table, stream, last_seq, None,
                          "bản ghi cuối chuỗi đã bị xóa")
    return None
