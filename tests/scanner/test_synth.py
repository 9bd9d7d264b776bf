"""The synthetic footage generator: deterministic, truthful, readable."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scanner.decode import FrameDecoder
from scanner.sources import open_source
from scanner.synth import ClipSpec, GroundTruth, main, render, write_clip

DATA = Path(__file__).resolve().parents[1] / "data"


def _reads(video: Path) -> dict[str, list[int]]:
    decoder = FrameDecoder()
    seen: dict[str, list[int]] = {}
    with open_source(video) as source:
        for frame in source:
            for text in decoder.decode(frame.image).texts:
                seen.setdefault(text, []).append(frame.index)
    return seen


def _assert_each_passage_read(truth: GroundTruth, seen: dict[str, list[int]]) -> None:
    """Every passage whose code is visible for a few frames is read, and nothing else."""
    assert set(seen) <= {p.payload for p in truth.passages}, "read a code that is not there"
    shown = [p for p in truth.passages if len(p.visible_frames) >= 3]
    assert len(shown) >= len(truth.passages) - 1
    for passage in shown:
        frames = seen.get(passage.payload, [])
        assert frames, f"passage {passage.index} never read"
        assert all(passage.first_frame <= f <= passage.last_frame for f in frames)


def test_committed_clip_ground_truth_is_read_in_each_passage():
    truth = GroundTruth.load(DATA / "synth_2passages_480x360.json")
    assert len(truth.passages) == 2
    _assert_each_passage_read(truth, _reads(DATA / "synth_2passages_480x360.mp4"))


def test_generated_clip_ground_truth_is_read_in_each_passage(tmp_path):
    spec = ClipSpec(passages=4, seed=21, width=640, height=480).compact()
    truth = write_clip(spec, tmp_path / "clip.mp4")
    assert (tmp_path / "clip.json").is_file()
    _assert_each_passage_read(truth, _reads(tmp_path / "clip.mp4"))


def test_generation_is_deterministic_from_the_seed():
    spec = ClipSpec(passages=1, seed=4, width=320, height=240).compact()
    frames_a, truth_a = render(spec)
    frames_b, truth_b = render(spec)
    for a, b in zip(frames_a, frames_b, strict=True):
        assert np.array_equal(a, b)
    assert truth_a == truth_b
    frames_c, _ = render(ClipSpec(passages=1, seed=5, width=320, height=240).compact())
    assert not np.array_equal(next(iter(frames_c)), next(iter(render(spec)[0])))


def test_payloads_look_like_badges():
    _, truth = render(ClipSpec(passages=3, seed=8, width=320, height=240))
    for passage in truth.passages:
        parts = passage.payload.split("|")
        assert parts[0] == "CC1" and parts[3] == "k1" and len(parts[4]) == 86
        assert len(passage.payload) <= 130 and passage.payload.isascii()


def test_cli_writes_video_frames_and_truth(tmp_path):
    assert main(["-o", str(tmp_path / "c.mp4"), "--frames-dir", str(tmp_path / "f"),
                 "--size", "320x240", "-n", "1", "--seed", "3", "--compact"]) == 0
    truth = GroundTruth.load(tmp_path / "c.json")
    assert len(list((tmp_path / "f").glob("frame*.png"))) == truth.frames
    assert (tmp_path / "c.mp4").stat().st_size > 0


def test_clip_without_badges_has_no_passages():
    frames, truth = render(ClipSpec(passages=3, seed=2, width=320, height=240, badges=False))
    assert truth.passages == [] and len(list(frames)) == truth.frames > 0
