"""Benchmark: from the frame in which a badge becomes readable to the feedback shown.

The whole station path of ``scanner.loop.StationLoop`` runs on real frames: decode,
offline verification of a really signed badge (Ed25519), the outbox commit (SQLite WAL,
``synchronous=FULL``, fsynced, in a temporary folder on this disk), the feedback line, and
after it the evidence photo (timed apart: it is off the feedback path). The same loop runs
with plain pyzbar on the full frame as its decoder, in the same run.

Real-time simulation as in ``bench.decode``: frames arrive at the clip's rate, the loop
takes the newest frame when it is free, and a badge's *readable frame* is the first frame
of its passage that the decoding stage with no time budget can read. Also printed: the
cost of drawing the window overlay (Pillow, Vietnamese text) and of the evidence photo.

    python -m bench.feedback [--size 1280x720] [--passages 4]

The clip and a bench-only keyring are generated into bench/out/ on the first run.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import io  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
from pyzbar import pyzbar  # noqa: E402

from attendance.badges import Keyring, format_payload, signed_message  # noqa: E402
from scanner.decode import THOROUGH, Code, DecodeResult, FrameDecoder, decode_frame, to_gray  # noqa: E402,E501
from scanner.evidence import Evidence  # noqa: E402
from scanner.feedback import LogFeedback, draw_overlay  # noqa: E402
from scanner.loop import StationLoop  # noqa: E402
from scanner.outbox import Outbox  # noqa: E402
from scanner.sources import Frame, open_source  # noqa: E402
from scanner.synth import ClipSpec, GroundTruth, write_clip  # noqa: E402
from scanner.verify import TrustStore, Verdict  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"


class PlainPyzbar:
    """The baseline decoder for the loop: pyzbar on the whole frame, QR only."""

    def decode(self, image) -> DecodeResult:
        codes = []
        for d in pyzbar.decode(to_gray(image), symbols=[pyzbar.ZBarSymbol.QRCODE]):
            try:
                text = d.data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            codes.append(Code(text, d.data, (), "pyzbar", "full"))
        return DecodeResult(tuple(codes))


def bench_keyring() -> Keyring:
    keyring = Keyring(OUT / "feedback-keys")
    if not keyring.exists:
        keyring.init()
    return keyring


def load(width: int, height: int, passages: int):
    keyring = bench_keyring()
    key_id = keyring.current_key_id
    payloads, names = [], {}
    for i in range(passages):
        code, serial = f"NV{i + 1:04d}", f"BENCH{i + 2:03d}"
        payloads.append(format_payload(code, serial, key_id,
                                       keyring.sign(key_id, signed_message(code, serial,
                                                                           key_id))))
        names[code] = f"Nguyễn Văn Thử {i + 1}"
    video = OUT / f"feedback_{width}x{height}_{passages}p_{key_id}.mp4"
    if not video.is_file():
        print(f"  generating {video.relative_to(ROOT)} …", file=sys.stderr, flush=True)
        write_clip(ClipSpec(passages=passages, seed=21, width=width, height=height,
                            payloads=tuple(payloads)), video)
    with open_source(video) as source:
        frames = [f.image for f in source]
    bundle = {"public_keys": keyring.public_keys(), "retired_key_ids": [],
              "revoked_serials": [], "employees": names}
    return frames, GroundTruth.load(video.with_suffix(".json")), bundle


def readable_frames(frames, truth) -> dict[str, int]:
    first = {}
    for passage in truth.passages:
        for index in range(passage.first_frame, passage.last_frame + 1):
            if passage.payload in decode_frame(frames[index], config=THOROUGH).texts:
                first[passage.payload] = index
                break
    return first


def simulate(decoder, frames, truth, bundle, readable) -> tuple[list[float], int, list[float]]:
    """Seconds from readable frame to feedback per passage; passages missed; photo costs."""
    with tempfile.TemporaryDirectory() as tmp:
        trust = TrustStore(tmp)
        trust.update(bundle)
        outbox = Outbox(Path(tmp) / "outbox.sqlite3")
        loop = StationLoop(None, decoder, trust, outbox, LogFeedback(io.StringIO()),
                           evidence=Evidence(), debounce_seconds=10)
        period = 1 / truth.fps
        clock, index = 0.0, 0
        shown: dict[str, float] = {}
        while index < len(frames):
            start = max(clock, index * period)
            began = time.perf_counter()
            records = loop.process(Frame(index, frames[index], index * period, index),
                                   time.monotonic())
            for record in records:
                # record.latency runs from the frame's arrival to its feedback line.
                shown.setdefault(record.payload, start + record.latency)
            clock = start + time.perf_counter() - began
            index = max(index + 1, int(clock / period))
        photo = list(loop.stats.evidence_seconds)
        outbox.close()
    latencies, missed = [], 0
    for payload, frame in readable.items():
        if payload in shown:
            latencies.append(max(0.0, shown[payload] - frame * period))
        else:
            missed += 1
    return latencies, missed, photo


def _ms(values: Sequence[float], q: str) -> str:
    if not values:
        return "—"
    values = sorted(values)
    value = statistics.median(values) if q == "median" else values[-1]
    return f"{value * 1000:.0f} ms"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.feedback", description=__doc__)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--passages", type=int, default=4)
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    cv2.setNumThreads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    frames, truth, bundle = load(width, height, args.passages)
    readable = readable_frames(frames, truth)
    ours, missed, photo = simulate(FrameDecoder(), frames, truth, bundle, readable)
    base, base_missed, _ = simulate(PlainPyzbar(), frames, truth, bundle, readable)
    overlay = []
    verdict = Verdict(True, None, "NV0001", "Nguyễn Văn Thử")
    for image in frames[:30]:
        started = time.perf_counter()
        draw_overlay(image, verdict, datetime.now())
        overlay.append(time.perf_counter() - started)
    print(f"{width}x{height}, {len(readable)} passages readable, frames at {truth.fps:.0f}/s")
    print(f"{'measure':52} {'station':>10} {'plain pyzbar':>13}")
    print(f"{'readable frame -> feedback, median':52} {_ms(ours, 'median'):>10} "
          f"{_ms(base, 'median'):>13}")
    print(f"{'readable frame -> feedback, max':52} {_ms(ours, 'max'):>10} "
          f"{_ms(base, 'max'):>13}")
    print(f"{'passages never shown':52} {missed:>10} {base_missed:>13}")
    print(f"{'evidence photo + face check (after feedback), median':52} "
          f"{_ms(photo, 'median'):>10}")
    print(f"{'window overlay drawing (Pillow), median':52} {_ms(overlay, 'median'):>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
