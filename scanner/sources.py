"""Where the station's frames come from: a webcam, a video file or a folder of images.

All three sit behind one interface, ``FrameSource``: iterate it (or call ``read()``) to
get ``Frame`` objects until the source ends, and ``close()`` it (it is a context manager).
This is the only module that touches ``cv2.VideoCapture``; the station loop, the decoder
and the tests see nothing but ``Frame``.

``open_source("0")`` opens webcam 0, ``open_source("clip.mp4")`` a video file and
``open_source("frames/")`` a folder (images in natural name order). A frame's ``id`` is its
index for a camera or a video and its file name for a folder — what
``attendance-station --decode-only`` prints in its FRAME column.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# FFmpeg's own messages ("moov atom not found"): its backend reads this when it first opens.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET

import cv2  # noqa: E402
import numpy as np

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm"})
DEFAULT_FOLDER_FPS = 30.0


@dataclass(frozen=True, slots=True)
class Frame:
    """One image from a source.

    ``id`` is the frame index (camera, video) or the file name (folder); ``index`` counts
    frames from 0 in every case; ``timestamp`` is seconds: the clock at capture for a
    camera, the position in the stream for a video or a folder.
    """

    id: int | str
    image: np.ndarray
    timestamp: float
    index: int


class FrameSource:
    """Base of all sources: an iterator of ``Frame`` with ``read()``/``close()``."""

    #: True for a camera: frames that are not read in time are lost.
    live: bool = False
    fps: float = DEFAULT_FOLDER_FPS
    description: str = ""

    def read(self) -> Frame | None:
        """The next frame, or ``None`` when the source has ended."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __iter__(self) -> Iterator[Frame]:
        while (frame := self.read()) is not None:
            yield frame

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description}>"


class SourceError(RuntimeError):
    """A source could not be opened."""


class _CaptureSource(FrameSource):
    def __init__(self, capture: cv2.VideoCapture, description: str) -> None:
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"không mở được {description}")
        self._capture = capture
        self._index = 0
        self.description = description
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and 0 < fps < 1000 else DEFAULT_FOLDER_FPS

    def _grab(self) -> np.ndarray | None:
        if self._capture is None:
            return None
        try:
            ok, image = self._capture.read()
        except cv2.error as exc:
            log.warning("%s: không đọc được khung hình: %s", self.description, exc)
            return None
        return image if ok and image is not None else None

    def read(self) -> Frame | None:
        image = self._grab()
        if image is None:
            return None
        index = self._index
        self._index += 1
        return Frame(index, image, self._timestamp(index), index)

    def _timestamp(self, index: int) -> float:
        raise NotImplementedError

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


class VideoFileSource(_CaptureSource):
    """Frames of a video file; timestamps are positions in the file."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if not path.is_file():
            raise SourceError(f"không có tệp video {path}")
        with _quiet_opencv():
            capture = cv2.VideoCapture(str(path))
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"không mở được tệp video {path} (tệp hỏng hoặc không phải video)")
        super().__init__(capture, f"tệp video {path}")

    def _timestamp(self, index: int) -> float:
        return index / self.fps


class CameraSource(_CaptureSource):
    """A webcam by index; timestamps come from ``clock`` (monotonic seconds) at capture."""

    live = True

    def __init__(self, index: int, *, width: int | None = None, height: int | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 backend: int = cv2.CAP_ANY) -> None:
        with _quiet_opencv():
            capture = cv2.VideoCapture(index, backend)
        if width:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        if height:
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        # A camera's internal queue adds latency between a badge shown and a badge seen.
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"không mở được camera {index} (kiểm tra camera đã cắm và "
                              "số thứ tự camera)")
        super().__init__(capture, f"camera {index}")
        self._clock = clock

    def _timestamp(self, index: int) -> float:
        return self._clock()


@contextmanager
def _quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's own English warnings while a capture opens (the caller says what
    went wrong in Vietnamese); FFmpeg's are off for the whole process (``OPENCV_FFMPEG_LOGLEVEL``
    above: the guard cannot act on them)."""
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(level)


def _natural_key(name: str) -> list:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


class ImageFolderSource(FrameSource):
    """Every image of a folder in natural name order (frame2 before frame10).

    Files that cannot be read as images are skipped with a log line.
    """

    def __init__(self, folder: str | Path, *, fps: float = DEFAULT_FOLDER_FPS,
                 grayscale: bool = False) -> None:
        folder = Path(folder)
        if not folder.is_dir():
            raise SourceError(f"không có thư mục {folder}")
        self.description = str(folder)
        self.fps = fps
        self._flag = cv2.IMREAD_GRAYSCALE if grayscale else cv2.IMREAD_COLOR
        self._files = sorted(
            (p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()),
            key=lambda p: _natural_key(p.name))
        if not self._files:
            raise SourceError(f"thư mục {folder} không có ảnh nào "
                              f"({', '.join(sorted(IMAGE_SUFFIXES))})")
        self._next = 0
        self._index = 0

    def __len__(self) -> int:
        return len(self._files)

    def read(self) -> Frame | None:
        while self._next < len(self._files):
            path = self._files[self._next]
            self._next += 1
            image = cv2.imread(str(path), self._flag)
            if image is None:
                log.warning("bỏ qua %s: không đọc được ảnh", path)
                continue
            index = self._index
            self._index += 1
            return Frame(path.name, image, index / self.fps, index)
        return None


def open_source(spec: str | int | Path, **options) -> FrameSource:
    """Open a source from the station's ``--source`` value.

    An integer (or a string of digits) is a webcam index, a folder is a folder of images,
    anything else a video file. ``options`` go to the source's constructor.
    """
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        return CameraSource(int(spec), **options)
    path = Path(spec)
    if path.is_dir():
        return ImageFolderSource(path, **options)
    return VideoFileSource(path, **options)
