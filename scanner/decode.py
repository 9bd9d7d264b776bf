"""Frame in, QR codes out: the station's decoding stage.

Pure and framework-free: nothing here opens a camera, draws, sleeps or talks to the network.
``decode_frame`` is a pure function of an image (and optional region hints);
``FrameDecoder`` is a thin stateful wrapper that carries hints from one frame to the next,
which is how a code that blurs or tilts for a few frames keeps being read.

How a frame is decoded (the order follows the measurements in docs/station-decoding.md):

1. **Fast path** — zxing-cpp, QR only, on the whole grayscale frame, asking it to also
   return the symbols it *found but could not decode* (``return_errors``). On most frames
   this is all that runs: ~1-3 ms at 1280×720.
2. **Regions to retry** — the found-but-unreadable symbols of step 1, plus the places where
   codes were read in the last frames (tracking) and are not read now.
3. **Retries on each region** (small crops, so cheap): zxing-cpp at another scale, pyzbar as
   a second opinion, then binarized/contrast variants — stopping at the first read. A soft
   time budget keeps a cluttered frame from stalling the station.

Every decoder error is caught. A payload whose bytes are not valid UTF-8 is returned as a
``Code`` with ``rejected`` set, never raised. pyzbar is driven through its ctypes wrapper
with zbar's binary mode, so that both decoders report the raw payload bytes rather than
zbar's guess at a text encoding.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from ctypes import c_void_p, cast, string_at
from dataclasses import dataclass, field

import cv2
import numpy as np
import zxingcpp

log = logging.getLogger(__name__)

Point = tuple[float, float]
Box = tuple[int, int, int, int]  # x, y, width, height in frame pixels

ZXING = "zxing-cpp"
PYZBAR = "pyzbar"

REJECT_NOT_UTF8 = "payload is not valid UTF-8"


@dataclass(frozen=True, slots=True)
class Code:
    """One QR code read in a frame.

    ``text`` is the payload decoded as UTF-8, or ``None`` when the code was read but
    ``rejected`` (then ``rejected`` says why and ``data`` holds the raw bytes).
    ``polygon`` is the code's four corners in frame pixels, ``decoder`` names the library
    that read it and ``stage`` the pass that did (``full``, ``roi:…``).
    """

    text: str | None
    data: bytes
    polygon: tuple[Point, ...]
    decoder: str
    stage: str
    rejected: str | None = None

    @property
    def accepted(self) -> bool:
        return self.rejected is None

    @property
    def box(self) -> Box:
        return _bounding_box(self.polygon)


@dataclass(frozen=True, slots=True)
class DecodeResult:
    """Everything one frame gave: codes (read and rejected) and what is worth retrying."""

    codes: tuple[Code, ...]
    # Symbols that look like QR codes but were not read; the next frame retries them.
    unread: tuple[Box, ...] = ()
    seconds: float = 0.0
    passes: tuple[str, ...] = ()

    @property
    def texts(self) -> list[str]:
        return [c.text for c in self.codes if c.text is not None]


@dataclass(frozen=True)
class DecoderConfig:
    """Knobs of the decoding stage; the defaults are the measured station settings."""

    # Frames whose longer side exceeds this are shrunk for the fast path (regions are still
    # retried at full resolution). 1280 keeps 720p at full resolution.
    fast_max_side: int = 1280
    # Let zxing-cpp also try its internal downscaled pyramid in the fast path.
    fast_downscale: bool = True
    # At most this many regions are retried per frame ...
    max_regions: int = 4
    # ... and retries stop once the frame has taken this long (soft: the first retry of
    # the first region always runs). ``None`` retries everything (offline, tests).
    budget_seconds: float | None = 0.012
    # Use pyzbar as a second opinion on regions.
    use_pyzbar: bool = True
    # How many frames a read code keeps its place as a tracking hint.
    track_frames: int = 10
    # Crops are padded by this share of their size (and at least ``min_margin`` pixels) so
    # the quiet zone and a moved code are inside.
    margin: float = 0.35
    min_margin: int = 12
    # The last retry looks this much further around a region (see _region_attempts).
    wide_margin: float = 2.0


STATION = DecoderConfig()
THOROUGH = DecoderConfig(budget_seconds=None, max_regions=8)


# --- decoders ---------------------------------------------------------------------------

_QR = zxingcpp.BarcodeFormat.QRCode
_ZX_ERRORS = (RuntimeError, ValueError, TypeError)


def _zxing(gray: np.ndarray, *, downscale: bool = True, binarizer=None,
           errors: bool = False) -> list:
    kwargs = {}
    if binarizer is not None:
        kwargs["binarizer"] = binarizer
    try:
        return zxingcpp.read_barcodes(
            gray, formats=_QR, try_rotate=False, try_invert=False,
            try_downscale=downscale, return_errors=errors, **kwargs,
        )
    except _ZX_ERRORS as exc:  # a decoder bug must not stop the station
        log.debug("zxing-cpp failed: %s", exc)
        return []


def _zxing_polygon(position) -> tuple[Point, ...]:
    return tuple((float(p.x), float(p.y)) for p in (
        position.top_left, position.top_right, position.bottom_right, position.bottom_left))


class _Zbar:
    """pyzbar's ctypes binding driven directly: one reusable scanner, QR only, raw bytes."""

    _BINARY = 4  # ZBAR_CFG_BINARY (zbar >= 0.23): keep payload bytes, don't transcode

    def __init__(self) -> None:
        self.available = False
        self.binary = False
        try:
            from pyzbar import wrapper as zw
        except ImportError as exc:  # libzbar0 missing: run with zxing-cpp alone
            log.warning("không có pyzbar (%s); chỉ đọc mã bằng zxing-cpp", exc)
            return
        self._w = zw
        self._scanner = zw.zbar_image_scanner_create()
        zw.zbar_image_scanner_set_config(self._scanner, 0, zw.ZBarConfig.CFG_ENABLE, 0)
        zw.zbar_image_scanner_set_config(
            self._scanner, zw.ZBarSymbol.QRCODE, zw.ZBarConfig.CFG_ENABLE, 1)
        self.binary = zw.zbar_image_scanner_set_config(
            self._scanner, zw.ZBarSymbol.QRCODE, self._BINARY, 1) == 0
        self.available = True

    def __del__(self) -> None:
        if getattr(self, "available", False):
            try:
                self._w.zbar_image_scanner_destroy(self._scanner)
            except Exception:  # noqa: BLE001 - interpreter shutdown
                pass

    def decode(self, gray: np.ndarray) -> list[tuple[bytes, tuple[Point, ...]]]:
        if not self.available:
            return []
        zw = self._w
        gray = np.ascontiguousarray(gray, dtype=np.uint8)
        height, width = gray.shape[:2]
        pixels = gray.tobytes()
        out = []
        image = zw.zbar_image_create()
        try:
            zw.zbar_image_set_format(image, 0x30303859)  # 'Y800', 8-bit gray
            zw.zbar_image_set_size(image, width, height)
            zw.zbar_image_set_data(image, cast(pixels, c_void_p), len(pixels), None)
            if zw.zbar_scan_image(self._scanner, image) > 0:
                symbol = zw.zbar_image_first_symbol(image)
                while symbol:
                    data = string_at(zw.zbar_symbol_get_data(symbol),
                                     zw.zbar_symbol_get_data_length(symbol))
                    n = zw.zbar_symbol_get_loc_size(symbol)
                    points = tuple((float(zw.zbar_symbol_get_loc_x(symbol, i)),
                                    float(zw.zbar_symbol_get_loc_y(symbol, i)))
                                   for i in range(n))
                    out.append((data, points))
                    symbol = zw.zbar_symbol_next(symbol)
        except Exception as exc:  # noqa: BLE001 - ctypes/zbar failures of any kind
            log.debug("zbar failed: %s", exc)
        finally:
            zw.zbar_image_destroy(image)
        return out


