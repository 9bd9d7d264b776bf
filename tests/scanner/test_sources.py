"""Sources: the same frames whether they come from a video file or a folder of images."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from scanner.sources import (Frame, ImageFolderSource, SourceError, VideoFileSource,
                             open_source)

DATA = Path(__file__).resolve().parents[1] / "data"
CLIP = DATA / "synth_2passages_480x360.mp4"


def test_video_file_and_image_folder_give_the_same_frames(tmp_path):
    with open_source(str(CLIP)) as video:
        assert isinstance(video, VideoFileSource)
        from_video = list(video)
    assert len(from_video) == 50
    for frame in from_video:
        cv2.imwrite(str(tmp_path / f"frame{frame.index}.png"), frame.image)

    with open_source(tmp_path) as folder:
        assert isinstance(folder, ImageFolderSource)
        from_folder = list(folder)

    assert len(from_folder) == len(from_video)
    for v, f in zip(from_video, from_folder, strict=True):
        assert v.id == v.index and f.id == f"frame{f.index}.png"  # natural order
        assert v.index == f.index
        assert v.timestamp == pytest.approx(f.timestamp)
        assert np.array_equal(v.image, f.image)


def test_video_frames_are_bgr_with_increasing_timestamps():
    with VideoFileSource(CLIP) as video:
        frames = [video.read() for _ in range(3)]
    assert all(isinstance(f, Frame) for f in frames)
    assert frames[0].image.shape == (360, 480, 3)
    assert [f.timestamp for f in frames] == pytest.approx([0, 1 / 30, 2 / 30])


def test_read_returns_none_at_the_end_and_after_close():
    source = VideoFileSource(CLIP)
    assert sum(1 for _ in source) == 50
    assert source.read() is None
    source.close()
    assert source.read() is None


def test_folder_skips_files_that_are_not_images(tmp_path):
    image = np.full((10, 12, 3), 90, np.uint8)
    cv2.imwrite(str(tmp_path / "b10.png"), image)
    cv2.imwrite(str(tmp_path / "b2.png"), image)
    (tmp_path / "b3.png").write_bytes(b"not a png")
    (tmp_path / "notes.txt").write_text("ignored")
    with ImageFolderSource(tmp_path, fps=10) as source:
        frames = list(source)
    assert [f.id for f in frames] == ["b2.png", "b10.png"]
    assert [f.timestamp for f in frames] == [0.0, 0.1]


def test_missing_sources_are_a_clear_error(tmp_path):
    with pytest.raises(SourceError):
        open_source(tmp_path / "nope.mp4")
    with pytest.raises(SourceError):
        ImageFolderSource(tmp_path / "nope")
