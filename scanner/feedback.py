"""What the person at the door sees and hears when a badge is read.

- ``LogFeedback`` (headless): one line per scan on stdout, e.g.
  ``07:42:10  Hợp lệ — Nguyễn Văn An (E001)``;
- ``WindowFeedback``: the camera picture in a window with a green (Hợp lệ) or red
  (Không hợp lệ + reason) band holding the name and the time. Vietnamese diacritics are
  drawn with Pillow and the vendored Liberation Sans (``cv2.putText`` has no Vietnamese);
  the window needs an OpenCV build with a GUI (``opencv-python``, not ``-headless``);
- ``Sound``: a short high chime for accepted and a low double buzz for refused, two WAV
  files generated with the stdlib ``wave`` module into the data dir and played with
  ``aplay``/``paplay`` in the background (never waited for), else the terminal bell.
  Sound never fails a scan.
"""

from __future__ import annotations

import logging
import math
import shutil
import struct
import subprocess
import sys
import time
import wave
from datetime import datetime
from pathlib import Path
from typing import TextIO

import numpy as np

from scanner.verify import Verdict

log = logging.getLogger(__name__)

GREEN = (46, 160, 67)  # RGB
RED = (200, 40, 40)
AMBER = (214, 140, 0)  # not checked (a station never synced): neither valid nor refused
OVERLAY_SECONDS = 2.5
WINDOW_TITLE = "Tram quet the"  # window titles are not Unicode-safe on every backend


def result_line(verdict: Verdict, at: datetime) -> str:
    return f"{at:%H:%M:%S}  {verdict.line()}"


class LogFeedback:
    """Headless feedback: one line per scan."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def show(self, verdict: Verdict, at: datetime, image: np.ndarray | None = None) -> None:
        print(result_line(verdict, at), file=self.stream, flush=True)

    def frame(self, image: np.ndarray, now: float) -> int:
        return -1

    def close(self) -> None:
        pass


# --- sound --------------------------------------------------------------------------------


def _tone(path: Path, notes: list[tuple[float, float]], rate: int = 16000) -> None:
    """Write a mono 16-bit WAV of (frequency Hz, seconds) notes with soft edges."""
    samples = bytearray()
    for freq, seconds in notes:
        n = int(rate * seconds)
        for i in range(n):
            edge = min(1.0, i / (rate * 0.01), (n - i) / (rate * 0.01))
            value = 0.0 if freq <= 0 else math.sin(2 * math.pi * freq * i / rate) * 0.5 * edge
            samples += struct.pack("<h", int(value * 32767))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(samples))


class Sound:
    """Two distinct sounds; ``enabled=False`` makes it silent."""

    def __init__(self, data_dir: str | Path, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.player = None
        self.files: dict[bool, Path] = {}
        if not enabled:
            return
        folder = Path(data_dir) / "sounds"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self.files = {True: folder / "accepted.wav", False: folder / "refused.wav"}
            if not self.files[True].is_file():
                _tone(self.files[True], [(880, 0.09), (1320, 0.16)])
            if not self.files[False].is_file():
                _tone(self.files[False], [(220, 0.15), (0, 0.06), (220, 0.22)])
        except OSError as exc:
            log.warning("không tạo được tệp âm thanh: %s", exc)
            self.files = {}
        for name, args in (("paplay", []), ("aplay", ["-q"])):
            if shutil.which(name):
                self.player = [name, *args]
                break

    def play(self, ok: bool) -> None:
        if not self.enabled:
            return
        try:
            if self.player and ok in self.files:
                subprocess.Popen([*self.player, str(self.files[ok])], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 start_new_session=True)
                return
            sys.stderr.write("\a" if ok else "\a\a")
            sys.stderr.flush()
        except Exception as exc:  # no audio is never a reason to miss a scan
            log.debug("sound failed: %s", exc)


# --- window -------------------------------------------------------------------------------


_fonts: dict[int, object] = {}


def _font(size: int):
    from PIL import ImageFont

    from attendance.fonts import font_path

    if size not in _fonts:
        _fonts[size] = ImageFont.truetype(str(font_path("Sans-Bold")), size)
    return _fonts[size]


def draw_overlay(image: np.ndarray, verdict: Verdict, at: datetime) -> np.ndarray:
    """A copy of the BGR ``image`` with the result band drawn at the bottom.

    Green with "Hợp lệ", the name and the time; red with "Không hợp lệ" and the reason.
    """
    from PIL import Image, ImageDraw

    h, w = image.shape[:2]
    band_h = max(60, h // 4)
    out = image.copy()
    color = GREEN if verdict.ok else AMBER if verdict.unchecked else RED
    band = out[h - band_h:]
    tint = np.array(color[::-1], np.float32)
    out[h - band_h:] = (band.astype(np.float32) * 0.15 + tint * 0.85).astype(np.uint8)
    # Pillow only on the band: cheaper than converting the whole frame.
    pil = Image.fromarray(np.ascontiguousarray(out[h - band_h:, :, ::-1]))
    draw = ImageDraw.Draw(pil)
    big, small = _font(max(16, band_h // 3)), _font(max(12, band_h // 5))
    if verdict.ok:
        first = f"{verdict.title}  {at:%H:%M:%S}"
        second = f"{verdict.full_name or ''} ({verdict.employee_code})"
    else:
        first = f"{verdict.title}  {at:%H:%M:%S}"
        second = verdict.reason_text or ""
        if verdict.employee_code:
            second += f" — {verdict.full_name or verdict.employee_code}"
    pad = band_h // 10
    draw.text((pad * 2, pad), first, font=big, fill=(255, 255, 255))
    draw.text((pad * 2, pad * 2 + big.size), second, font=small, fill=(255, 255, 255))
    out[h - band_h:] = np.asarray(pil)[:, :, ::-1]
    cv2_border(out, color)
    return out


def cv2_border(image: np.ndarray, color: tuple[int, int, int], width: int = 8) -> None:
    bgr = color[::-1]
    image[:width] = bgr
    image[-width:] = bgr
    image[:, :width] = bgr
    image[:, -width:] = bgr


class WindowUnavailable(RuntimeError):
    """This OpenCV build has no GUI (opencv-python-headless)."""


class WindowFeedback:
    """The camera picture with the last result drawn on it for a few seconds."""

    def __init__(self, *, hold_seconds: float = OVERLAY_SECONDS,
                 clock=time.monotonic) -> None:
        import cv2

        self.cv2 = cv2
        self.hold = hold_seconds
        self.clock = clock
        self._last: tuple[Verdict, datetime, float] | None = None
        try:
            cv2.namedWindow(WINDOW_TITLE, cv2.WINDOW_NORMAL)
        except cv2.error as exc:
            raise WindowUnavailable(
                "OpenCV không có giao diện cửa sổ (bản headless); dùng --headless hoặc cài "
                "opencv-python") from exc

    def show(self, verdict: Verdict, at: datetime, image: np.ndarray | None = None) -> None:
        self._last = (verdict, at, self.clock())
        print(result_line(verdict, at), flush=True)
        if image is not None:
            self.frame(image, self.clock())

    def frame(self, image: np.ndarray, now: float) -> int:
        """Show a camera frame (with the current result, if recent); returns the key."""
        if self._last is not None and now - self._last[2] <= self.hold:
            image = draw_overlay(image, self._last[0], self._last[1])
        self.cv2.imshow(WINDOW_TITLE, image)
        return self.cv2.waitKey(1) & 0xFF

    def close(self) -> None:
        try:
            self.cv2.destroyAllWindows()
        except self.cv2.error:
            pass
