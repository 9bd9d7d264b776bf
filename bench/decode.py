"""Benchmark of the station's decoding stage against plain pyzbar, measured in the same run.

Prints, each figure beside plain pyzbar on the full frame:

- decode frames/s at 640×480 and 1280×720, on synthetic entrance frames with and without a
  badge (clips from ``scanner.synth``, generated into bench/out/ and cached);
- the time from the frame in which a badge becomes readable to the decoded result, in a
  real-time simulation at the camera's frame rate (a slow decoder skips frames);
- the share of listed codes read on real footage: BoofCV-Data QR frames and stills
  (lessthanoptimal/BoofCV-Data, © Peter Abeles, CC-BY 4.0; see the data's README.md), and
  the movie decoded in sequence (tracking on), scored at the listed frames.

One thread throughout (``cv2.setNumThreads(1)``): the station gets one core.

    python -m bench.decode [--passages 6] [--repeat 3] [--footage DIR]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import zxingcpp  # noqa: E402
from pyzbar import pyzbar  # noqa: E402

from scanner.decode import STATION, THOROUGH, FrameDecoder, decode_frame, to_gray  # noqa: E402
from scanner.sources import open_source  # noqa: E402
from scanner.synth import ClipSpec, GroundTruth, write_clip  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
FOOTAGE = Path(os.environ.get("QR_BOOFCV_DIR", ROOT.parent / "shared" / "data" / "qr-boofcv"))
NOTICE = ("Real footage: BoofCV-Data (lessthanoptimal/BoofCV-Data, example/fiducial/qrcode/), "
          "© Peter Abeles, CC-BY 4.0.")


def plain_pyzbar(image: np.ndarray) -> list[str]:
    """The baseline: pyzbar on the whole frame, as the design first proposed."""
    return [d.data.decode("utf-8", "replace")
            for d in pyzbar.decode(to_gray(image), symbols=[pyzbar.ZBarSymbol.QRCODE])]


def plain_zxing(image: np.ndarray) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(to_gray(image))]


class Stage:
    """Our stage with a streaming FrameDecoder, as a texts-returning callable."""

    def __init__(self) -> None:
        self.decoder = FrameDecoder()

    def __call__(self, image: np.ndarray) -> list[str]:
        return self.decoder.decode(image).texts


# --- synthetic clips --------------------------------------------------------------------

@dataclass
class Clip:
    frames: list[np.ndarray]
    truth: GroundTruth


def load_clip(width: int, height: int, passages: int, badges: bool, seed: int) -> Clip:
    name = f"synth_{width}x{height}_{'badges' if badges else 'empty'}_{passages}p_s{seed}"
    video = OUT / f"{name}.mp4"
    if not video.is_file() or not video.with_suffix(".json").is_file():
        print(f"  generating {video.relative_to(ROOT)} …", file=sys.stderr, flush=True)
        spec = ClipSpec(passages=passages, seed=seed, width=width, height=height,
                        badges=badges)
        write_clip(spec, video)
    with open_source(video) as source:
        frames = [f.image for f in source]
    return Clip(frames, GroundTruth.load(video.with_suffix(".json")))


def frames_per_second(decode: Callable[[np.ndarray], list[str]], frames: Sequence[np.ndarray],
                      repeat: int) -> float:
    """Median over repeats of frames / total decode time, frames in stream order."""
    rates = []
    for _ in range(repeat):
        started = time.perf_counter()
        for image in frames:
            decode(image)
        rates.append(len(frames) / (time.perf_counter() - started))
    return statistics.median(rates)


def badge_frames(clip: Clip) -> list[int]:
    return sorted({f for p in clip.truth.passages for f in p.visible_frames})


def share_read(decode, clip: Clip, indices: list[int]) -> float:
    hits = sum(1 for i in indices if set(clip.truth.payloads_at(i)) & set(decode(clip.frames[i])))
    return hits / max(1, len(indices))


def readable_frames(clip: Clip) -> dict[str, int]:
    """Per payload, the first frame of its passage in which it can be read at all: by the
    stage with no time budget (both decoders, every retry), frame by frame."""
    first = {}
    for passage in clip.truth.passages:
        for index in range(passage.first_frame, passage.last_frame + 1):
            if passage.payload in decode_frame(clip.frames[index], config=THOROUGH).texts:
                first[passage.payload] = index
                break
    return first


def realtime_latency(make_decode: Callable[[], Callable], clip: Clip,
                     readable: dict[str, int]) -> tuple[list[float], int]:
    """Seconds from a badge's first readable frame to its decoded result, per passage.

    Frames arrive at the clip's rate; the decoder always takes the newest frame that has
    arrived when it is free, so a decoder slower than the camera skips frames. Returns the
    latencies of the passages read and the number of passages never read.
    """
    decode = make_decode()
    period = 1 / clip.truth.fps
    clock = 0.0
    first_read: dict[str, float] = {}
    index = 0
    while index < len(clip.frames):
        started = time.perf_counter()
        texts = decode(clip.frames[index])
        clock = max(clock, index * period) + time.perf_counter() - started
        for text in texts:
            first_read.setdefault(text, clock)
        index = max(index + 1, int(clock / period))
    latencies, missed = [], 0
    for payload, frame in readable.items():
        done = first_read.get(payload)
        if done is None:
            missed += 1
        else:
            latencies.append(max(0.0, done - frame * period))
    return latencies, missed


# --- real footage -----------------------------------------------------------------------

def load_footage(root: Path) -> list[tuple[str, np.ndarray, set[str]]]:
    expected: dict[str, set[str]] = {}
    with (root / "manifest.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["include"] == "1":
                text = (root / row["expected_text_file"]).read_text(encoding="utf-8")
                expected.setdefault(row["file"], set()).add(text)
    return [(name, cv2.imread(str(root / name), cv2.IMREAD_GRAYSCALE), texts)
            for name, texts in sorted(expected.items())]


def footage_share(decode, images) -> tuple[int, int]:
    hits = sum(len(texts & set(decode(image))) for _, image, texts in images)
    return hits, sum(len(texts) for _, _, texts in images)


def movie_share(root: Path, images) -> dict[str, tuple[int, int]]:
    """Decode the whole movie in order (tracking on); score at the listed frames."""
    listed = {int(name[len("frames/frame"):-4]): texts
              for name, _, texts in images if name.startswith("frames/frame")}
    stage = FrameDecoder()
    scores = {"stage": [0, 0], "pyzbar": [0, 0]}
    with open_source(root / "movie.mp4") as source:
        for frame in source:
            texts = set(stage.decode(frame.image).texts)
            expected = listed.get(frame.index)
            if expected is None:
                continue
            for name, got in (("stage", texts), ("pyzbar", set(plain_pyzbar(frame.image)))):
                scores[name][0] += len(expected & got)
                scores[name][1] += len(expected)
    return {k: (v[0], v[1]) for k, v in scores.items()}


# --- report -----------------------------------------------------------------------------

def _row(label: str, ours: str, base: str, ratio: str) -> str:
    return f"| {label:<46} | {ours:>16} | {base:>16} | {ratio:>7} |"


def _pct(hit: int, total: int) -> str:
    return f"{hit / max(1, total):.1%} ({hit}/{total})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.decode", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=6)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="timing repeats (median)")
    parser.add_argument("--footage", type=Path, default=FOOTAGE)
    args = parser.parse_args(argv)

    cv2.setNumThreads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    rows = [_row("measure", "stage", "plain pyzbar", "ratio"),
            _row("-" * 46, "-" * 16, "-" * 16, "-" * 7)]

    for width, height in ((640, 480), (1280, 720)):
        with_badge = load_clip(width, height, args.passages, True, args.seed)
        empty = load_clip(width, height, args.passages, False, args.seed)
        badge_idx = badge_frames(with_badge)
        sets = (("no badge", empty.frames), ("badge visible", [with_badge.frames[i]
                                                               for i in badge_idx]))
        for label, frames in sets:
            ours = frames_per_second(Stage(), frames, args.repeat)
            base = frames_per_second(plain_pyzbar, frames, max(1, args.repeat - 1))
            rows.append(_row(f"frames/s {width}x{height}, {label} ({len(frames)} fr)",
                             f"{ours:.0f}", f"{base:.0f}", f"{ours / base:.1f}x"))
        ours = share_read(Stage(), with_badge, badge_idx)
        base = share_read(plain_pyzbar, with_badge, badge_idx)
        rows.append(_row(f"badge frames read {width}x{height}", f"{ours:.1%}", f"{base:.1%}",
                         f"{ours / max(base, 1e-9):.2f}x"))
        readable = readable_frames(with_badge)
        lat_ours, miss_ours = realtime_latency(Stage, with_badge, readable)
        lat_base, miss_base = realtime_latency(lambda: plain_pyzbar, with_badge, readable)
        for name, pick in (("median", statistics.median), ("max", max)):
            o = pick(lat_ours) * 1000 if lat_ours else float("nan")
            b = pick(lat_base) * 1000 if lat_base else float("nan")
            rows.append(_row(f"readable frame → result {width}x{height}, {name}",
                             f"{o:.0f} ms", f"{b:.0f} ms", f"{b / o:.1f}x" if o else "-"))
        shown = len(readable)
        rows.append(_row(f"passages read {width}x{height} (of {shown} readable)",
                         f"{shown - miss_ours}", f"{shown - miss_base}", ""))

    if (args.footage / "manifest.csv").is_file():
        images = load_footage(args.footage)
        stage_hit = footage_share(lambda im: decode_frame(im, config=STATION).texts, images)
        thorough_hit = footage_share(lambda im: decode_frame(im, config=THOROUGH).texts, images)
        base_hit = footage_share(plain_pyzbar, images)
        zx_hit = footage_share(plain_zxing, images)
        ratio = f"{stage_hit[0] / max(1, base_hit[0]):.2f}x"
        rows.append(_row("real frames+stills read (station settings)", _pct(*stage_hit),
                         _pct(*base_hit), ratio))
        rows.append(_row("real frames+stills read (no time budget)", _pct(*thorough_hit),
                         _pct(*base_hit),
                         f"{thorough_hit[0] / max(1, base_hit[0]):.2f}x"))
        rows.append(_row("  for reference: plain zxing-cpp", _pct(*zx_hit), _pct(*base_hit),
                         f"{zx_hit[0] / max(1, base_hit[0]):.2f}x"))
        if (args.footage / "movie.mp4").is_file():
            movie = movie_share(args.footage, images)
            rows.append(_row("real movie in sequence, listed frames", _pct(*movie["stage"]),
                             _pct(*movie["pyzbar"]),
                             f"{movie['stage'][0] / max(1, movie['pyzbar'][0]):.2f}x"))
    else:
        rows.append(f"(real footage not found at {args.footage}; set QR_BOOFCV_DIR)")

    print(f"Decoding benchmark — one thread, {os.cpu_count()} cores on this machine, "
          f"timing median of {args.repeat}")
    print("\n".join(rows))
    print(NOTICE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
