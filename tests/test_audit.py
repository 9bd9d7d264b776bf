"""Tamper evidence: append-only records and hash chains that name their first broken link."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from attendance.audit import record, verify_chains
from attendance.models import Employee, NoBadgeRecord, Scan, Unit
from attendance.models.audit import AuditEntry
from attendance.models.chain import AppendOnlyError, append

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)


@pytest.fixture
def evidence(session_factory):
    with session_factory() as session:
        unit = Unit(code="SNV", name="Sở Nội vụ")
        employee = Employee(code="E001", full_name="Trần Thị Bình", unit=unit)
        session.add_all([unit, employee])
        session.flush()
        for i in range(5):
            for station in ("CONG1", "CONG2"):
                append(session, Scan(source=f"station:{station}", event_id=f"{station}-{i}",
                                     employee_id=employee.id, status="accepted",
                                     scanned_at=NOW + timedelta(minutes=i), received_at=NOW,
                                     flags=""), f"scan:{station}")
        append(session, NoBadgeRecord(employee_id=employee.id, recorded_at=NOW, source="guard"),
               "nobadge:SNV")
        record(session, actor="admin", action="test", at=NOW, target="E001",
               details={"tên": "Bình"})
        session.commit()


def test_intact_chains_verify(evidence, session_factory):
    with session_factory() as session:
        checked, broken = verify_chains(session)
    assert broken is None and checked == 12


def test_the_orm_refuses_to_edit_or_delete_evidence(evidence, session_factory):
    with session_factory() as session:
        scan = session.scalars(sa.select(Scan).limit(1)).one()
        scan.scanned_at = scan.scanned_at - timedelta(minutes=30)
        with pytest.raises(AppendOnlyError):
            session.flush()
        session.rollback()
        session.delete(session.scalars(sa.select(Scan).limit(1)).one())
        with pytest.raises(AppendOnlyError):
            session.flush()
        session.rollback()
        # housekeeping columns may change (evidence photos are purged)
        scan = session.scalars(sa.select(Scan).limit(1)).one()
        scan.evidence_path = None
        session.flush()


def _tamper(engine, sql, **params):
    with engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def test_an_edit_in_sql_names_the_record(evidence, engine, session_factory):
    _tamper(engine, "UPDATE scans SET scanned_at = :t WHERE source = 'station:CONG2' AND seq = 3",
            t=(NOW - timedelta(hours=1)).replace(tzinfo=None)
            if engine.dialect.name == "sqlite" else NOW - timedelta(hours=1))
    with session_factory() as session:
        _, broken = verify_chains(session)
    assert broken is not None
    assert (broken.table, broken.stream, broken.seq) == ("scans", "scan:CONG2", 3)
    assert str(broken) == (f"lượt quét thẻ (scans), chuỗi 'scan:CONG2', bản ghi số 3 "
                           f"(id {broken.record_id}): nội dung đã bị sửa sau khi ghi")


def test_a_deleted_record_in_the_middle_is_found(evidence, engine, session_factory):
    _tamper(engine, "DELETE FROM scans WHERE stream = 'scan:CONG1' AND seq = 2")
    with session_factory() as session:
        _, broken = verify_chains(session)
    assert (broken.stream, broken.seq) == ("scan:CONG1", 2)
    assert str(broken) == ("lượt quét thẻ (scans), chuỗi 'scan:CONG1', bản ghi số 2: "
                           "thiếu bản ghi (tiếp theo là bản ghi số 3)")


def test_a_deleted_last_record_is_found(evidence, engine, session_factory):
    _tamper(engine, "DELETE FROM audit_log")
    with session_factory() as session:
        _, broken = verify_chains(session)
    assert broken is not None and broken.stream == "audit"
    assert str(broken).endswith(": bản ghi cuối chuỗi đã bị xóa")


def test_cli_audit_verify(evidence, engine, cli):
    ok = cli("audit", "verify")
    assert ok.exit_code == 0 and "12 bản ghi" in ok.output
    _tamper(engine, "UPDATE no_badge_records SET source = 'spot_check'")
    bad = cli("audit", "verify")
    assert bad.exit_code == 1
    assert bad.stderr.startswith("Chuỗi bị phá vỡ tại: ghi nhận không đeo thẻ "
                                 "(no_badge_records), chuỗi 'nobadge:SNV', bản ghi số 1")


def test_concurrent_writers_never_fork_a_stream(session_factory, engine):
    """Writers that start and extend the same stream at once leave one unbroken chain."""
    import threading

    with session_factory() as session:
        unit = Unit(code="SNV", name="Sở Nội vụ")
        session.add(unit)
        session.flush()
        employee_id = session.scalar(sa.insert(Employee).values(
            code="E001", full_name="A", unit_id=unit.id, category="CC").returning(Employee.id))
        session.commit()
    errors = []

    def write(worker: int) -> None:
        try:
            for i in range(10):
                with session_factory() as session:
                    append(session, Scan(source="station:X", event_id=f"{worker}-{i}",
                                         employee_id=employee_id, status="accepted",
                                         scanned_at=NOW, received_at=NOW, flags=""), "scan:X")
                    session.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with session_factory() as session:
        checked, broken = verify_chains(session)
    assert broken is None and checked == 40


def test_the_hash_of_a_record_is_what_earlier_versions_stored():
    """Records chained by every earlier version must still verify, and verification uses the
    same code as writing: so the hashes of two fixed records (Vietnamese text, a local
    time, a JSON detail) are pinned here."""
    at = datetime(2026, 11, 23, 7, 31, 5, 250000, tzinfo=timezone(timedelta(hours=7)))
    scan = Scan(source="station:CỔNG-1", event_id="e-1", employee_id=7, badge_serial="B1",
                status="accepted", reason=None, payload="ATT1.x", scanned_at=at,
                station_time=at, received_at=at, flags="late_upload", supersedes_id=None,
                stream="scan:CỔNG-1", seq=3, prev_hash="a" * 64)
    assert scan.compute_hash() == (
        "094dfb92a81a0fba333501007b3bac3602fb8f2e558ded84af35a323107f4c16")
    entry = AuditEntry(at=at, actor="web:thutruong", action="excuse.approved",
                       target="employee:E001", details={"tên": "Trần Thị Bình", "số": 2},
                       stream="audit", seq=1, prev_hash="0" * 64)
    assert entry.compute_hash() == (
        "21491deffed1e2bb565e2b2b4e33694c3cfd1409ade43fa9377f4d25cf9fc101")
