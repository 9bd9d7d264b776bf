"""The command line's usage errors and help headings are Vietnamese, whatever the locale:
the usual mistakes, run as a user runs them (``attendance`` in a process of its own)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

ENGLISH = ("Error", "Usage", "Try ", "Did you mean", "is not one of", "Missing", "No such",
           "requires", "unexpected", "does not exist", "Options", "Show this message")


def attendance(*args: str, tmp_path, **variables: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LANG": "en_US.UTF-8", "LANGUAGE": "en",
           "ATTENDANCE_INSTANCE": str(tmp_path), **variables}
    return subprocess.run([sys.executable, "-m", "attendance.cli", *args], env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args, error", [
    (["nosuch"], "Lỗi: Không có lệnh 'nosuch'."),
    (["report", "daily", "--dat", "2026-11-02"],
     "Lỗi: Không có tùy chọn '--dat'. (Có phải ý bạn là một trong: '--date', '--format'?)"),
    (["report", "daily", "--formt", "csv"],
     "Lỗi: Không có tùy chọn '--formt'. Có phải ý bạn là '--format'?"),
    (["report", "daily", "--date", "2026-11-02", "--format", "xml"],
     "Lỗi: Giá trị không hợp lệ cho '--format': 'xml' không thuộc 'json', 'csv', 'xlsx', "
     "'pdf'."),
    (["report", "daily", "--date"], "Lỗi: Tùy chọn '--date' cần một giá trị."),
    (["report", "daily"], "Lỗi: Thiếu tùy chọn '--date'."),
    (["report", "daily", "--date", "2026-11-02", "extra"], "Lỗi: Thừa tham số (extra)"),
    (["import", "employees"], "Lỗi: Thiếu tham số 'FILE'."),
    (["import", "employees", "/no/such.csv"],
     "Lỗi: Giá trị không hợp lệ cho 'FILE': Tệp '/no/such.csv' không tồn tại."),
])
def test_a_usage_error_is_one_vietnamese_line_and_status_2(args, error, tmp_path):
    run = attendance(*args, tmp_path=tmp_path)
    assert run.returncode == 2
    assert run.stderr.splitlines()[-1] == error
    assert not any(word in run.stderr for word in ENGLISH), run.stderr


@pytest.mark.parametrize("args", [["report", "--help"], ["--help"]])
def test_help_headings_are_vietnamese(args, tmp_path):
    run = attendance(*args, tmp_path=tmp_path)
    assert run.returncode == 0
    for heading in ("Cách dùng: attendance", "Tùy chọn:", "Lệnh:",
                    "Hiện hướng dẫn này rồi thoát."):
        assert heading in run.stdout
    assert not any(word in run.stdout for word in (*ENGLISH, "Commands")), run.stdout


def test_a_file_that_cannot_be_written_is_one_line_not_a_traceback(tmp_path):
    assert attendance("init-db", tmp_path=tmp_path).returncode == 0
    run = attendance("report", "daily", "--date", "2026-11-20", "--format", "csv",
                     "-o", str(tmp_path / "no-such-folder" / "x.csv"), tmp_path=tmp_path)
    assert run.returncode == 1
    assert run.stderr == (f"Lỗi: tệp {tmp_path / 'no-such-folder' / 'x.csv'}: "
                          "không có tệp hoặc thư mục này\n")


@pytest.mark.parametrize("url, error", [
    ("mysql://root@127.0.0.1/attendance",
     "Lỗi: ATTENDANCE_DATABASE_URL: chỉ dùng được SQLite hoặc PostgreSQL (sqlite:///tệp hoặc "
     "postgresql://…), không phải 'mysql'"),
    ("not a url", "Lỗi: ATTENDANCE_DATABASE_URL: không đọc được địa chỉ cơ sở dữ liệu (cần "
                  "sqlite:///tệp hoặc postgresql://…)"),
])
def test_a_database_address_it_cannot_use_is_one_line_not_a_traceback(url, error, tmp_path):
    """Before, SQLAlchemy's parse error or a missing driver (MySQLdb) ended in a traceback."""
    run = attendance("init-db", tmp_path=tmp_path, ATTENDANCE_DATABASE_URL=url)
    assert (run.returncode, run.stderr) == (1, error + "\n")


def test_postgres_scheme_is_taken_as_postgresql():
    """``postgres://`` as libpq and hosting services write it (SQLAlchemy knows only
    ``postgresql``); no connection is made here."""
    from attendance.db import make_engine

    engine = make_engine("postgres://postgres@127.0.0.1:5432/attendance")
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
    engine.dispose()


def test_a_reader_that_stops_early_is_not_an_error(cli, monkeypatch, capsys):
    """``attendance station list | head -1``: the pipe closes under the output. That is the
    reader's choice, not a file error to report ("Lỗi: tệp: Broken pipe" before)."""
    from attendance.cli import main

    class ClosedPipe:
        def write(self, _data):
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

        def flush(self):
            pass

        buffer = property(lambda self: self)

    assert cli("station", "list").output  # a line to write, even with no station
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    with pytest.raises(SystemExit) as ended:
        main(["station", "list"])
    assert ended.value.code == 1 and "Lỗi" not in capsys.readouterr().err