_zbar: _Zbar | None = None


def _get_zbar() -> _Zbar:
    global _zbar
    if _zbar is None:
        _zbar = _Zbar()
    return _zbar


# --- helpers ----------------------------------------------------------------------------

def to_gray(image: np.ndarray) -> np.ndarray:
    """A uint8 single-channel view of a BGR, BGRA or gray frame."""
    if image.ndim == 2:
        gray = image
    elif image.shape[2] == 1:
        gray = image[:, :, 0]
    elif image.shape[2] == 4:
        gray = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    else:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if gray.dtype != np.uint8:
        gray = cv2.convertScaleAbs(gray)
    return gray


def _bounding_box(points: Sequence[Point]) -> Box:
    if not points:
        return (0, 0, 0, 0)
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, y0 = int(np.floor(min(xs))), int(np.floor(min(ys)))
    return (x0, y0, int(np.ceil(max(xs))) - x0 + 1, int(np.ceil(max(ys))) - y0 + 1)


def _overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box: 1.0 when one box contains the other."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = min(ax + aw, bx + bw) - max(ax, bx)
    ih = min(ay + ah, by + bh) - max(ay, by)
    if iw <= 0 or ih <= 0:
        return 0.0
    return iw * ih / max(1, min(aw * ah, bw * bh))


