"""The photo kept with an accepted scan, and whether a face is in it.

``Evidence.capture(image)`` returns a small JPEG (320 px wide, quality 70: about 10–20 KB)
as base64 and ``no_face``: True when OpenCV's bundled frontal-face Haar cascade finds no
face in it, so that inspectors can look for a badge scanned on someone else's behalf.

Cost (measured in docs/station.md): the cascade runs on the small image, a few ms to a few
tens of ms on one core. It is off the feedback path: the station loop commits the scan,
shows the result, and only then takes the photo and attaches it to the queued scan.
"""

from __future__ import annotations

import base64
import logging
import threading

import cv2
import numpy as np

log = logging.getLogger(__name__)

WIDTH = 320
QUALITY = 70


class Evidence:
    def __init__(self, width: int = WIDTH, quality: int = QUALITY) -> None:
        self.width = width
        self.quality = quality
        self._cascade = None
        self._lock = threading.Lock()

    def _detector(self):
        if self._cascade is None:
            path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
            cascade = cv2.CascadeClassifier(path)
            if cascade.empty():
                log.warning("face detector not available (%s)", path)
            self._cascade = cascade
        return self._cascade

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
        """True/False, or None when the detector is missing or fails."""
        with self._lock:  # CascadeClassifier is not safe to share between threads
            cascade = self._detector()
            if cascade.empty():
                return None
            try:
                gray = small if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
                gray = cv2.equalizeHist(gray)
                faces = cascade.detectMultiScale(gray, scaleFactor=1.15, minNeighbors=4,
                                                 minSize=(24, 24))
            except cv2.error as exc:
                log.warning("face detection failed: %s", exc)
                return None
        return len(faces) > 0

    def capture(self, image: np.ndarray) -> dict:
        """The fields added to an accepted scan: ``evidence_jpeg`` and ``no_face``."""
        small = self.small(image)
        data = self.jpeg(small)
        face = self.has_face(small)
        fields: dict = {"no_face": (not face) if face is not None else False}
        if data:
            fields["evidence_jpeg"] = base64.b64encode(data).decode("ascii")
        return fields
