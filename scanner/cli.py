"""``attendance-station``: the scanner station program.

::

    attendance-station --server URL --key KEY --source SOURCE [--headless] [--decode-only]
        [--data-dir DIR] [--debounce-seconds S] [--no-evidence] [--realtime] [--guard]

SOURCE is a webcam index (``0``), a video file or a folder of images. The station syncs
the trust bundle (``GET /api/v1/station/sync``) at start and periodically, checks badges
offline, queues every scan durably (``<data dir>/outbox.sqlite3``) before showing the
result, and sends the queue in the background (``POST /api/v1/scans``), with a heartbeat.
A file source runs as fast as it decodes (``--realtime``: at its own frame rate) and the
program ends when it does, after draining the queue (``--drain-timeout``). SIGTERM or
Ctrl-C stops it cleanly; anything unsent stays queued for the next run.

``--decode-only`` neither verifies nor uploads: it prints ``FRAME<TAB>TEXT`` per code read.
``--guard`` is the guard's terminal: search an employee by name or code and record that
they came in without a badge (in window mode, the ``n`` key opens the same prompt).

Exit status: 0 done; 1 an error (no source, no data dir, the server refused the key
while scans are still queued, ...); 3 scans are still queued when the drain timeout ran
out (they are sent by the next run).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import logging
import os
import signal
import sys
import threading
import time
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import requests

log = logging.getLogger("scanner.station")

DEFAULT_DATA_DIR = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") \
    / "attendance-station"
EXIT_QUEUED = 3


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("attendance")
    except Exception:
        return "0"


def _now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="milliseconds")


# --- HTTP ---------------------------------------------------------------------------------


class ApiClient:
    """The station's side of the station API (``docs/station.md``)."""

    def __init__(self, server: str, key: str, *, timeout: float = 10.0) -> None:
        self.base = server.rstrip("/") + "/api/v1"
        self.timeout = timeout
        self.http = requests.Session()
        self.http.headers.update({"Authorization": f"Bearer {key}",
                                  "User-Agent": f"attendance-station/{_version()}"})
        self._lock = threading.Lock()  # requests.Session is not thread-safe

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        from scanner.outbox import Refused, TransportError, Unauthorized

        try:
            with self._lock:
                response = self.http.request(method, self.base + path, timeout=self.timeout,
                                             **kwargs)
        except requests.Timeout:
            raise TransportError("máy chủ không trả lời kịp") from None
        except requests.ConnectionError:
            raise TransportError(f"không kết nối được máy chủ {self.base[:-7]}") from None
        except requests.RequestException as exc:
            raise TransportError(f"lỗi mạng ({type(exc).__name__})") from None
        if response.status_code == 401:
            raise Unauthorized("khóa điểm quét không hợp lệ hoặc điểm quét đã bị khóa (HTTP 401)")
        if response.status_code in (400, 404, 409, 413, 422):
            try:
                message = response.json().get("error", "")
            except ValueError:
                message = response.text[:200]
            raise Refused(response.status_code, message)
        if response.status_code >= 300 and response.status_code != 304:
            raise TransportError(f"máy chủ báo lỗi (HTTP {response.status_code})")
        return response

    def _json(self, response: requests.Response):
        from scanner.outbox import TransportError

        try:
            return response.json()
        except ValueError:
            raise TransportError("câu trả lời của máy chủ không đọc được") from None

    def post_scans(self, scans: list[dict]) -> list[dict]:
        from scanner.outbox import TransportError

        answer = self._json(self._call("POST", "/scans",
                                       json={"sent_at": _now_iso(), "scans": scans}))
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list):
            raise TransportError("câu trả lời của máy chủ thiếu kết quả")
        return results

    def post_no_badge(self, body: dict) -> dict:
        return self._json(self._call("POST", "/station/no-badge", json=body))

    def sync(self, etag: str | None) -> tuple[dict | None, str | None]:
        """The bundle and its ETag, or ``(None, etag)`` when it has not changed."""
        headers = {"If-None-Match": etag} if etag else {}
        response = self._call("GET", "/station/sync", headers=headers)
        if response.status_code == 304:
            return None, etag
        return self._json(response), response.headers.get("ETag")

    def heartbeat(self, queue: int) -> dict:
        return self._json(self._call("POST", "/station/heartbeat",
                                     json={"queue": queue, "version": _version()}))

    def search(self, query: str) -> list[dict]:
        return self._json(self._call("GET", "/station/employees", params={"q": query}))


# --- background upkeep: sync and heartbeat ------------------------------------------------


