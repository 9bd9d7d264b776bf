"""What a guard reads on the station's console is Vietnamese: the running log (server down,
key refused), a source that cannot be opened, usage errors and help; and ``--decode-only``
prints one line per code, whatever the code holds."""

from __future__ import annotations

import http.server
import io
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import pytest

from scanner.cli import decode_only
from scanner.synth import qr_image

ROOT = Path(__file__).resolve().parents[2]
CLIP = ROOT / "tests" / "data" / "synth_2passages_480x360.mp4"
ENGLISH = ("unreachable", "sync failed", "synced", "queued", "retrying", "heartbeat",
           "ConnectionError", "cannot", "no such", "usage", "error:", "options", "Traceback",
           "signal", "skipping", "frame ")


def station(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scanner.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "LANG": "en_US.UTF-8", "PYTHONUNBUFFERED": "1"})


def english_in(text: str) -> list[str]:
    return [word for word in ENGLISH if word.lower() in text.lower()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_offline(server: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return station("--server", server, "--key", "st_wrong", "--source", str(CLIP),
                   "--headless", "--no-sound", "--no-evidence", "--data-dir",
                   str(tmp_path / "data"), "--drain-timeout", "2", "--max-backoff", "0.5")


def test_a_station_without_its_server_says_so_in_vietnamese(tmp_path):
    run = run_offline(f"http://127.0.0.1:{free_port()}", tmp_path)
    assert run.returncode == 3, run.stderr
    assert "không kết nối được máy chủ" in run.stderr
    assert "Còn 2 lượt quét chưa gửi được" in run.stderr
    assert english_in(run.stderr) == [], run.stderr


class _Refuse(http.server.BaseHTTPRequestHandler):
    def _refuse(self) -> None:
        body = b'{"error": "unauthorized"}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _refuse

    def log_message(self, *args) -> None:
        pass


def test_a_wrong_key_is_called_a_wrong_key_not_an_unreachable_server(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        run = run_offline(f"http://127.0.0.1:{server.server_address[1]}", tmp_path)
    finally:
        server.shutdown()
        server.server_close()
    # Scans left unsent because the key is refused: one error line and status 1, not the
    # "sent by the next run" of an unreachable server (the next run fails the same way).
    assert run.returncode == 1, run.stderr
    assert "khóa điểm quét không hợp lệ" in run.stderr
    assert "không kết nối được" not in run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("Lỗi: máy chủ từ chối khóa điểm quét (HTTP 401); còn 2 lượt quét"), last
    assert "Còn 2 lượt quét chưa gửi được" not in run.stderr
    assert english_in(run.stderr) == [], run.stderr


@pytest.mark.parametrize("make, reason", [
    (lambda tmp: tmp / "no-such.mp4", "không có tệp video"),
    (lambda tmp: (tmp / "bad.mp4").write_bytes(b"not a video") and tmp / "bad.mp4",
     "không mở được tệp video"),
    (lambda tmp: (tmp / "empty").mkdir() or tmp / "empty", "không có ảnh nào"),
    (lambda tmp: "97", "không mở được camera 97"),
])
@pytest.mark.parametrize("decode", [False, True])
def test_a_source_that_cannot_be_read_is_one_vietnamese_error(tmp_path, make, reason, decode):
    source = str(make(tmp_path))
    args = (["--decode-only"] if decode else
            ["--server", f"http://127.0.0.1:{free_port()}", "--key", "k", "--headless",
             "--no-sound", "--data-dir", str(tmp_path / "data")])
    run = station(*args, "--source", source)
    assert run.returncode == 1, run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("Lỗi: ") and reason in last, run.stderr
    assert english_in(last.replace(str(tmp_path), "")) == [], last
    if decode:  # nothing else to say: no OpenCV or FFmpeg warnings before it
        assert run.stderr.strip().splitlines() == [last], run.stderr


def test_usage_errors_and_help_are_vietnamese():
    run = station("--bogus")
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1] == "Lỗi: không nhận tham số: --bogus"
    assert "Cách dùng: attendance-station" in run.stderr
    run = station("--debounce-seconds", "abc")
    assert "Lỗi: tham số --debounce-seconds: giá trị không hợp lệ: 'abc'" in run.stderr
    help_text = station("--help").stdout
    assert "Cách dùng: attendance-station" in help_text and "Tùy chọn:" in help_text
    assert "địa chỉ máy chủ" in help_text
    assert not any(word in help_text for word in ("usage:", "options:", "show this", "the "))


def test_decode_only_prints_one_line_per_code_even_with_line_breaks_inside(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    code = qr_image("Nguyễn Văn A\nPhòng 2\tTầng 3\\", module_px=6)
    image = cv2.copyMakeBorder(code, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=255)
    cv2.imwrite(str(folder / "card.png"), image)
    out = io.StringIO()
    assert decode_only(str(folder), out=out) == 0
    assert out.getvalue() == "card.png\tNguyễn Văn A\\nPhòng 2\\tTầng 3\\\\\n"


def test_decode_only_into_a_closed_pipe_ends_quietly():
    """``attendance-station --decode-only … | head -1``: no traceback when the reader goes."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        run = subprocess.run([sys.executable, "-m", "scanner.cli", "--decode-only", "--source",
                              str(CLIP)], cwd=ROOT, stdout=write_end, stderr=subprocess.PIPE,
                             text=True, timeout=60)
    finally:
        os.close(write_end)
    assert run.returncode == 0
    assert "Traceback" not in run.stderr and "BrokenPipe" not in run.stderr, run.stderr
