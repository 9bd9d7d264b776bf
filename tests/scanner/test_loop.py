"""The station loop on real frames with an injected clock: debounce, verification, order.

Frames come from the committed clip (tests/data/synth_2passages_480x360.mp4, two passages
with fake payloads) and from a small clip generated with a really signed badge; the frame
timestamps are set by the test, so "held for 5 s" takes no time to run.
"""

from __future__ import annotations

import base64
import io
import os
import sqlite3
import wave
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np
import pytest

from attendance.badges import Keyring, format_payload, signed_message
from scanner.decode import FrameDecoder
from scanner.evidence import Evidence
from scanner.feedback import LogFeedback, Sound, draw_overlay
from scanner.loop import Debouncer, ReplayEventIds, StationLoop
from scanner.outbox import Outbox
from scanner.sources import Frame, open_source
from scanner.synth import ClipSpec, GroundTruth, qr_image, render
from scanner.verify import TrustStore, Verdict

DATA = Path(__file__).resolve().parents[1] / "data"
CLIP = DATA / "synth_2passages_480x360.mp4"
BOOFCV = Path(os.environ.get("QR_BOOFCV_DIR",
                           Path(__file__).resolve().parents[3] / "shared/data/qr-boofcv"))
T0 = datetime(2026, 11, 23, 7, 30, tzinfo=timezone(timedelta(hours=7)))


@pytest.fixture(scope="module")
def clip():
    truth = GroundTruth.load(CLIP.with_suffix(".json"))
    with open_source(CLIP) as source:
        frames = [f.image for f in source]
    return frames, truth


class Clock:
    def __init__(self):
        self.t = T0

    def __call__(self):
        return self.t


def make_loop(tmp_path, window=10.0, trust=None, evidence=None, feedback=None, ids=None):
    stream = io.StringIO()
    trust = trust or TrustStore(tmp_path)
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    loop = StationLoop(None, FrameDecoder(), trust, outbox, feedback or LogFeedback(stream),
                       evidence=evidence, debounce_seconds=window, now=Clock(),
                       event_ids=ids)
    return loop, outbox, stream


def feed(loop, images_at: list[tuple[float, np.ndarray]]):
    records = []
    for i, (t, image) in enumerate(images_at):
        records += loop.process(Frame(i, image, t, i))
    return records


def visible(frames, truth, passage):
    return [frames[f] for f in truth.passages[passage].visible_frames]


def test_one_badge_held_for_five_seconds_is_one_scan(tmp_path, clip):
    frames, truth = clip
    a = visible(frames, truth, 0)
    held = [(i / 30, a[i % len(a)]) for i in range(150)]  # 5 s at 30 frames/s
    loop, outbox, _ = make_loop(tmp_path, window=2.0)
    records = feed(loop, held)
    assert [r.payload for r in records] == [truth.passages[0].payload]
    assert outbox.count() == 1