class Upkeep(threading.Thread):
    """Syncs the trust bundle and sends heartbeats on their intervals until stopped."""

    def __init__(self, client: ApiClient, trust, outbox, *, sync_seconds: float,
                 heartbeat_seconds: float, stop: threading.Event) -> None:
        super().__init__(name="station-upkeep", daemon=True)
        self.client, self.trust, self.outbox = client, trust, outbox
        self.sync_seconds, self.heartbeat_seconds = sync_seconds, heartbeat_seconds
        self.stop = stop
        self.next_sync = time.monotonic() + sync_seconds
        self.next_beat = time.monotonic()

    def sync_now(self) -> bool:
        from scanner.outbox import Refused, TransportError, Unauthorized

        try:
            bundle, etag = self.client.sync(self.trust.etag)
        except (TransportError, Unauthorized, Refused) as exc:
            log.warning("chưa đồng bộ được với máy chủ (%s); %s", exc,
                        "kiểm tra thẻ theo lần đồng bộ trước" if self.trust.synced else
                        "chưa đồng bộ lần nào: thẻ được ghi lại và máy chủ sẽ kiểm tra khi gửi")
            return False
        if bundle is not None:
            server_time = bundle.pop("server_time", None)
            self.trust.update(bundle, etag)
            log.info("đã đồng bộ với máy chủ: %d khóa, %d thẻ đã thu hồi, %d cán bộ",
                     len(bundle.get("public_keys") or {}),
                     len(bundle.get("revoked_serials") or ()),
                     len(bundle.get("employees") or {}))
            _warn_skew(server_time)
        return True

    def run(self) -> None:
        from scanner.outbox import Refused, TransportError, Unauthorized

        while not self.stop.wait(0.5):
            now = time.monotonic()
            if now >= self.next_sync:
                self.next_sync = now + self.sync_seconds
                self.sync_now()
            if now >= self.next_beat:
                self.next_beat = now + self.heartbeat_seconds
                try:
                    answer = self.client.heartbeat(self.outbox.count())
                    _warn_skew(answer.get("server_time") if isinstance(answer, dict) else None)
                except (TransportError, Unauthorized, Refused) as exc:
                    log.info("không báo được trạng thái về máy chủ: %s", exc)


def _warn_skew(server_time: str | None) -> None:
    if not server_time:
        return
    try:
        skew = (datetime.now().astimezone() - datetime.fromisoformat(server_time)).total_seconds()
    except (TypeError, ValueError):
        return
    if abs(skew) > 60:
        log.warning("đồng hồ điểm quét lệch %+.0f giây so với máy chủ", skew)


# --- guard's keyboard entry ---------------------------------------------------------------


def _fold(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if unicodedata.category(c) != "Mn").casefold()


def search_employees(client: ApiClient | None, trust, query: str) -> list[dict]:
    """Search on the server; offline, in the synced employee list (code or name)."""
    from scanner.outbox import Refused, TransportError, Unauthorized

    if client is not None:
        try:
            found = client.search(query)
            if isinstance(found, list):
                return found
        except (TransportError, Unauthorized, Refused) as exc:
            log.info("không tìm được trên máy chủ (%s); tìm trong danh sách đã đồng bộ", exc)
    folded = _fold(query.strip())
    return [{"code": code, "full_name": name, "unit": ""}
            for code, name in sorted(trust.employees().items())
            if folded and (folded in _fold(code) or folded in _fold(name))][:20]


def record_no_badge(outbox, employee_code: str) -> str:
    """Queue a guard's no-badge record (sent by the outbox sender); returns its event id."""
    from scanner.outbox import NO_BADGE, new_event_id

    event_id = new_event_id()
    outbox.enqueue({"event_id": event_id, "employee": employee_code,
                    "recorded_at": _now_iso()}, kind=NO_BADGE, event_id=event_id)
    return event_id


