"""``attendance station add / list / purge-evidence``."""

from __future__ import annotations

import json

from sqlalchemy import select

from attendance import access
from attendance.models import AuditEntry, Station
from factories import make_unit


def _units(session_factory):
    with session_factory() as session:
        make_unit(session, "SNV", "Sở Nội vụ")
        session.commit()


def test_add_prints_the_key_once_and_stores_its_hash(cli, session_factory):
    _units(session_factory)
    result = cli("station", "add", "CONG-1", "--unit", "SNV", "--name", "Cổng chính")
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert len(key) >= 40 and "\n" not in key  # the key alone on stdout, for scripts
    assert "CONG-1" in result.stderr and "một lần" in result.stderr
    with session_factory() as session:
        station = session.scalar(select(Station).where(Station.code == "CONG-1"))
        assert station.key_hash == access.hash_station_key(key) and key != station.key_hash
        assert (station.name, station.unit.code, station.active) == ("Cổng chính", "SNV", True)
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "station.registered"))
        assert entry.target == "station:CONG-1" and entry.actor == "cli"
        assert json.loads(entry.details) == {"unit": "SNV"} and key not in entry.details

    listing = cli("station", "list")
    assert listing.exit_code == 0
    assert "CONG-1\tSNV\tCổng chính\tchưa kết nối" in listing.stdout
    assert key not in listing.stdout


def test_add_refuses_unknown_units_duplicates_and_bad_codes(cli, session_factory):
    _units(session_factory)
    assert cli("station", "add", "CONG-1", "--unit", "SNV").exit_code == 0
    for args, message in ((("CONG-2", "--unit", "NOPE"), "không có đơn vị"),
                          (("CONG-1", "--unit", "SNV"), "đã được dùng"),
                          (("cổng 3", "--unit", "SNV"), "mã điểm quét")):
        result = cli("station", "add", *args)
        assert result.exit_code == 1 and message in result.stderr, result.output
        assert result.stdout == ""
    with session_factory() as session:
        assert session.scalars(select(Station.code)).all() == ["CONG-1"]


def test_list_and_purge_on_an_empty_database(cli):
    assert "Chưa có điểm quét nào." in cli("station", "list").stdout
    result = cli("station", "purge-evidence")
    assert result.exit_code == 0 and "Đã xóa 0 ảnh" in result.stdout


def test_station_keys_never_look_like_options():
    from attendance.access import new_station_key

    assert all(not new_station_key().startswith("-") for _ in range(2000))
