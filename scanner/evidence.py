"""The photo kept with an accepted scan, and whether a face is in it.

``Evidence.capture(image)`` returns a small JPEG (320 px wide, quality 70: about 10–20 KB)
as base64 and ``no_face``: True when the face detector finds no face in it, so that
inspectors can look for a badge scanned on someone else's behalf.

The face detector, in order of preference:

1. OpenCV's bundled frontal-face Haar cascade (``cv2.data.haarcascades``), on OpenCV 4.x;
2. OpenCV's YuNet detector (``cv2.FaceDetectorYN``) with an ONNX model file given by
   ``--face-model`` / ``ATTENDANCE_FACE_MODEL`` (OpenCV 5 dropped the Haar cascades from
   the main package and ships no YuNet weights);
3. none: ``no_face`` is left out of the scan (unknown, not "no face"), with one warning.

Cost (measured in docs/station.md) is kept off the feedback path: the station loop
commits the scan, shows the result, and only then takes the photo and attaches it.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

WIDTH = 320
QUALITY = 70
FACE_MODEL_ENV = "ATTENDANCE_FACE_MODEL"


class _Haar:
    name = "haar"

    def __init__(self, path: str) -> None:
        self.cascade = cv2.CascadeClassifier(path)
        if self.cascade.empty():
            raise ValueError(path)

    def __call__(self, bgr: np.ndarray) -> bool:
        gray = bgr if bgr.ndim == 2 else cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        faces = self.cascade.detectMultiScale(cv2.equalizeHist(gray), scaleFactor=1.15,
                                              minNeighbors=4, minSize=(24, 24))
        return len(faces) > 0


class _YuNet:
    name = "yunet"

    def __init__(self, model: str) -> None:
        self.detector = cv2.FaceDetectorYN.create(model, "", (WIDTH, WIDTH), 0.7)

    def __call__(self, bgr: np.ndarray) -> bool:
        if bgr.ndim == 2:
            bgr = cv2.cvtColor(bgr, cv2.COLOR_GRAY2BGR)
        self.detector.setInputSize((bgr.shape[1], bgr.shape[0]))
        _, faces = self.detector.detect(bgr)
        return faces is not None and len(faces) > 0


def load_face_detector(model: str | os.PathLike | None = None):
    """The best face detector this OpenCV offers, or None."""
    haar_dir = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if hasattr(cv2, "CascadeClassifier") and haar_dir:
        try:
            return _Haar(haar_dir + "haarcascade_frontalface_default.xml")
        except (ValueError, cv2.error):
            pass
    model = model or os.environ.get(FACE_MODEL_ENV)
    if model and Path(model).is_file() and hasattr(cv2, "FaceDetectorYN"):
        try:
            return _YuNet(str(model))
        except cv2.error as exc:
            log.warning("không dùng được mô hình nhận diện khuôn mặt %s: %s", model, exc)
    return None


class Evidence:
    def __init__(self, width: int = WIDTH, quality: int = QUALITY, *,
                 face_model: str | os.PathLike | None = None) -> None:
        self.width = width
        self.quality = quality
        self._lock = threading.Lock()
        self.detector = load_face_detector(face_model)
        if self.detector is None:
            log.warning("OpenCV %s không có bộ nhận diện khuôn mặt: lượt quét gửi đi không "
                        "kèm dấu 'không thấy mặt' (chỉ định mô hình YuNet bằng --face-model)",
                        cv2.__version__)

    def small(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        if w <= self.width:
            return image
        return cv2.resize(image, (self.width, max(1, round(h * self.width / w))),
                          interpolation=cv2.INTER_AREA)

    def jpeg(self, image: np.ndarray) -> bytes:
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        return data.tobytes() if ok else b""

    def has_face(self, small: np.ndarray) -> bool | None:
        """True/False, or None when there is no detector or it fails."""
        if self.detector is None:
            return None
        with self._lock:  # OpenCV detectors are not safe to share between threads
            try:
                return self.detector(small)
            except cv2.error as exc:
                log.warning("nhận diện khuôn mặt bị lỗi: %s", exc)
                return None

    def capture(self, image: np.ndarray) -> dict:
        """The fields added to an accepted scan: ``evidence_jpeg`` and ``no_face``."""
        small = self.small(image)
        data = self.jpeg(small)
        face = self.has_face(small)
        fields: dict = {} if face is None else {"no_face": not face}
        if data:
            fields["evidence_jpeg"] = base64.b64encode(data).decode("ascii")
        return fields