def guard_prompt(client, trust, outbox, *, stdin=None, stdout=None) -> None:
    """The guard's terminal: search, pick a number, the record is queued. Empty line ends."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout

    def say(text: str) -> None:
        print(text, file=stdout, flush=True)

    say("Ghi nhận người vào không đeo thẻ. Nhập tên hoặc mã cán bộ (dòng trống để thoát).")
    while True:
        stdout.write("Tìm: ")
        stdout.flush()
        query = stdin.readline()
        if not query or not query.strip():
            return
        found = search_employees(client, trust, query.strip())
        if not found:
            say("Không tìm thấy ai.")
            continue
        for i, person in enumerate(found[:20], 1):
            unit = f" — {person.get('unit_name') or person.get('unit')}" \
                if person.get("unit_name") or person.get("unit") else ""
            say(f"  {i}. {person['code']}  {person['full_name']}{unit}")
        stdout.write("Chọn số để ghi nhận không đeo thẻ (Enter: bỏ qua): ")
        stdout.flush()
        choice = stdin.readline().strip()
        if not choice.isdigit() or not 1 <= int(choice) <= min(20, len(found)):
            say("Bỏ qua.")
            continue
        person = found[int(choice) - 1]
        record_no_badge(outbox, person["code"])
        say(f"Đã ghi nhận: {person['full_name']} ({person['code']}) không đeo thẻ lúc "
            f"{datetime.now():%H:%M:%S}.")


# --- the program --------------------------------------------------------------------------


#: argparse's own words, in the station's language (argparse looks ``_`` up at call time).
ARGPARSE_VI = {
    "usage: ": "Cách dùng: ",
    "options": "Tùy chọn",
    "positional arguments": "Tham số",
    "show this help message and exit": "hiện hướng dẫn này rồi thoát",
    "%(prog)s: error: %(message)s\n": "%(prog)s: Lỗi: %(message)s\n",
    "unrecognized arguments: %s": "không nhận tham số: %s",
    "argument %(argument_name)s: %(message)s": "tham số %(argument_name)s: %(message)s",
    "expected one argument": "cần một giá trị",
    "invalid %(type)s value: %(value)r": "giá trị không hợp lệ: %(value)r",
    "ambiguous option: %(option)s could match %(matches)s":
        "tùy chọn %(option)s không rõ, có thể là %(matches)s",
    "ignored explicit argument %r": "tùy chọn không nhận giá trị %r",
    "the following arguments are required: %s": "thiếu tham số: %s",
}


class StationArgumentParser(argparse.ArgumentParser):
    """argparse speaking Vietnamese: usage, help headings and errors (one ``Lỗi:`` line)."""

    def __init__(self, *args, **kwargs) -> None:  # the headings and -h are made here
        self._vietnamese(super().__init__, *args, **kwargs)

    @staticmethod
    def _vietnamese(call, *args, **kwargs):
        english = argparse._
        argparse._ = lambda text: ARGPARSE_VI.get(text, text)
        try:
            return call(*args, **kwargs)
        finally:
            argparse._ = english

    def parse_args(self, args=None, namespace=None):
        return self._vietnamese(super().parse_args, args, namespace)

    def format_help(self) -> str:
        return self._vietnamese(super().format_help)

    def format_usage(self) -> str:
        return self._vietnamese(super().format_usage)

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"Lỗi: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = StationArgumentParser(
        prog="attendance-station",
        description="Điểm quét thẻ: đọc mã QR từ camera, kiểm tra, ghi nhận và gửi về máy chủ.")
    p.add_argument("--server", metavar="URL",
                   help="địa chỉ máy chủ, ví dụ http://10.0.0.5:8000")
    p.add_argument("--key", default=os.environ.get("ATTENDANCE_STATION_KEY"), metavar="KHÓA",
                   help="khóa của điểm quét (hoặc biến môi trường ATTENDANCE_STATION_KEY)")
    p.add_argument("--source", metavar="NGUỒN",
                   help="số thứ tự camera (0), tệp video hoặc thư mục ảnh")
    p.add_argument("--headless", action="store_true",
                   help="không mở cửa sổ: in kết quả mỗi lượt quét ra màn hình")
    p.add_argument("--decode-only", action="store_true",
                   help="chỉ đọc mã, in KHUNG<TAB>NỘI DUNG mỗi mã (không kiểm tra, không gửi)")
    p.add_argument("--data-dir", type=Path, metavar="THƯ_MỤC",
                   default=Path(os.environ.get("ATTENDANCE_STATION_DIR") or DEFAULT_DATA_DIR),
                   help=f"hàng chờ gửi, dữ liệu đồng bộ và âm thanh (mặc định {DEFAULT_DATA_DIR})")
    p.add_argument("--debounce-seconds", type=float, default=10.0, metavar="GIÂY",
                   help="một mã thấy lại trong chừng ấy giây là cùng một lượt quét")
    p.add_argument("--no-evidence", action="store_true",
                   help="không chụp ảnh ghi nhận (và không kiểm tra khuôn mặt)")
    p.add_argument("--no-sound", action="store_true", help="tắt âm báo")
    p.add_argument("--face-model", metavar="TỆP.onnx",
                   help="mô hình YuNet để nhận diện khuôn mặt (OpenCV 5 không có Haar; "
                        "hoặc ATTENDANCE_FACE_MODEL)")
    p.add_argument("--realtime", action="store_true",
                   help="phát tệp video hoặc thư mục ảnh theo đúng tốc độ khung hình")
    p.add_argument("--guard", action="store_true",
                   help="bàn bảo vệ: ghi nhận người vào không đeo thẻ")
    p.add_argument("--fresh-event-ids", action="store_true",
                   help="mã sự kiện ngẫu nhiên cả với tệp (phát lại được tính thêm lần nữa)")
    p.add_argument("--sync-seconds", type=float, default=60.0, metavar="GIÂY",
                   help="đồng bộ với máy chủ mỗi chừng ấy giây")
    p.add_argument("--heartbeat-seconds", type=float, default=30.0, metavar="GIÂY",
                   help="báo trạng thái về máy chủ mỗi chừng ấy giây")
    p.add_argument("--drain-timeout", type=float, default=60.0, metavar="GIÂY",
                   help="khi tệp nguồn hết, chờ tối đa chừng ấy giây để gửi hết hàng chờ")
    p.add_argument("--max-backoff", type=float, default=60.0, metavar="GIÂY",
                   help="thời gian chờ lâu nhất giữa hai lần thử gửi khi mất kết nối")
    p.add_argument("--timeout", type=float, default=10.0, metavar="GIÂY",
                   help="thời gian chờ mỗi yêu cầu tới máy chủ")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="ghi chi tiết (cho kỹ thuật viên)")
    return p


def source_namespace(spec: str) -> str:
    """A short id of a recorded file or folder (size, name and sampled content)."""
    path = Path(spec)
    digest = hashlib.sha256()
    if path.is_dir():
        for item in sorted(path.iterdir()):
            if item.is_file():
                digest.update(f"{item.name}:{item.stat().st_size};".encode())
    else:
        size = path.stat().st_size
        digest.update(f"{path.name}:{size};".encode())
        with open(path, "rb") as fh:
            digest.update(fh.read(1 << 20))
            if size > 1 << 21:
                fh.seek(-(1 << 20), os.SEEK_END)
                digest.update(fh.read())
    return digest.hexdigest()[:12]


def one_line(text: str) -> str:
    """A code's text on one line: line breaks, tabs and backslashes escaped (``\\n``, ...)."""
    return (text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
            .replace("\t", "\\t"))


