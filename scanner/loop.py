"""The station loop: frames in, debounced and verified scans out, durably queued, announced.

For each frame of a source (``scanner.sources``) the loop decodes it (``FrameDecoder``),
and for each code that is *new* (see ``Debouncer``) it

1. checks it offline against the synced trust bundle (``scanner.verify.TrustStore``);
2. commits the scan to the outbox (``scanner.outbox``, fsynced) — before anyone is told;
3. shows/logs the result and plays the sound (``scanner.feedback``): the time from the
   frame arriving to this point is what ``latencies`` records (budget: 100 ms);
4. for an accepted scan (or one it could not check, never synced), takes the evidence
   photo and face flag (``scanner.evidence``) and attaches them to the queued scan, which
   only then becomes ready to send.

A refused code is queued too (the server records it as a rejected attempt) and debounced
like any other. Nothing here opens a camera or a socket; the clocks are injected, so
tests drive it frame by frame.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from scanner.decode import Code
from scanner.sources import Frame, FrameSource
from scanner.verify import TrustStore, Verdict

log = logging.getLogger(__name__)

DEFAULT_DEBOUNCE_SECONDS = 10.0


class Debouncer:
    """Says whether a code seen at time ``t`` is a new scan.

    A code is new unless it was seen less than ``window`` seconds ago; every sighting
    refreshes it. So a badge held in front of the camera for any time is one scan, two
    badges shown alternately are one scan each, and a badge shown again after it has been
    out of sight for more than the window is a new scan.
    """

    def __init__(self, window: float = DEFAULT_DEBOUNCE_SECONDS) -> None:
        if window < 0:
            raise ValueError("debounce window must not be negative")
        self.window = window
        self._last: dict[str, float] = {}

    def fresh(self, key: str, t: float) -> bool:
        last = self._last.get(key)
        self._last[key] = t if last is None else max(last, t)
        if len(self._last) > 256:
            self._last = {k: v for k, v in self._last.items() if t - v <= self.window}
        return last is None or t - last > self.window


class EventIds:
    """Event ids for a camera: random (uuid4), so each scan is its own event."""

    def next(self, key: str) -> str:
        return uuid.uuid4().hex


class ReplayEventIds(EventIds):
    """Event ids for a recorded file: the n-th scan of a code in that file.

    Replaying the same file after a crash gives the same ids, so scans already uploaded
    come back as ``duplicate`` instead of being counted twice.
    """

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self._counts: dict[str, int] = {}

    def next(self, key: str) -> str:
        n = self._counts.get(key, 0) + 1
        self._counts[key] = n
        digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:20]
        return f"{self.namespace}-{digest}-{n}"


@dataclass
class ScanRecord:
    event_id: str
    payload: str
    scanned_at: datetime
    verdict: Verdict
    frame_id: int | str
    latency: float  # seconds from the frame arriving to the feedback
    queued_new: bool = True


@dataclass
class LoopStats:
    frames: int = 0
    scans: int = 0
    accepted: int = 0
    refused: int = 0
    unchecked: int = 0  # before the first sync: uploaded for the server to check
    latencies: list[float] = field(default_factory=list)
    evidence_seconds: list[float] = field(default_factory=list)


def _local_now() -> datetime:
    return datetime.now().astimezone()


def code_payload(code: Code) -> str:
    """The text uploaded for a code: the payload, or its bytes escaped when not UTF-8."""
    if code.text is not None:
        return code.text
    return code.data.decode("utf-8", "backslashreplace")


class StationLoop:
    """Source + decoder + trust + outbox + feedback, with injected clocks.

    ``now()`` gives the aware wall-clock time stamped on scans; ``monotonic()`` measures
    the feedback latency; debouncing uses the frame's own timestamp (camera clock, or the
    position in a file), so a file decoded faster than real time debounces as if live.
    """

    def __init__(self, source: FrameSource | None, decoder, trust: TrustStore, outbox,
                 feedback, *, sound=None, evidence=None,
                 debounce_seconds: float = DEFAULT_DEBOUNCE_SECONDS,
                 now: Callable[[], datetime] = _local_now,
                 monotonic: Callable[[], float] = time.monotonic,
                 event_ids: EventIds | None = None, realtime: bool = False,
                 sleep: Callable[[float], None] = time.sleep,
                 stop: threading.Event | None = None,
                 on_key: Callable[[int], None] | None = None) -> None:
        self.source = source
        self.decoder = decoder
        self.trust = trust
        self.outbox = outbox
        self.feedback = feedback
        self.sound = sound
        self.evidence = evidence
        self.debouncer = Debouncer(debounce_seconds)
        self.now = now
        self.monotonic = monotonic
        self.event_ids = event_ids or EventIds()
        self.realtime = realtime
        self.sleep = sleep
        self.stop = stop or threading.Event()
        self.on_key = on_key
        self.stats = LoopStats()

    def process(self, frame: Frame, arrived: float | None = None) -> list[ScanRecord]:
        """Handle one frame; returns the new scans it produced."""
        arrived = self.monotonic() if arrived is None else arrived
        self.stats.frames += 1
        result = self.decoder.decode(frame.image)
        records = []
        for code in result.codes:
            key = code.text if code.text is not None else "bytes:" + code.data.hex()
            if not self.debouncer.fresh(key, frame.timestamp):
                continue
            records.append(self._scan(code, key, frame, arrived))
        return records

    def _scan(self, code: Code, key: str, frame: Frame, arrived: float) -> ScanRecord:
        verdict = self.trust.check(code.text)
        at = self.now()
        payload = code_payload(code)
        event_id = self.event_ids.next(key)
        body = {"event_id": event_id, "payload": payload,
                "scanned_at": at.isoformat(timespec="milliseconds")}
        # Not refused: the photo goes with a scan the server may accept.
        passes = verdict.ok or verdict.unchecked
        with_photo = passes and self.evidence is not None
        # Committed (fsynced) before the person is told anything.
        _, new = self.outbox.enqueue(body, event_id=event_id, ready=not with_photo)
        self.feedback.show(verdict, at, frame.image)
        if self.sound is not None:
            self.sound.play(passes)
        latency = self.monotonic() - arrived
        self.stats.scans += 1
        self.stats.accepted += verdict.ok
        self.stats.unchecked += verdict.unchecked
        self.stats.refused += not passes
        self.stats.latencies.append(latency)
        if with_photo:
            started = time.perf_counter()
            try:
                extra = self.evidence.capture(frame.image)
            except Exception:  # a failed photo must not hold back the scan
                log.exception("không chụp được ảnh ghi nhận")
                extra = {}
            self.outbox.complete(event_id, extra)
            self.stats.evidence_seconds.append(time.perf_counter() - started)
        log.debug("frame %s: %s %s -> %s", frame.id, event_id, verdict.line(),
                 "queued" if new else "already queued")
        return ScanRecord(event_id, payload, at, verdict, frame.id, latency, new)

    def run(self) -> LoopStats:
        """Read the source until it ends or ``stop`` is set."""
        if self.source is None:
            raise ValueError("no source")
        started = self.monotonic()
        first_ts: float | None = None
        while not self.stop.is_set():
            frame = self.source.read()
            if frame is None:
                break
            if self.realtime and not self.source.live:
                # A recorded file played at its own pace (demo, rehearsals).
                first_ts = frame.timestamp if first_ts is None else first_ts
                wait = started + (frame.timestamp - first_ts) - self.monotonic()
                if wait > 0:
                    self.sleep(wait)
            self.process(frame, self.monotonic())
            key = self.feedback.frame(frame.image, self.monotonic())
            if key not in (-1, 255) and self.on_key is not None:
                self.on_key(key)
        return self.stats
