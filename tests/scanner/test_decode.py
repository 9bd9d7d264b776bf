"""The decoding stage on real camera footage and on crafted codes.

Real footage: BoofCV-Data (lessthanoptimal/BoofCV-Data, example/fiducial/qrcode/),
© Peter Abeles, CC-BY 4.0 — see ../shared/data/qr-boofcv/README.md.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import segno
import zxingcpp
from pyzbar import pyzbar

from scanner import decode
from scanner.decode import (PYZBAR, REJECT_NOT_UTF8, STATION, THOROUGH, ZXING, FrameDecoder,
                            decode_frame, decode_image)

FOOTAGE = Path(os.environ.get("QR_BOOFCV_DIR",
                              Path(__file__).resolve().parents[3] / "shared/data/qr-boofcv"))


def _qr(payload: str | bytes, scale: int = 6) -> np.ndarray:
    buf = io.BytesIO()
    segno.make(payload, micro=False, error="m").save(buf, kind="png", scale=scale, border=4)
    return cv2.imdecode(np.frombuffer(buf.getvalue(), np.uint8), cv2.IMREAD_GRAYSCALE)


@pytest.fixture(scope="module")
def footage() -> list[tuple[str, np.ndarray, set[str]]]:
    manifest = FOOTAGE / "manifest.csv"
    if not manifest.is_file():
        pytest.skip(f"real footage not found at {FOOTAGE} (set QR_BOOFCV_DIR)")
    expected: dict[str, set[str]] = {}
    with manifest.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["include"] != "1":
                continue
            text = (FOOTAGE / row["expected_text_file"]).read_text(encoding="utf-8")
            expected.setdefault(row["file"], set()).add(text)
    return [(name, cv2.imread(str(FOOTAGE / name), cv2.IMREAD_GRAYSCALE), texts)
            for name, texts in sorted(expected.items())]


def _score(footage, read) -> int:
    return sum(len(texts & read(image)) for _, image, texts in footage)


def test_stage_reads_at_least_as_many_real_codes_as_each_single_decoder(footage):
    ours = _score(footage, lambda im: set(decode_frame(im, config=THOROUGH).texts))
    plain_pyzbar = _score(footage, lambda im: {
        d.data.decode("utf-8", "replace") for d in pyzbar.decode(im)})
    plain_zxing = _score(footage, lambda im: {b.text for b in zxingcpp.read_barcodes(im)})
    assert ours >= plain_pyzbar
    assert ours >= plain_zxing
    # Combining decoders must actually pay: more than the better one alone.
    assert ours > max(plain_pyzbar, plain_zxing)


def test_station_settings_read_far_more_than_plain_pyzbar(footage):
    ours = _score(footage, lambda im: set(decode_frame(im, config=STATION).texts))
    plain_pyzbar = _score(footage, lambda im: {
        d.data.decode("utf-8", "replace") for d in pyzbar.decode(im)})
    assert ours > plain_pyzbar


def test_no_false_reads_on_real_footage(footage):
    listed = set().union(*(texts for _, _, texts in footage))
    for name, image, _ in footage:
        for code in decode_frame(image, config=THOROUGH).codes:
            assert code.text in listed, (name, code)


def test_code_carries_text_polygon_box_and_decoder():
    payload = "CC1|E0001|S7K2|k1|" + "A" * 86
    frame = np.full((480, 640), 200, np.uint8)
    qr = _qr(payload, scale=4)
    frame[100:100 + qr.shape[0], 150:150 + qr.shape[1]] = qr
    (code,) = decode_image(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    assert code.text == payload and code.accepted and code.rejected is None
    assert code.data == payload.encode()
    assert code.decoder in (ZXING, PYZBAR)
    assert len(code.polygon) == 4
    x, y, w, h = code.box
    assert 150 <= x + 16 and x < 150 + 16 + 4 * 4  # inside the quiet zone margin
    assert abs(w - (qr.shape[1] - 32)) < 8 and abs(h - (qr.shape[0] - 32)) < 8


def test_non_utf8_payload_is_a_rejected_code_not_an_exception():
    raw = b"CC1|\xff\xfe\x80|\xc3"
    codes = decode_image(_qr(raw))
    assert len(codes) == 1
    (code,) = codes
    assert code.text is None
    assert code.rejected == REJECT_NOT_UTF8
    assert not code.accepted
    assert code.data == raw


def test_pyzbar_second_opinion_reports_raw_bytes():
    # zbar's default would transcode these bytes into valid UTF-8 (mojibake) text.
    raw = b"\xff\xfe\x80abc\xc3"
    zbar = decode._get_zbar()
    assert zbar.binary
    ((data, polygon),) = zbar.decode(_qr(raw))
    assert data == raw
    assert len(polygon) >= 4


def test_utf8_payload_with_vietnamese_text_is_accepted():
    text = "CC1|E0002|Nguyễn Văn Ánh"
    (code,) = decode_image(_qr(text.encode("utf-8")))
    assert code.text == text and code.accepted


@pytest.mark.parametrize("image", [
    np.zeros((0, 0), np.uint8),
    np.zeros((1, 1), np.uint8),
    np.zeros((720, 1280, 3), np.uint8),
    np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8),
    np.random.default_rng(1).integers(0, 256, (480, 640, 4), dtype=np.uint8),
    np.random.default_rng(2).random((120, 160)).astype(np.float32),
])
def test_any_image_decodes_without_raising(image):
    result = decode_frame(image, config=THOROUGH)
    assert all(code.text is not None or code.rejected for code in result.codes)


def test_decoder_keeps_recent_codes_as_hints_then_forgets_them():
    frame = np.full((480, 640), 210, np.uint8)
    qr = _qr("CC1|E0003|X", scale=5)
    frame[50:50 + qr.shape[0], 60:60 + qr.shape[1]] = qr
    decoder = FrameDecoder()
    assert decoder.decode(frame).texts == ["CC1|E0003|X"]
    assert len(decoder.hints()) == 1
    blank = np.full_like(frame, 210)
    for _ in range(decoder.config.track_frames + 1):
        decoder.decode(blank)
    assert decoder.hints() == []


def test_tracking_hint_is_retried_and_read_after_the_fast_path_misses():
    frame = np.full((480, 640), 210, np.uint8)
    qr = _qr("CC1|E0004|Y", scale=5)
    frame[50:50 + qr.shape[0], 60:60 + qr.shape[1]] = qr
    box = (60 + 20, 50 + 20, qr.shape[1] - 40, qr.shape[0] - 40)
    result = decode_frame(frame, hints=[box], config=THOROUGH)
    # The fast path reads it, so the overlapping hint costs no retry.
    assert result.texts == ["CC1|E0004|Y"] and result.passes == ("full",)