def decode_only(source_spec: str, out=None) -> int:
    from scanner.decode import FrameDecoder
    from scanner.loop import code_payload
    from scanner.sources import open_source

    out = out or sys.stdout
    with open_source(source_spec) as source:
        decoder = FrameDecoder()
        for frame in source:
            for code in decoder.decode(frame.image).codes:
                print(f"{frame.id}\t{one_line(code_payload(code))}", file=out, flush=True)
    return 0


class _DataDirLock:
    """One station process per data dir (the kernel drops the lock if the process dies)."""

    def __init__(self, data_dir: Path) -> None:
        self.fh = open(data_dir / "station.lock", "w")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.fh.close()
            raise SystemExit(f"Lỗi: một điểm quét khác đang dùng thư mục {data_dir}") from None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The guard reads the console: the time and the message; the rest for a technician (-v).
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s" if args.verbose
                        else "%(asctime)s  %(message)s", datefmt="%H:%M:%S" if not args.verbose
                        else None, stream=sys.stderr)
    from scanner.sources import SourceError

    if args.decode_only:
        if not args.source:
            print("Lỗi: cần --source", file=sys.stderr)
            return 1
        try:
            return decode_only(args.source)
        except SourceError as exc:
            print(f"Lỗi: {exc}", file=sys.stderr)
            return 1
        except BrokenPipeError:  # `… | head`: the reader has had enough
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 0
    if not args.server or not args.key:
        print("Lỗi: cần --server và --key (hoặc ATTENDANCE_STATION_KEY)", file=sys.stderr)
        return 1
    if not args.source and not args.guard:
        print("Lỗi: cần --source (hoặc --guard)", file=sys.stderr)
        return 1
    try:
        args.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"Lỗi: không tạo được thư mục dữ liệu {args.data_dir}: {exc}", file=sys.stderr)
        return 1
    lock = _DataDirLock(args.data_dir)
    try:
        return _run(args)
    except SourceError as exc:
        print(f"Lỗi: {exc}", file=sys.stderr)
        return 1
    finally:
        lock.fh.close()