def test_two_badges_shown_alternately_are_one_scan_each(tmp_path, clip):
    frames, truth = clip
    a, b = visible(frames, truth, 0), visible(frames, truth, 1)
    shown = []
    for i in range(180):  # 6 s, switching badge every half second
        badge = a if (i // 15) % 2 == 0 else b
        shown.append((i / 30, badge[i % len(badge)]))
    loop, outbox, _ = make_loop(tmp_path, window=3.0)
    records = feed(loop, shown)
    assert sorted(r.payload for r in records) == sorted(p.payload for p in truth.passages)
    assert outbox.count() == 2


@pytest.mark.parametrize(("window", "expected"), [(5.0, 2), (15.0, 1)])
def test_the_window_is_configurable(tmp_path, clip, window, expected):
    frames, truth = clip
    a, empty = visible(frames, truth, 0), frames[0]
    timeline = [(i / 30, a[i % len(a)]) for i in range(30)]  # shown for 1 s
    timeline += [(1 + i, empty) for i in range(9)]  # 9 s away
    timeline += [(10 + i / 30, a[i % len(a)]) for i in range(30)]  # shown again
    loop, _, _ = make_loop(tmp_path, window=window)
    assert len(feed(loop, timeline)) == expected


def test_debouncer_edges():
    d = Debouncer(5)
    assert d.fresh("A", 0.0)
    assert not d.fresh("A", 4.9)
    assert not d.fresh("A", 9.8)  # still held: each sighting refreshes
    assert d.fresh("A", 15.0)
    assert d.fresh("B", 15.1)
    assert not d.fresh("A", 15.2) and not d.fresh("B", 15.3)
    assert Debouncer(0).fresh("A", 1.0) and Debouncer(0).fresh("A", 1.0)


def test_replay_event_ids_are_stable_per_file():
    first, again = ReplayEventIds("abc"), ReplayEventIds("abc")
    ids = [first.next("P"), first.next("Q"), first.next("P")]
    assert ids == [again.next("P"), again.next("Q"), again.next("P")]
    assert len(set(ids)) == 3 and all(len(i) <= 80 for i in ids)


# --- with a really signed badge --------------------------------------------------------------


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    """A keyring, two genuine payloads (one to be revoked) and a clip showing both."""
    keyring = Keyring(tmp_path_factory.mktemp("keys") / "keys")
    keyring.init()
    key_id = keyring.current_key_id

    def payload(code, serial):
        return format_payload(code, serial, key_id,
                              keyring.sign(key_id, signed_message(code, serial, key_id)))

    good, revoked = payload("NV0001", "ABCD2345"), payload("NV0002", "REVK2345")
    spec = ClipSpec(passages=2, seed=3, width=480, height=360, payloads=(good, revoked),
                    noise_sigma=1.0).compact()
    frames_iter, truth = render(spec)
    frames = list(frames_iter)
    bundle = {"public_keys": keyring.public_keys(), "retired_key_ids": [],
              "revoked_serials": ["REVK2345"],
              "employees": {"NV0001": "Nguyễn Thị Hạnh", "NV0002": "Đỗ Văn Đức"}}
    return frames, truth, bundle, good, revoked


def test_genuine_badge_is_green_revoked_and_random_are_red(tmp_path, signed, clip):
    frames, truth, bundle, good, revoked = signed
    trust = TrustStore(tmp_path)
    trust.update(bundle, etag='"v1"')
    loop, outbox, stream = make_loop(tmp_path, trust=trust)
    timeline = [(i / 30, img) for i, img in enumerate(frames)]
    other_frames, other_truth = clip
    timeline += [(100 + i / 30, img) for i, img in enumerate(visible(other_frames, other_truth, 0))]
    records = feed(loop, timeline)
    verdicts = {r.payload: r.verdict for r in records}
    assert len(records) == 3
    assert verdicts[good].ok and verdicts[good].full_name == "Nguyễn Thị Hạnh"
    assert verdicts[revoked].reason == "revoked"
    assert verdicts[other_truth.passages[0].payload].reason == "unknown_format"
    lines = stream.getvalue().splitlines()
    assert lines[0] == "07:30:00  Hợp lệ — Nguyễn Thị Hạnh (NV0001)"
    assert lines[1].startswith("07:30:00  Không hợp lệ: thẻ đã thu hồi — Đỗ Văn Đức (NV0002)")
    assert lines[2].startswith("07:30:00  Không hợp lệ: không phải thẻ công chức")
    # All three are queued for the server (a refusal is recorded as an attempt there).
    assert {i.body["payload"] for i in outbox.pending()} == set(verdicts)


def test_a_station_never_synced_says_not_checked_and_turns_no_one_away(tmp_path, signed):
    frames, _, _, good, revoked = signed
    loop, outbox, stream = make_loop(tmp_path, trust=TrustStore(tmp_path / "never-synced"),
                                     evidence=Evidence())
    records = feed(loop, [(i / 30, img) for i, img in enumerate(frames)])
    assert [r.verdict.unchecked for r in records] == [True, True]
    for line in stream.getvalue().splitlines():
        assert line.startswith("07:30:00  Chưa kiểm tra được: điểm quét chưa đồng bộ"), line
        assert "Không hợp lệ" not in line
    # Both queued with their photo: the server checks them when they arrive.
    queued = {i.body["payload"]: i.body for i in outbox.pending()}
    assert set(queued) == {good, revoked}
    assert all("evidence_jpeg" in body for body in queued.values())
    assert (loop.stats.accepted, loop.stats.refused, loop.stats.unchecked) == (0, 0, 2)
    # Amber on the screen, neither the green of a valid badge nor the red of a refusal.
    band = draw_overlay(frames[0], records[0].verdict, T0)[-frames[0].shape[0] // 8:]
    blue, green, red = band.reshape(-1, 3).mean(axis=0)
    assert red > green + 30 > blue + 60


def test_a_station_never_synced_still_refuses_a_code_that_is_no_badge(tmp_path, signed):
    """A website's QR code on a real photograph (BoofCV still): no key is needed to see it
    is not a badge, so it is red "Không hợp lệ" with no accepting chime, as the server
    would answer; a badge's URL form stays amber."""
    frames, _, _, good, _ = signed
    still = cv2.imread(str(BOOFCV / "stills" / "image01.jpg"))
    url = "https://chamcong.example.gov.vn/b/" + good.replace("|", ".")
    loop, outbox, stream = make_loop(tmp_path, trust=TrustStore(tmp_path / "never-synced"))
    records = feed(loop, [(0.0, still), (1.0, qr_image(url, 8))])
    verdicts = {r.payload: r.verdict for r in records}
    facebook = "http://www.facebook.com/LangersJuice"
    assert verdicts[facebook].reason == "unknown_format" and not verdicts[facebook].unchecked
    assert verdicts[url].unchecked
    lines = stream.getvalue().splitlines()
    assert "07:30:00  Không hợp lệ: không phải thẻ công chức (sai định dạng)" in lines
    assert (loop.stats.accepted, loop.stats.refused, loop.stats.unchecked) == (0, 1, 1)
    # Both still go to the server, which records the refusal as an attempt.
    assert {i.body["payload"] for i in outbox.pending()} == {facebook, url}


def test_trust_bundle_survives_a_restart_offline(tmp_path, signed):
    _, _, bundle, good, revoked = signed
    TrustStore(tmp_path).update(bundle, etag='"v1"')
    again = TrustStore(tmp_path)  # a new process, no server
    assert again.etag == '"v1"'
    assert again.check(good).ok
    assert again.check(revoked).reason == "revoked"
    assert TrustStore(tmp_path / "never-synced").check(good).reason == "not_synced"
    assert again.check(None).reason == "not_utf8"


class CommittedBeforeShown(LogFeedback):
    """Feedback that looks in the outbox file, from another connection, before showing."""

    def __init__(self, path, stream):
        super().__init__(stream)
        self.path = path
        self.seen_on_disk = []

    def show(self, verdict, at, image=None):
        db = sqlite3.connect(self.path)
        try:
            self.seen_on_disk.append(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
        finally:
            db.close()
        super().show(verdict, at, image)


def test_scan_is_committed_before_feedback_and_evidence_follows(tmp_path, signed):
    frames, truth, bundle, good, _ = signed
    trust = TrustStore(tmp_path)
    trust.update(bundle)
    feedback = CommittedBeforeShown(tmp_path / "outbox.sqlite3", io.StringIO())
    loop, outbox, _ = make_loop(tmp_path, trust=trust, evidence=Evidence(),
                                feedback=feedback)
    records = feed(loop, [(i / 30, img) for i, img in enumerate(frames)])
    assert feedback.seen_on_disk == [1, 2]
    accepted = next(i for i in outbox.pending() if i.body["payload"] == good)
    if loop.evidence.detector is not None:
        assert accepted.body["no_face"] is True  # a card, no face in front of the camera
    else:  # OpenCV 5 without a face model: unknown, so not claimed either way
        assert "no_face" not in accepted.body
    jpeg = cv2.imdecode(np.frombuffer(base64.b64decode(accepted.body["evidence_jpeg"]),
                                      np.uint8), cv2.IMREAD_COLOR)
    assert jpeg.shape[1] == 320
    refused = next(i for i in outbox.pending() if i.body["payload"] != good)
    assert "evidence_jpeg" not in refused.body
    # Feedback within 100 ms of the frame in which the code became readable.
    assert max(r.latency for r in records) < 0.1


def test_overlay_is_green_or_red_with_vietnamese_text(clip):
    frames, _ = clip
    image = frames[0]
    ok = draw_overlay(image, Verdict(True, None, "NV0001", "Nguyễn Thị Hạnh"), T0)
    bad = draw_overlay(image, Verdict(False, "revoked", "NV0002", "Đỗ Văn Đức"), T0)
    h = image.shape[0]
    band_ok, band_bad = ok[h - h // 8:], bad[h - h // 8:]
    _, g_g, g_r = band_ok.reshape(-1, 3).mean(axis=0)
    _, r_g, r_r = band_bad.reshape(-1, 3).mean(axis=0)
    assert g_g > g_r + 40 and r_r > r_g + 40
    # White text is drawn into the band.
    assert (ok[h - h // 4:] > 240).all(axis=2).sum() > 200
    assert image.shape == ok.shape and not np.array_equal(image, ok)


def test_two_distinct_sounds_are_generated(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no player: the bell, and no failure
    sound = Sound(tmp_path)
    data = {}
    for ok, path in sound.files.items():
        with wave.open(str(path)) as w:
            assert w.getnchannels() == 1 and 0.1 < w.getnframes() / w.getframerate() < 1
            data[ok] = w.readframes(w.getnframes())
    assert data[True] != data[False]
    sound.play(True)
    sound.play(False)
    Sound(tmp_path, enabled=False).play(True)
