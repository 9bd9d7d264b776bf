"""A bad config file stops the command line with one Vietnamese line naming the key."""

from __future__ import annotations

import pytest

from attendance.config import default_config_text

REPORT = ("report", "daily", "--date", "2026-11-23", "--format", "json")


def _edited(old: str, new: str) -> str:
    text = default_config_text()
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize("text, line", [
    (_edited('sessions = ["07:00-11:30", "13:30-17:00"]', 'sessions = ["07:00-06:00"]'),
     "Lỗi: cấu hình: schedules.default.periods[0].sessions: "
     "buổi '07:00-06:00' kết thúc trước khi bắt đầu"),
    (_edited('"thu", "fri"]', '"thu", "fri", "cn"]'),
     "Lỗi: cấu hình: schedules.default.workdays[5]: "
     "phải là một trong: 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'"),
    (_edited("late_grace_minutes = 5", "late_grace_minute = 5"),
     "Lỗi: cấu hình: schedules.default.late_grace_minute: "
     "khóa không được hỗ trợ (kiểm tra lại tên khóa)"),
    (_edited("early_leave_grace_minutes = 5", "early_leave_grace_minutes = -5"),
     "Lỗi: cấu hình: schedules.default.early_leave_grace_minutes: phải lớn hơn hoặc bằng 0"),
    (_edited('to = "04-15"', 'to = "04-31"'),
     "Lỗi: cấu hình: schedules.default.periods[1].to: cần ngày dạng MM-DD, không phải '04-31'"),
    (_edited("extra_holidays = []", 'extra_holidays = ["30/04/2026"]'),
     "Lỗi: cấu hình: extra_holidays[0]: cần ngày dạng YYYY-MM-DD"),
    (default_config_text().replace("schedules.default", "schedules.chinh"),
     "Lỗi: cấu hình: schedules: cần có lịch làm việc default ([schedules.default])"),
    (_edited('timezone = "Asia/Ho_Chi_Minh"', "timezone = Asia/Ho_Chi_Minh"),
     "Lỗi: cấu hình: {path}: sai cú pháp TOML ở dòng 4, cột 12"),
])
def test_a_bad_config_is_one_vietnamese_line(cli, tmp_path, text, line):
    path = tmp_path / "tinh.toml"
    path.write_text(text, encoding="utf-8")
    result = cli("--config", str(path), *REPORT)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [line.format(path=path)]
    assert result.stdout == ""


def test_a_missing_config_file(cli, tmp_path):
    result = cli("--config", str(tmp_path / "khong-co.toml"), *REPORT)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Lỗi: cấu hình: không đọc được tệp {tmp_path / 'khong-co.toml'}: không có tệp này"]
