"""The station's durable outbox: every scan is on disk before anyone is told about it.

A local SQLite file (WAL, ``synchronous=FULL``: a commit is fsynced before it returns)
holds the scans and guard records that the server has not acknowledged yet. The station
loop ``enqueue``\\s a scan and only then shows the result; a ``Sender`` thread sends
batches and deletes rows only when the server has answered for them (``accepted``,
``duplicate`` and ``rejected`` are all acknowledgements). Killing the process at any
moment leaves each row either absent (never shown) or present (sent again later); event
ids make the resend idempotent on the server.

Rows have a ``ready`` flag: an accepted scan is written first without its evidence photo
(so the commit before feedback stays cheap), and the photo is attached just after the
feedback. The sender only takes ready rows; a row left unready by a crash is made ready at
the next start (the scan is kept, the photo is lost).

``queued_seconds`` (how long a scan waited here) comes from the stored enqueue time on the
monotonic clock of the same boot (``/proc/sys/kernel/random/boot_id``), so a changed wall
clock cannot distort it; across a reboot the wall clock is all there is.
"""

from __future__ import annotations

import json
import logging
import random
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

SCAN = "scan"
NO_BADGE = "no_badge"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    ready INTEGER NOT NULL DEFAULT 1,
    enqueued_wall REAL NOT NULL,
    enqueued_mono REAL NOT NULL,
    boot_id TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS dead_letters (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    reason TEXT NOT NULL,
    moved_wall REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sent_log (
    event_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    acked_wall REAL NOT NULL
);
"""


def boot_id() -> str:
    """This boot's id (Linux); elsewhere a constant, and queued time uses the wall clock."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown"


def new_event_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Item:
    seq: int
    event_id: str
    kind: str
    body: dict
    enqueued_wall: float
    enqueued_mono: float
    boot_id: str
    attempts: int


class Outbox:
    """The queue file. Thread-safe (one connection behind a lock)."""

    def __init__(self, path: str | Path, *, wall: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._wall = wall
        self._mono = monotonic
        self._boot = boot_id()
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self.changed = threading.Event()  # set when something is enqueued or made ready

    # --- writing ----------------------------------------------------------------------

    def enqueue(self, body: dict, *, kind: str = SCAN, event_id: str | None = None,
                ready: bool = True) -> tuple[str, bool]:
        """Commit one item (fsynced) and return ``(event_id, new)``.

        ``new`` is False when the event id is already queued: enqueueing is idempotent.
        """
        event_id = event_id or body.get("event_id") or new_event_id()
        body = {**body, "event_id": event_id}
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO outbox (event_id, kind, body, ready, enqueued_wall,"
                " enqueued_mono, boot_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (event_id, kind, json.dumps(body, ensure_ascii=False), int(ready),
                 self._wall(), self._mono(), self._boot))
            new = cursor.rowcount == 1
        if ready:
            self.changed.set()
        return event_id, new

    def complete(self, event_id: str, extra: dict | None = None) -> None:
        """Merge ``extra`` into a queued item's body and make it ready to send."""
        with self._lock:
            row = self._db.execute("SELECT body FROM outbox WHERE event_id = ?",
                                   (event_id,)).fetchone()
            if row is None:
                return
            body = json.loads(row[0])
            body.update(extra or {})
            self._db.execute("UPDATE outbox SET body = ?, ready = 1 WHERE event_id = ?",
                             (json.dumps(body, ensure_ascii=False), event_id))
        self.changed.set()

    def recover(self) -> int:
        """At start: make ready what a crash left unready (the scan without its photo)."""
        with self._lock:
            count = self._db.execute("UPDATE outbox SET ready = 1 WHERE ready = 0").rowcount
        if count:
            log.warning("%d lượt quét của lần chạy bị ngắt chưa kèm ảnh ghi nhận: "
                        "gửi không kèm ảnh", count)
        return count

    # --- reading ----------------------------------------------------------------------

    def pending(self, limit: int = 500, *, kind: str | None = None,
                max_bytes: int | None = None) -> list[Item]:
        """The oldest ready items (at most ``limit``, and about ``max_bytes`` of bodies)."""
        sql = ("SELECT seq, event_id, kind, body, enqueued_wall, enqueued_mono, boot_id,"
               " attempts FROM outbox WHERE ready = 1")
        params: list = []
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        sql += " ORDER BY seq LIMIT ?"
        params.append(limit)
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        items, size = [], 0
        for seq, event_id, kind_, body, wall, mono, boot, attempts in rows:
            size += len(body)
            if max_bytes is not None and items and size > max_bytes:
                break
            items.append(Item(seq, event_id, kind_, json.loads(body), wall, mono, boot,
                              attempts))
        return items

    def count(self, *, ready_only: bool = False) -> int:
        sql = "SELECT COUNT(*) FROM outbox" + (" WHERE ready = 1" if ready_only else "")
        with self._lock:
            return self._db.execute(sql).fetchone()[0]

    def dead_count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM dead_letters").fetchone()[0]

    def queued_seconds(self, item: Item) -> float:
        """How long ``item`` has waited, on the monotonic clock when the boot is the same."""
        if item.boot_id == self._boot and item.boot_id != "unknown":
            waited = self._mono() - item.enqueued_mono
        else:
            waited = self._wall() - item.enqueued_wall
        return max(0.0, round(waited, 3))

    # --- acknowledgements -------------------------------------------------------------

    def ack(self, acks: Iterable[tuple[str, str]]) -> int:
        """Remove the items the server answered for; ``acks`` is (event_id, status)."""
        acks = list(acks)
        now = self._wall()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                removed = 0
                for event_id, status in acks:
                    removed += self._db.execute("DELETE FROM outbox WHERE event_id = ?",
                                                (event_id,)).rowcount
                    self._db.execute(
                        "INSERT OR REPLACE INTO sent_log (event_id, status, acked_wall)"
                        " VALUES (?, ?, ?)", (event_id, status, now))
                # Keep the log of acknowledgements bounded (it is for diagnosis only).
                self._db.execute("DELETE FROM sent_log WHERE acked_wall < ?",
                                 (now - 7 * 86400,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return removed

    def failed(self, event_ids: Iterable[str], error: str) -> None:
        """Count a failed attempt (kept for diagnosis; the items stay queued)."""
        with self._lock:
            self._db.executemany(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE event_id = ?",
                [(error[:500], e) for e in event_ids])

    def bury(self, item: Item, reason: str) -> None:
        """Move an item the server will never take (malformed) aside, never delete it."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT OR REPLACE INTO dead_letters (seq, event_id, kind, body, reason,"
                    " moved_wall) VALUES (?, ?, ?, ?, ?, ?)",
                    (item.seq, item.event_id, item.kind, json.dumps(item.body), reason[:500],
                     self._wall()))
                self._db.execute("DELETE FROM outbox WHERE event_id = ?", (item.event_id,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        log.error("lượt quét %s bị máy chủ từ chối đọc, đã để riêng (dead_letters): %s",
                  item.event_id, reason)

    def acked_status(self, event_id: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT status FROM sent_log WHERE event_id = ?",
                                   (event_id,)).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        with self._lock:
            self._db.close()


# --- sending ------------------------------------------------------------------------------


class TransportError(Exception):
    """The server could not be reached or answered with a server error: try again later."""


class Refused(Exception):
    """The server refused the request as malformed (HTTP 400/404/409/422)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class Unauthorized(Exception):
    """HTTP 401: the station key is wrong or the station is disabled. Keep the data."""


@dataclass
class Backoff:
    """Exponential backoff with full jitter: 0..min(cap, base·2^n) seconds."""

    base: float = 0.5
    cap: float = 60.0
    failures: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self) -> float:
        self.failures += 1
        ceiling = min(self.cap, self.base * (2 ** min(self.failures, 30)))
        return self.rng.uniform(ceiling / 4, ceiling)

    def reset(self) -> None:
        self.failures = 0


class Sender(threading.Thread):
    """Sends the outbox in the background until ``stop()``.

    ``post_scans(batch) -> list[dict]`` and ``post_no_badge(body) -> dict`` do the HTTP
    (see ``scanner.cli.ApiClient``); they raise ``TransportError``, ``Refused`` or
    ``Unauthorized``. ``on_result(item, result)`` sees each server answer (for logs).
    """

    def __init__(self, outbox: Outbox, post_scans: Callable[[list[dict]], list[dict]],
                 post_no_badge: Callable[[dict], dict] | None = None, *,
                 batch_size: int = 500, max_batch_bytes: int = 4_000_000,
                 backoff: Backoff | None = None, sent_at: Callable[[], str] | None = None,
                 on_result: Callable[[Item, dict], None] | None = None,
                 idle_wait: float = 1.0) -> None:
        super().__init__(name="outbox-sender", daemon=True)
        self.outbox = outbox
        self.post_scans = post_scans
        self.post_no_badge = post_no_badge
        self.batch_size = max(1, min(500, batch_size))
        self.max_batch_bytes = max_batch_bytes
        self.backoff = backoff or Backoff()
        self.sent_at = sent_at
        self.on_result = on_result
        self.idle_wait = idle_wait
        self._halt = threading.Event()
        self.sent = 0
        self.last_error: str | None = None
        self.key_refused = False  # the last attempt failed with HTTP 401
        self._batch_limit = self.batch_size

    def stop(self) -> None:
        self._halt.set()
        self.outbox.changed.set()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                progressed = self.send_once()
            except (TransportError, Unauthorized) as exc:
                self.last_error = str(exc)
                self.key_refused = isinstance(exc, Unauthorized)
                delay = self.backoff.next_delay()
                log.warning("chưa gửi được (%s); %d lượt chờ gửi; thử lại sau %.1f giây",
                            exc, self.outbox.count(), delay)
                self._halt.wait(delay)
                continue
            except Exception:  # a bug must not silently stop uploads: log and slow down
                log.exception("lỗi khi gửi lượt quét")
                self._halt.wait(self.backoff.next_delay())
                continue
            self.backoff.reset()
            self.last_error = None
            self.key_refused = False
            if not progressed:
                self.outbox.changed.clear()
                if self.outbox.count(ready_only=True) == 0:
                    self.outbox.changed.wait(self.idle_wait)

    def send_once(self) -> bool:
        """Send one batch of scans and any guard records; True if something was sent."""
        progressed = False
        items = self.outbox.pending(self._batch_limit, kind=SCAN,
                                    max_bytes=self.max_batch_bytes)
        if items:
            progressed = True
            self._send_scans(items)
        if self.post_no_badge is not None:
            for item in self.outbox.pending(20, kind=NO_BADGE):
                progressed = True
                try:
                    result = self.post_no_badge(item.body)
                except Refused as exc:
                    self.outbox.bury(item, str(exc))
                    continue
                except (TransportError, Unauthorized) as exc:
                    self.outbox.failed([item.event_id], str(exc))
                    raise
                self.outbox.ack([(item.event_id, "recorded")])
                if self.on_result:
                    self.on_result(item, result)
        return progressed

    def _send_scans(self, items: list[Item]) -> None:
        scans = [{**item.body, "queued_seconds": self.outbox.queued_seconds(item)}
                 for item in items]
        try:
            results = self.post_scans(scans)
        except Refused as exc:
            # One malformed scan must not block the queue: halve the batch until the
            # culprit is alone, then set it aside.
            if len(items) == 1:
                self.outbox.bury(items[0], str(exc))
            else:
                self._batch_limit = max(1, len(items) // 2)
            return
        except (TransportError, Unauthorized) as exc:
            self.outbox.failed([i.event_id for i in items], str(exc))
            raise
        self._batch_limit = self.batch_size
        by_id = {item.event_id: item for item in items}
        acks = []
        for result in results:
            event_id = result.get("event_id") if isinstance(result, dict) else None
            status = result.get("status") if event_id else None
            if event_id in by_id and status in ("accepted", "duplicate", "rejected"):
                if status == "rejected" and result.get("reason") == "malformed":
                    # The server could not read it: keep it aside for a person to look at.
                    self.outbox.bury(by_id[event_id], f"malformed: {result}")
                    acks.append((event_id, "malformed"))
                    continue
                acks.append((event_id, status))
                if self.on_result:
                    self.on_result(by_id[event_id], result)
        self.outbox.ack(acks)
        self.sent += len(acks)
        if len(acks) < len(items):
            raise TransportError(f"server answered for {len(acks)} of {len(items)} scans")

    def drain(self, timeout: float) -> bool:
        """Wait until nothing is queued (True) or ``timeout`` seconds pass (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.outbox.count() == 0:
                return True
            self.outbox.changed.set()
            time.sleep(0.05)
        return self.outbox.count() == 0