def _make_code(data: bytes, polygon, decoder: str, stage: str) -> Code:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return Code(None, bytes(data), tuple(polygon), decoder, stage, REJECT_NOT_UTF8)
    return Code(text, bytes(data), tuple(polygon), decoder, stage)


def _shift(polygon, dx: float, dy: float, scale: float) -> tuple[Point, ...]:
    return tuple((x / scale + dx, y / scale + dy) for x, y in polygon)


# --- region retries ---------------------------------------------------------------------

def _crop(gray: np.ndarray, box: Box, margin: float,
          min_margin: int) -> tuple[np.ndarray, int, int]:
    x, y, w, h = box
    pad = max(min_margin, int(margin * max(w, h)))
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(gray.shape[1], x + w + pad), min(gray.shape[0], y + h + pad)
    return gray[y0:y1, x0:x1], x0, y0


def _resize(img: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return img
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(img, None, fx=scale, fy=scale, interpolation=interp)


def _region_attempts(gray: np.ndarray, box: Box, config: DecoderConfig):
    """Yield (stage, decoder, crop origin, callable) in the order measured to pay off first."""
    crop, x0, y0 = _crop(gray, box, config.margin, config.min_margin)
    side = max(crop.shape[:2])
    # Small symbols gain from upscaling, large blurry ones from shrinking.
    up = 2.0 if side < 200 else 1.5 if side < 400 else 0.75
    yield f"roi:zxing@{up:g}", ZXING, (x0, y0), lambda: _zx_variant(_resize(crop, up), up)
    if config.use_pyzbar:
        yield "roi:pyzbar", PYZBAR, (x0, y0), lambda: _zbar_variant(crop, 1.0)
    down = 0.6 if side >= 160 else 1.25
    yield f"roi:zxing@{down:g}", ZXING, (x0, y0), lambda: _zx_variant(_resize(crop, down), down)
    yield "roi:zxing-threshold", ZXING, (x0, y0), lambda: _zx_variant(_threshold(crop), 1.0)
    if config.use_pyzbar:
        yield "roi:pyzbar-sharpen", PYZBAR, (x0, y0), lambda: _zbar_variant(_sharpen(crop), 1.0)
        # zxing-cpp often reports only a corner of a large, dense symbol it cannot sample;
        # zbar reads those when given the neighbourhood.
        wide, wx, wy = _crop(gray, box, config.wide_margin, config.min_margin)
        yield "roi:pyzbar-wide", PYZBAR, (wx, wy), lambda: _zbar_variant(wide, 1.0)


def _threshold(crop: np.ndarray) -> np.ndarray:
    block = max(15, (min(crop.shape[:2]) // 6) | 1)
    return cv2.adaptiveThreshold(crop, 255, cv2.ADAPTIVE_THRESH_MEAN_C,
                                 cv2.THRESH_BINARY, block, 5)


def _sharpen(crop: np.ndarray) -> np.ndarray:
    return cv2.addWeighted(crop, 1.8, cv2.GaussianBlur(crop, (0, 0), 2.0), -0.8, 0)


def _zx_variant(img: np.ndarray, scale: float) -> list[tuple[bytes, tuple[Point, ...], float]]:
    return [(bytes(b.bytes), _zxing_polygon(b.position), scale)
            for b in _zxing(img, downscale=False) if b.valid]


def _zbar_variant(img: np.ndarray, scale: float) -> list[tuple[bytes, tuple[Point, ...], float]]:
    return [(data, poly, scale) for data, poly in _get_zbar().decode(img)]


# --- the pure core ----------------------------------------------------------------------

def decode_frame(image: np.ndarray, hints: Iterable[Box] = (),
                 config: DecoderConfig = STATION) -> DecodeResult:
    """Decode every QR code in ``image`` (BGR, BGRA or gray ndarray).

    ``hints`` are boxes where a code is expected (e.g. where one was read in the previous
    frames); they are retried if the fast path does not read a code there.
    """
    started = time.perf_counter()
    passes = ["full"]
    codes: list[Code] = []
    unread: list[Box] = []
    try:
        gray = to_gray(image)
    except cv2.error as exc:
        log.debug("frame is not an image: %s", exc)
        return DecodeResult((), (), time.perf_counter() - started, ())
    if gray.size == 0:
        return DecodeResult((), (), time.perf_counter() - started, ())

    scale = 1.0
    fast = gray
    side = max(gray.shape[:2])
    if side > config.fast_max_side:
        scale = config.fast_max_side / side
        fast = _resize(gray, scale)

    candidates: list[Box] = []
    for barcode in _zxing(fast, downscale=config.fast_downscale, errors=True):
        polygon = _shift(_zxing_polygon(barcode.position), 0, 0, scale)
        if barcode.valid:
            codes.append(_make_code(bytes(barcode.bytes), polygon, ZXING, "full"))
        else:
            candidates.append(_bounding_box(polygon))

    # Tracking hints first: they were real codes a moment ago; zxing's failures after.
    regions: list[Box] = []
    read_boxes = [c.box for c in codes]
    for box in [*hints, *sorted(candidates, key=lambda b: -b[2] * b[3])]:
        if box[2] < 8 or box[3] < 8:
            continue
        if any(_overlap(box, r) > 0.5 for r in read_boxes + regions):
            continue
        regions.append(box)

    for n, box in enumerate(regions):
        if n >= config.max_regions:
            unread.extend(regions[n:])
            break
        found = False
        for stage, decoder, (x0, y0), attempt in _region_attempts(gray, box, config):
            # Soft budget: the frame's first retry always runs, later ones only in time.
            if (config.budget_seconds is not None and len(passes) > 1
                    and time.perf_counter() - started > config.budget_seconds):
                break
            passes.append(stage)
            for data, polygon, s in attempt():
                code = _make_code(data, _shift(polygon, x0, y0, s), decoder, stage)
                if not any(_same_code(code, c) for c in codes):
                    codes.append(code)
                found = True
            if found:
                break
        if not found:
            unread.append(box)

    return DecodeResult(tuple(codes), tuple(unread), time.perf_counter() - started,
                        tuple(passes))


def _same_code(a: Code, b: Code) -> bool:
    return a.data == b.data and _overlap(a.box, b.box) > 0.3


def decode_image(image: np.ndarray) -> list[Code]:
    """Decode a single still thoroughly (no time budget, no tracking)."""
    return list(decode_frame(image, config=THOROUGH).codes)


# --- the stateful wrapper for a stream --------------------------------------------------

@dataclass
class _Track:
    box: Box
    last_seen: int


@dataclass
class FrameDecoder:
    """Decode a stream of frames, carrying the places of recently read codes as hints.

    ``decoder.decode(image)`` returns the ``DecodeResult`` of one frame; call ``reset()``
    when the source changes. One instance per stream; not thread-safe.
    """

    config: DecoderConfig = field(default_factory=DecoderConfig)
    single_thread: bool = True
    _tracks: list[_Track] = field(default_factory=list, init=False, repr=False)
    _frame: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.single_thread:
            # The station gets one core; OpenCV's own threads would only contend for it.
            cv2.setNumThreads(1)

    def reset(self) -> None:
        self._tracks.clear()
        self._frame = 0

    def hints(self) -> list[Box]:
        return [t.box for t in self._tracks]

    def decode(self, image: np.ndarray) -> DecodeResult:
        self._frame += 1
        result = decode_frame(image, self.hints(), self.config)
        self._update(result)
        return result

    def _update(self, result: DecodeResult) -> None:
        frame = self._frame
        fresh = [_Track(c.box, frame) for c in result.codes]
        kept = [t for t in self._tracks
                if frame - t.last_seen <= self.config.track_frames
                and not any(_overlap(t.box, f.box) > 0.3 for f in fresh)]
        self._tracks = fresh + kept