def _run(args) -> int:
    from scanner.outbox import Backoff, Outbox, Sender
    from scanner.verify import TrustStore

    stop = threading.Event()

    def on_signal(signum, _frame):
        log.info("đang dừng (tín hiệu %s)", signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    client = ApiClient(args.server, args.key, timeout=args.timeout)
    trust = TrustStore(args.data_dir)
    outbox = Outbox(args.data_dir / "outbox.sqlite3")
    outbox.recover()
    upkeep = Upkeep(client, trust, outbox, sync_seconds=args.sync_seconds,
                    heartbeat_seconds=args.heartbeat_seconds, stop=stop)
    upkeep.sync_now()

    def on_result(item, result):
        if result.get("status") == "rejected" and result.get("reason") == "malformed":
            log.error("máy chủ không đọc được lượt quét %s: %s", item.event_id, result)
        else:
            log.debug("server: %s %s %s", item.event_id, result.get("status"),
                      result.get("reason") or "")

    sender = Sender(outbox, client.post_scans, client.post_no_badge,
                    backoff=Backoff(base=0.5, cap=args.max_backoff), on_result=on_result)
    sender.start()
    upkeep.start()
    if outbox.count():
        log.info("đang gửi %d lượt quét còn lại từ lần chạy trước", outbox.count())
    try:
        if args.guard and not args.source:
            guard_prompt(client, trust, outbox)
            ended = True
        else:
            ended = _scan(args, client, trust, outbox, stop)
    finally:
        # Give the queue a chance to empty: long after a file ends, briefly on a signal.
        drained = sender.drain(args.drain_timeout if not stop.is_set() else 3.0)
        stop.set()
        sender.stop()
        sender.join(timeout=5)
        left = outbox.count()
        outbox.close()
    if left and sender.key_refused:
        print(f"Lỗi: máy chủ từ chối khóa điểm quét (HTTP 401); còn {left} lượt quét chưa gửi, "
              f"giữ trong {args.data_dir} đến khi có khóa đúng.", file=sys.stderr)
        return 1
    if left:
        print(f"Còn {left} lượt quét chưa gửi được; sẽ gửi ở lần chạy sau "
              f"({args.data_dir}).", file=sys.stderr)
    return 0 if drained or not ended else EXIT_QUEUED


def _scan(args, client, trust, outbox, stop: threading.Event) -> bool:
    """Run the loop; True when the source ended by itself."""
    from scanner.decode import FrameDecoder
    from scanner.evidence import Evidence
    from scanner.feedback import LogFeedback, Sound, WindowFeedback, WindowUnavailable
    from scanner.loop import EventIds, ReplayEventIds, StationLoop
    from scanner.sources import open_source

    if args.headless:
        feedback = LogFeedback()
    else:
        try:
            feedback = WindowFeedback()
        except WindowUnavailable as exc:
            print(f"Lỗi: {exc}", file=sys.stderr)
            raise SystemExit(1) from None
    sound = Sound(args.data_dir, enabled=not args.no_sound)
    guard_thread: list[threading.Thread] = []

    def on_key(key: int) -> None:
        if key in (ord("q"), 27):
            stop.set()
        elif key == ord("n") and not (guard_thread and guard_thread[0].is_alive()):
            thread = threading.Thread(target=guard_prompt, args=(client, trust, outbox),
                                      daemon=True, name="guard-prompt")
            guard_thread[:] = [thread]
            thread.start()

    with open_source(args.source) as source:
        if source.live or args.fresh_event_ids:
            event_ids = EventIds()
        else:
            event_ids = ReplayEventIds(source_namespace(args.source))
        loop = StationLoop(source, FrameDecoder(), trust, outbox, feedback, sound=sound,
                           evidence=None if args.no_evidence
                           else Evidence(face_model=args.face_model),
                           debounce_seconds=args.debounce_seconds, realtime=args.realtime,
                           stop=stop, on_key=on_key, event_ids=event_ids)
        try:
            stats = loop.run()
        finally:
            feedback.close()
    lat = sorted(stats.latencies)
    summary = f"{stats.frames} khung hình, {stats.scans} lượt quét " \
              f"({stats.accepted} hợp lệ, {stats.refused} không hợp lệ" \
              f"{f', {stats.unchecked} chưa kiểm tra được' if stats.unchecked else ''})"
    if lat:
        summary += f"; phản hồi trung vị {lat[len(lat) // 2] * 1000:.0f} ms, " \
                   f"chậm nhất {lat[-1] * 1000:.0f} ms"
    print(summary, file=sys.stderr)
    return not stop.is_set()


if __name__ == "__main__":
    sys.exit(main())
