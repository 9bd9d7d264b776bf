"""Recording what stations send: badge scans, evidence photos and the guard's no-badge records.

Framework-free; the web API parses requests into :class:`ScanItem` and calls
:func:`record_scans`, which never commits (the request does, once).

- Every scan a station uploads is verified again on the server
  (:func:`attendance.badges.check_payload`) and stored as a ``Scan`` row: ``accepted``, or
  ``rejected`` with the reason, so inspectors see forged, revoked and random codes too.
- ``(source, event_id)`` is unique: a retried scan answers ``duplicate`` with the original's
  outcome and is never stored twice, also when two retries of one batch race each other
  (the stream's head row is locked before the look-up of stored event ids, so the second
  waits for the first and then finds its scans).
- Time (RULES.md "Time"): a *live* scan whose station clock is off by more than
  ``config.clock_skew_seconds`` is flagged ``clock_skew`` and gets the server's time; a scan
  that waited in the station's outbox (``queued_seconds`` ≥ ``LIVE_QUEUE_SECONDS``) keeps
  the station's time and is flagged ``late_upload``.
- Evidence photos are files under ``<instance>/evidence/YYYY/MM/DD/<scan id>.jpg`` (the
  local date of the scan), removed by :func:`purge_evidence` after the retention period.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import os
import re
import shutil
import tempfile
import unicodedata
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache, partial
from pathlib import Path

from sqlalchemy import Connection, Row, TextClause, bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from attendance import access, badges, findings
from attendance.audit import record as audit
from attendance.config import Config
from attendance.db import instance_path
from attendance.messages import Message
from attendance.models import Badge, Employee, NoBadgeRecord, Scan, Station, Unit, User
from attendance.models.chain import StreamHead, append, lock_head

MAX_BATCH = 500
MAX_EVENT_ID = 80
MAX_STORED_PAYLOAD = 512  # rejected junk is kept for inspectors, but not without bound
MAX_EVIDENCE_BYTES = 200 * 1024
MAX_EVIDENCE_PIXELS = 4096 * 4096
# A scan that waited this long in the station's outbox is a late upload, not a live scan.
LIVE_QUEUE_SECONDS = 30.0
MAX_QUEUED_SECONDS = 10 * 366 * 86400  # beyond this a "queue time" is a broken counter
YEARS = (1970, 2999)  # instants outside are malformed (and would overflow date arithmetic)
EVIDENCE_DIR = "evidence"

ACCEPTED, DUPLICATE, REJECTED = "accepted", "duplicate", "rejected"
MALFORMED = "malformed"  # an item of a batch that cannot be read; answered, never stored

# Flags (comma-separated in Scan.flags).
CLOCK_SKEW = "clock_skew"
LATE_UPLOAD = "late_upload"
NO_FACE = "no_face"
EVIDENCE_INVALID = "evidence_invalid"

_EVENT_ID = re.compile(r"[\x21-\x7e]{1,80}")  # printable ASCII, no spaces


def valid_event_id(value: object) -> bool:
    return isinstance(value, str) and _EVENT_ID.fullmatch(value) is not None


class MalformedItem(ValueError):
    """One item of a batch that does not follow the API; the message says which field."""


class MalformedRecord(ValueError):
    """A no-badge record that cannot be stored (unknown employee, bad fields)."""


# --- what a station sends ------------------------------------------------------------------


@dataclass(frozen=True)
class ScanItem:
    """One scan as the station reported it."""

    event_id: str
    payload: str
    station_time: datetime  # aware; the station's clock
    queued_seconds: float | None = None
    evidence_jpeg: bytes | None = None
    evidence_invalid: bool = False  # sent, but not base64
    no_face: bool = False


def parse_instant(value: object) -> datetime | None:
    """An ISO 8601 text with an offset (``Z`` allowed) as an aware datetime, else None."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return None
    try:
        year = parsed.astimezone(timezone.utc).year
    except OverflowError:
        return None
    return parsed if YEARS[0] <= year <= YEARS[1] else None


def item_from_json(raw: object, *, sent_at: datetime | None = None) -> ScanItem:
    """Read one element of ``scans``. Raises :class:`MalformedItem`.

    Unknown fields are ignored, so that a newer station works with an older server. When
    ``queued_seconds`` is absent but the batch says when it was sent (``sent_at``, station
    clock), the time the scan waited is ``sent_at - scanned_at``: both come from one clock,
    so its error cancels out.
    """
    if not isinstance(raw, dict):
        raise MalformedItem("a scan must be an object")
    event_id = raw.get("event_id")
    if not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id):
        raise MalformedItem("event_id: 1 to 80 printable ASCII characters")
    payload = raw.get("payload")
    if not isinstance(payload, str):
        raise MalformedItem("payload: a string")
    station_time = parse_instant(raw.get("scanned_at"))
    if station_time is None:
        raise MalformedItem("scanned_at: ISO 8601 with an offset")
    queued = raw.get("queued_seconds")
    if queued is not None:
        if isinstance(queued, bool) or not isinstance(queued, (int, float)) \
                or not math.isfinite(queued) or not 0 <= queued <= MAX_QUEUED_SECONDS:
            raise MalformedItem("queued_seconds: a number of seconds ≥ 0 (at most ten years)")
        queued = float(queued)
    elif sent_at is not None:
        queued = min(max(0.0, (sent_at - station_time).total_seconds()), MAX_QUEUED_SECONDS)
    no_face = raw.get("no_face")
    if no_face is not None and not isinstance(no_face, bool):
        raise MalformedItem("no_face: true or false")
    evidence = raw.get("evidence_jpeg")
    jpeg, invalid = None, False
    if evidence is not None:
        if not isinstance(evidence, str):
            raise MalformedItem("evidence_jpeg: base64 text")
        if len(evidence) > (MAX_EVIDENCE_BYTES * 4) // 3 + 8:
            invalid = True
        else:
            try:
                jpeg = base64.b64decode(evidence, validate=True)
            except (binascii.Error, ValueError):
                invalid = True
    return ScanItem(event_id=event_id, payload=payload, station_time=station_time,
                    queued_seconds=queued, evidence_jpeg=jpeg, evidence_invalid=invalid,
                    no_face=bool(no_face))


# --- the outcome ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    event_id: str | None
    status: str
    reason: str | None = None
    employee_code: str | None = None
    employee_name: str | None = None
    original_status: str | None = None  # for a duplicate: what the stored scan was
    flags: tuple[str, ...] = ()

    def as_json(self) -> dict:
        """The API's result object; optional keys only when they have a value."""
        out: dict = {"event_id": self.event_id, "status": self.status}
        if self.reason:
            out["reason"] = self.reason
        if self.employee_code is not None:
            out["employee"] = {"code": self.employee_code, "full_name": self.employee_name}
        if self.original_status:
            out["original_status"] = self.original_status
        if self.flags:
            out["flags"] = list(self.flags)
        return out


def malformed(event_id: object) -> ScanResult:
    return ScanResult(event_id if isinstance(event_id, str) else None, REJECTED, MALFORMED)


# --- time ----------------------------------------------------------------------------------


def resolve_time(station_time: datetime, received_at: datetime, queued_seconds: float | None,
                 skew_seconds: float) -> tuple[datetime, tuple[str, ...]]:
    """The instant the rules use for a station's record, and the flags that explain it.

    The server's estimate of when the scan happened is ``received_at - queued_seconds``. A
    live scan whose station time is further from it than the allowed skew takes the
    estimate; a late upload keeps the station's time (RULES.md) unless that time lies in the
    future beyond the skew, which no honest clock can produce.
    """
    queued = queued_seconds or 0.0
    estimate = received_at - timedelta(seconds=queued)
    skew = timedelta(seconds=skew_seconds)
    if queued < LIVE_QUEUE_SECONDS:
        if abs(station_time - estimate) > skew:
            return estimate, (CLOCK_SKEW,)
        return station_time, ()
    if station_time > received_at + skew:
        return estimate, (LATE_UPLOAD, CLOCK_SKEW)
    return station_time, (LATE_UPLOAD,)


# --- stations ------------------------------------------------------------------------------

STATION_CODE = re.compile(r"[A-Za-z0-9_.-]{1,40}")


class StationError(ValueError):
    """A station that cannot be registered; the message is one Vietnamese sentence."""


def register_station(session: Session, code: str, unit: Unit, *, name: str | None, now: datetime,
                     actor: str) -> tuple[Station, str]:
    """Add a station and return it with its key, which is stored only as a hash: show it
    once. Writes an audit entry; never commits."""
    code = code.strip()
    if not STATION_CODE.fullmatch(code):
        raise StationError("mã điểm quét: 1 đến 40 chữ không dấu, số hoặc . _ -")
    if session.scalar(select(Station.id).where(Station.code == code)) is not None:
        raise StationError(Message("mã điểm quét {code} đã được dùng", code=code))
    key = access.new_station_key()
    station = Station(code=code, name=(name or "").strip() or None, unit_id=unit.id, unit=unit,
                      key_hash=access.hash_station_key(key), created_at=now, active=True)
    session.add(station)
    session.flush()
    access.log_action(session, actor=actor, action="station.registered", at=now,
                      target=f"station:{code}", details={"unit": unit.code})
    return station, key


# --- recording -----------------------------------------------------------------------------


def station_source(station: Station) -> str:
    return f"station:{station.code}"


def station_stream(station: Station) -> str:
    return f"scan:{station.code}"


def record_scans(session: Session, station: Station, items: list[ScanItem | ScanResult], *,
                 keyring: badges.Keyring, config: Config, now: datetime,
                 evidence_root: Path | None = None) -> list[ScanResult]:
    """Verify and store a station's batch; one result per item, in order. Never commits.

    ``items`` may contain ready :class:`ScanResult` objects (items the caller could not
    read, see :func:`malformed`); they are passed through in their place. ``station`` needs
    only its ``id`` and ``code``.

    A few statements per batch whatever its size, and no ORM objects (this runs many times
    a second). Everything that needs no lock comes first: the badges the payloads name are
    read with their employees, signatures and photos checked, the rows built, the photos
    written (and fsynced) under temporary names. Then the stream's head is locked, which
    serializes the station's writes, so the look-up of event ids already stored (for a
    single scan, its insert's own check) is exact and nothing else can conflict (no
    savepoint); the new rows are linked into the chain in memory, inserted with one
    statement, the head is written back and the photos are renamed to their scans' ids
    (one fsync of their folder makes the names durable before the caller commits). On
    SQLite the database's write lock is thus held only from the head to the commit, and
    never for a photo's data.
    """
    scan_items = [item for item in items if isinstance(item, ScanItem)]
    if not scan_items:
        return list(items)
    source = station_source(station)
    check = _BatchCheck(session.connection(), [item.payload for item in scan_items], keyring)
    scans = [_new_scan(station, item, source=source, check=check, config=config, now=now)
             for item in scan_items]
    try:
        for scan in scans:
            if scan.photo is not None:
                scan.photo_file = _stage_photo(scan.photo, scan.day, root=evidence_root)
        return _record(session, station, items, iter(scans), source=source, now=now)
    finally:
        for scan in scans:  # photos of duplicates, or of a batch that failed
            if scan.photo_file is not None:
                scan.photo_file.unlink(missing_ok=True)


def _record(session: Session, station: Station, items: list[ScanItem | ScanResult],
            candidates: Iterator[_NewScan], *, source: str, now: datetime) -> list[ScanResult]:
    """:func:`record_scans` from the stream's lock on.

    A batch looks up which of its event ids are stored already, then inserts the others. A
    single scan (most requests at a gate) skips the look-up: its insert does nothing when
    the event id is stored already, and only then is the original read. Both are exact
    because the stream's lock keeps every other writer of the station out meanwhile.
    """
    head = StreamHead(session, station_stream(station))
    connection = head.connection
    event_ids = [item.event_id for item in items if isinstance(item, ScanItem)]
    single = len(event_ids) == 1
    originals = {} if single else _stored(connection, source, event_ids)
    new: list[_NewScan] = []
    results: list[ScanResult] = []
    for item in items:
        if isinstance(item, ScanResult):
            results.append(item)
            continue
        scan = next(candidates)
        original = originals.get(item.event_id)
        if original is None:
            scan.row = head.link_row(Scan, scan.row)
            new.append(scan)
            originals[item.event_id] = scan.result  # should it come again in this batch
            results.append(scan.result)
        else:
            results.append(_as_duplicate(original))
    if not new:
        return results
    if single:
        inserted = connection.execute(_INSERT_IF_NEW, new[0].row)
        if inserted.first() is None:  # a retry of a scan stored before: answer as it was
            duplicate = _as_duplicate(_stored(connection, source, event_ids)[event_ids[0]])
            return [duplicate if result is new[0].result else result for result in results]
    else:
        connection.execute(insert(Scan.__table__), [scan.row for scan in new])
    head.save()
    # Accepted scans that arrive late for a day already over make its stored findings stale.
    findings.mark_stale(session, [(scan.row["employee_id"], scan.row["scanned_at"])
                                  for scan in new if scan.row["status"] == ACCEPTED], now=now)
    _keep_photos(connection, head.stream, [scan for scan in new if scan.photo_file is not None])
    return results


def _insert_if_new() -> TextClause:
    """One scan's insert that does nothing (returns no row) when its event id is stored.

    Text, like the head's lock: SQLAlchemy compiles its ``on_conflict_do_nothing()``
    afresh for every execution (no cache key)."""
    columns = [column for column in Scan.__table__.columns if not column.primary_key]
    return text(
        f"INSERT INTO scans ({', '.join(column.name for column in columns)}) "
        f"VALUES ({', '.join(':' + column.key for column in columns)}) "
        "ON CONFLICT (source, event_id) DO NOTHING RETURNING id"
    ).bindparams(*(bindparam(column.key, type_=column.type) for column in columns))


_INSERT_IF_NEW = _insert_if_new()


@dataclass
class _NewScan:
    row: dict  # the scans row, all columns but the id
    result: ScanResult
    day: date  # the local day of scanned_at
    photo: bytes | None  # to keep under the scan's id
    photo_file: Path | None = None  # the photo written under a temporary name, not yet kept


def _as_duplicate(original: ScanResult) -> ScanResult:
    """The answer to a scan already stored: the original's, marked ``duplicate``."""
    return replace(original, status=DUPLICATE, original_status=original.status)


_STORED = (select(Scan.event_id, Scan.status, Scan.reason, Scan.flags, Employee.code,
                  Employee.full_name)
           .outerjoin(Employee, Employee.id == Scan.employee_id)
           .where(Scan.source == bindparam("source"),
                  Scan.event_id.in_(bindparam("event_ids", expanding=True))))


def _stored(connection: Connection, source: str, event_ids: list[str]) -> dict[str, ScanResult]:
    """What was answered to the scans of ``event_ids`` that ``source`` already stored."""
    rows = connection.execute(_STORED, {"source": source, "event_ids": event_ids})
    return {row.event_id: ScanResult(row.event_id, row.status, row.reason, row.code,
                                     row.full_name,
                                     flags=tuple(f for f in row.flags.split(",") if f))
            for row in rows}


# Distinct payloads whose signature check a worker remembers (about 0.5 kB each, some
# 50 MB when full: enough for every badge a server sees).
VERIFIED_PAYLOADS = 100_000


@lru_cache(maxsize=1)
def _verifier(public_keys: tuple[tuple[str, str], ...],
              retired: frozenset[str]) -> Callable[[str], badges.Verification]:
    """:func:`attendance.badges.verify` for one set of keys, remembering its answers.

    The check is pure and costs ~0.1-0.3 ms of CPU (Ed25519), the largest share of a batch;
    a badge's payload never changes and is shown every working day, so a worker checks each
    one once. A new set of keys (a key added or retired) makes a new verifier and drops the
    old one with everything it remembered. Revocation and the employee's records are not
    part of this check: they are read from the database for every scan.
    """
    return lru_cache(maxsize=VERIFIED_PAYLOADS)(
        partial(badges.verify, public_keys=dict(public_keys), retired_key_ids=retired))


_BADGES = (select(Badge.serial, Badge.revoked_at, Employee.id.label("employee_id"), Employee.code,
                  Employee.full_name, Employee.start_date, Employee.end_date)
           .join(Employee, Employee.id == Badge.employee_id)
           .where(Badge.serial.in_(bindparam("serials", expanding=True))))
_EMPLOYEES = (select(Employee.id.label("employee_id"), Employee.code, Employee.full_name)
              .where(Employee.code.in_(bindparam("codes", expanding=True))))


class _BatchCheck:
    """:func:`attendance.badges.check_payload` for a whole batch with one or two queries.

    The keyring is read once, each distinct payload verified once, and the badges the
    payloads name are loaded with their employees together; employees are looked up by
    code only for genuine credentials that no valid badge vouches for (revoked, retired
    key). The decisions are check_payload's, in the same order (the tests of the scan API
    cover each outcome), but for the time of revocation: a badge still vouches for a scan
    taken before it was revoked. Calling it gives the verdict and the employee (a row with
    ``employee_id``, ``code`` and ``full_name``) the scan is stored under, if any.
    """

    def __init__(self, connection: Connection, payloads: list[str], keyring: badges.Keyring):
        keys = keyring.keys()  # one look at the manifest for both
        verify = _verifier(tuple(sorted((k.key_id, k.public_key) for k in keys)),
                           frozenset(k.key_id for k in keys if k.retired))
        self.verdicts = {payload: verify(payload) for payload in set(payloads)}
        serials = sorted({v.serial for v in self.verdicts.values() if v.ok})
        self.badges = {row.serial: row for row in connection.execute(
            _BADGES, {"serials": serials})} if serials else {}
        codes = sorted({v.employee_code for v in self.verdicts.values()
                        if v.employee_code is not None and self._badge(v) is None})
        self.employees = {row.code: row for row in connection.execute(
            _EMPLOYEES, {"codes": codes})} if codes else {}

    def _badge(self, verdict: badges.Verification, at: datetime | None = None):
        """The badge row that vouches for a genuine credential at ``at``, or None.

        A badge vouches for the scans taken before it was revoked: a station that was offline
        uploads its morning's scans later, and a badge reissued meanwhile does not undo them
        (INTERFACES.md: *later* scans of a revoked badge are rejected). Without ``at``, any
        revocation counts.
        """
        badge = self.badges.get(verdict.serial) if verdict.ok else None
        if badge is None or badge.code != verdict.employee_code:
            return None
        if badge.revoked_at is not None and (at is None or badge.revoked_at <= at):
            return None
        return badge

    def __call__(self, payload: str, at: datetime,
                 today: date) -> tuple[badges.Verification, Row | None]:
        result = self.verdicts[payload]
        if result.employee_code is None:  # not a genuine credential
            return result, None
        if not result.ok:
            return result, self.employees.get(result.employee_code)
        found = {"employee_code": result.employee_code, "serial": result.serial,
                 "key_id": result.key_id}
        badge = self._badge(result, at)
        if badge is None:
            employee = self.employees.get(result.employee_code)
            if employee is None:
                return badges.Verification(False, badges.UNKNOWN_EMPLOYEE, **found), None
            return badges.Verification(False, badges.REVOKED, **found), employee
        if not Employee.is_active_on(badge, today):  # the model's rule, on the row
            return badges.Verification(False, badges.UNKNOWN_EMPLOYEE, **found), badge
        return result, badge


def _new_scan(station: Station, item: ScanItem, *, source: str, check: _BatchCheck,
              config: Config, now: datetime) -> _NewScan:
    """The row for ``item`` (not yet linked), its answer, and the photo to keep, if any."""
    scanned_at, flags = resolve_time(item.station_time, now, item.queued_seconds,
                                     config.clock_skew_seconds)
    local_day = scanned_at.astimezone(config.tz).date()
    verdict, employee = check(item.payload, scanned_at, local_day)
    flag_list = list(flags)
    if item.no_face:
        flag_list.append(NO_FACE)
    photo = None if item.evidence_invalid else item.evidence_jpeg
    if photo is not None and not valid_jpeg(photo):
        photo = None
        flag_list.append(EVIDENCE_INVALID)
    elif item.evidence_invalid:
        flag_list.append(EVIDENCE_INVALID)
    if photo is not None and scanned_at < now - timedelta(days=config.evidence_retention_days):
        photo = None  # already past the retention period: it would be purged at once
    status = ACCEPTED if verdict.ok else REJECTED
    reason = None if verdict.ok else verdict.reason
    row = {
        "source": source, "station_id": station.id, "event_id": item.event_id,
        "employee_id": employee.employee_id if employee else None,
        "badge_serial": verdict.serial, "status": status, "reason": reason,
        "payload": _storable(item.payload), "scanned_at": scanned_at,
        "station_time": item.station_time, "received_at": now, "flags": ",".join(flag_list),
        "supersedes_id": None,
    }
    result = ScanResult(item.event_id, status, reason,
                        employee.code if employee else None,
                        employee.full_name if employee else None, flags=tuple(flag_list))
    return _NewScan(row, result, local_day, photo)


_IDS = (select(Scan.seq, Scan.id)
        .where(Scan.stream == bindparam("stream"),
               Scan.seq.in_(bindparam("seqs", expanding=True))))
_SET_EVIDENCE = (update(Scan.__table__).where(Scan.__table__.c.id == bindparam("scan_id"))
                 .values(evidence_path=bindparam("path")))


def _keep_photos(connection: Connection, stream: str, scans: list[_NewScan]) -> None:
    """Rename the staged photos of scans just inserted to their scans' ids and record the
    paths; the folders are fsynced, so a committed path names a file that survives a
    crash."""
    if not scans:
        return
    ids = dict(connection.execute(_IDS, {"stream": stream,
                                         "seqs": [scan.row["seq"] for scan in scans]}).all())
    paths, folders = [], set()
    for scan in scans:
        scan_id = ids[scan.row["seq"]]
        os.replace(scan.photo_file, scan.photo_file.with_name(f"{scan_id}.jpg"))
        folders.add(scan.photo_file.parent)
        scan.photo_file = None
        paths.append({"scan_id": scan_id, "path": _evidence_path(scan.day, scan_id)})
    for folder in folders:
        _fsync_folder(folder)
    connection.execute(_SET_EVIDENCE, paths)


def _storable(text: str) -> str:
    """Text any database keeps: no NUL, no lone surrogates, bounded."""
    text = text[:MAX_STORED_PAYLOAD]
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text.replace("\x00", "\ufffd")


# --- evidence photos -----------------------------------------------------------------------


def valid_jpeg(data: bytes) -> bool:
    """True when ``data`` is a JPEG of sane size that decodes completely."""
    if not data or len(data) > MAX_EVIDENCE_BYTES:
        return False
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format != "JPEG":
                    return False
                width, height = image.size
                if width * height > MAX_EVIDENCE_PIXELS:
                    return False
                image.load()
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for broken input: not a photo
        return False
    return True


def evidence_root() -> Path:
    return instance_path() / EVIDENCE_DIR


def _evidence_path(day: date, scan_id: int) -> str:
    """What ``Scan.evidence_path`` holds: the photo's path relative to the instance folder."""
    return f"{EVIDENCE_DIR}/{day:%Y}/{day:%m}/{day:%d}/{scan_id}.jpg"


def _stage_photo(data: bytes, day: date, *, root: Path | None = None) -> Path:
    """Write ``data`` under a temporary name in its day's folder and fsync it."""
    folder = (root or evidence_root()) / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".", suffix=".jpg.tmp", dir=folder)
    with open(handle, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    return Path(name)


def _fsync_folder(folder: Path) -> None:
    """Make the names just created in ``folder`` durable."""
    handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def save_evidence(data: bytes, scan_id: int, day: date, *, root: Path | None = None) -> str:
    """Write the photo of an already stored scan; returns its path for ``evidence_path``."""
    staged = _stage_photo(data, day, root=root)
    os.replace(staged, staged.with_name(f"{scan_id}.jpg"))
    _fsync_folder(staged.parent)
    return _evidence_path(day, scan_id)


def evidence_file(scan: Scan, *, root: Path | None = None) -> Path | None:
    """The photo of ``scan`` on disk, or None (never stored, purged, or missing)."""
    if not scan.evidence_path:
        return None
    root = root or evidence_root()
    relative = Path(scan.evidence_path)
    if relative.parts[:1] == (EVIDENCE_DIR,):
        relative = Path(*relative.parts[1:])
    path = (root / relative).resolve()
    if root.resolve() not in path.parents or not path.is_file():
        return None
    return path


def purge_evidence(session: Session, config: Config, now: datetime, *,
                   root: Path | None = None) -> int:
    """Delete photos older than ``config.evidence_retention_days``; returns files deleted.

    Clears ``Scan.evidence_path`` (a housekeeping column, outside the hash chain) and then
    removes whole day folders past the period, which also catches files of transactions
    that were rolled back. Never commits.
    """
    root = root or evidence_root()
    cutoff = now - timedelta(days=config.evidence_retention_days)
    deleted = 0
    old = session.scalars(
        select(Scan).where(Scan.evidence_path.is_not(None), Scan.scanned_at < cutoff))
    for scan in old:
        path = evidence_file(scan, root=root)
        if path is not None:
            path.unlink(missing_ok=True)
            deleted += 1
        scan.evidence_path = None
    session.flush()
    # A day folder is past the period when all of that local day is before the cutoff.
    last_day = (cutoff.astimezone(config.tz) - timedelta(days=1)).date()
    for year_dir in _numbered(root):
        for month_dir in _numbered(year_dir):
            for day_dir in _numbered(month_dir):
                try:
                    day = date(int(year_dir.name), int(month_dir.name), int(day_dir.name))
                except ValueError:
                    continue
                if day <= last_day:
                    deleted += sum(1 for p in day_dir.iterdir() if p.suffix == ".jpg")
                    shutil.rmtree(day_dir, ignore_errors=True)
            _remove_if_empty(month_dir)
        _remove_if_empty(year_dir)
    return deleted


def _numbered(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and p.name.isdigit())


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


# --- the guard's no-badge record -----------------------------------------------------------


def fold(text: str) -> str:
    """Lower case without Vietnamese tones or marks: "Nguyễn Văn Đức" → "nguyen van duc"."""
    text = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


def search_employees(session: Session, query: str, *, on: date, limit: int = 20,
                     unit_ids: frozenset[int] | None = None,
                     prefer_unit_ids: frozenset[int] = frozenset()) -> list[Employee]:
    """Active employees matching ``query`` by code, card number or name (tones optional).

    Exact code or card number first, then codes that start with the query, then names whose
    words start with the query's words (so "nguyen van a" finds "Nguyễn Văn A"), then names
    that merely contain them. ``unit_ids`` limits the search (None: everyone);
    ``prefer_unit_ids`` ranks those units' staff first within each group.
    """
    needle = fold(query)
    words = needle.split()
    if not words:
        return []
    statement = select(Employee)
    if unit_ids is not None:
        statement = statement.where(Employee.unit_id.in_(sorted(unit_ids)))
    ranked = []
    for employee in session.scalars(statement):
        if not employee.is_active_on(on):
            continue
        code = employee.code.casefold()
        card = (employee.card_number or "").casefold()
        name_words = fold(employee.full_name).split()
        if needle in (code, card):
            rank = 0
        elif code.startswith(needle):
            rank = 1
        elif _words_start(words, name_words):
            rank = 2
        elif all(w in " ".join(name_words) for w in words):
            rank = 3
        else:
            continue
        ranked.append((rank, employee.unit_id not in prefer_unit_ids, fold(employee.full_name),
                       employee.code, employee))
    ranked.sort(key=lambda entry: entry[:4])
    return [entry[-1] for entry in ranked[:limit]]


def _words_start(words: list[str], name_words: list[str]) -> bool:
    """Each query word starts a distinct name word, in order."""
    position = 0
    for word in words:
        while position < len(name_words) and not name_words[position].startswith(word):
            position += 1
        if position == len(name_words):
            return False
        position += 1
    return True


def no_badge_stream(employee: Employee) -> str:
    return f"nobadge:{employee.unit.code}"


def record_no_badge(session: Session, employee: Employee, *, recorded_at: datetime,
                    event_id: str, place: str | None, recorded_by: str,
                    note: str | None = None, source: str = "guard") -> tuple[NoBadgeRecord, bool]:
    """Append a no-badge record; ``(record, created)``. Never commits.

    ``event_id`` makes it idempotent: a second call with the same id returns the stored
    record and ``created=False`` (raises :class:`MalformedRecord` when that id was used
    for someone else).
    """
    if not _EVENT_ID.fullmatch(event_id or ""):
        raise MalformedRecord("event_id: 1 to 80 printable ASCII characters")
    stream = no_badge_stream(employee)
    existing = session.scalar(select(NoBadgeRecord).where(NoBadgeRecord.event_id == event_id))
    if existing is None:
        record = NoBadgeRecord(employee_id=employee.id, recorded_at=recorded_at, source=source,
                               place=place, note=note, recorded_by=recorded_by,
                               event_id=event_id, supersedes_id=None, void=False,
                               employee=employee)
        try:
            with session.begin_nested():
                append(session, record, stream)
                session.flush()
        except IntegrityError:
            existing = session.scalar(
                select(NoBadgeRecord).where(NoBadgeRecord.event_id == event_id))
            if existing is None:
                raise
        else:
            findings.mark_stale(session, [(employee.id, recorded_at)])
            return record, True
    if existing.employee_id != employee.id:
        raise MalformedRecord("event_id was already used for another employee")
    return existing, False


class WithdrawalError(ValueError):
    """A withdrawal the rules refuse; the message is Vietnamese, for the user."""


MAX_REASON = 500
WITHDRAWN = "withdrawn"  # the reason of the row that withdraws a scan


def _withdrawal_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise WithdrawalError("cần ghi lý do hủy")
    if len(reason) > MAX_REASON:
        raise WithdrawalError(Message("lý do dài quá {max} ký tự", max=MAX_REASON))
    return reason


def may_withdraw_no_badge(session: Session, user: User, record: NoBadgeRecord) -> bool:
    """Admins and inspectors may withdraw any no-badge record; whoever recorded one may
    withdraw their own (the guard who picked the wrong name). A unit head may not withdraw
    the records of their own staff made by someone else: they answer for the unit."""
    if not access.can_see_employee(session, user, record.employee) or user.role == "staff":
        return False
    return access.sees_all_units(user) or record.recorded_by == user.username


def withdrawals(session: Session, records: list[NoBadgeRecord]) -> dict[int, NoBadgeRecord]:
    """The void records that withdrew any of ``records``, by the id of the one withdrawn."""
    ids = [record.id for record in records]
    return {w.supersedes_id: w for w in session.scalars(
        select(NoBadgeRecord).where(NoBadgeRecord.supersedes_id.in_(ids)))} if ids else {}


def withdraw_no_badge(session: Session, record: NoBadgeRecord, *, reason: str, by: str,
                      now: datetime) -> NoBadgeRecord:
    """Withdraw a no-badge record made in error; the withdrawal, a void record that
    supersedes it in the same chain (its ``recorded_at`` is when, its ``recorded_by`` who,
    its ``note`` why). Never commits.

    The record stays on record (the chain is append-only); reports, the violation log and
    the employee's history stop counting it at once (its day's stored findings are marked
    stale). Who withdrew it, when and why go to the withdrawal and to the audit log.
    """
    reason = _withdrawal_reason(reason)
    if record.void:
        raise WithdrawalError("đây là bản ghi hủy, không thể hủy tiếp")
    lock_head(session, record.stream)  # a second withdrawal of the same record waits here
    if withdrawals(session, [record]):
        raise WithdrawalError("bản ghi này đã được hủy")
    withdrawal = append(session, NoBadgeRecord(
        employee_id=record.employee_id, recorded_at=now, source=record.source,
        place=record.place, note=reason, recorded_by=by[:80], event_id=None,
        supersedes_id=record.id, void=True), record.stream)
    findings.mark_stale(session, [(record.employee_id, record.recorded_at)])
    session.flush()
    audit(session, actor=by, action="no_badge.withdrawn", at=now,
          target=f"employee:{record.employee.code}",
          details={"record": record.id, "withdrawal": withdrawal.id,
                   "recorded_at": record.recorded_at.isoformat(),
                   "recorded_by": record.recorded_by, "reason": reason})
    return withdrawal


def may_withdraw_scans(session: Session, user: User, employee: Employee) -> bool:
    """Admins and inspectors: a scan of someone else's badge is an inspector's finding."""
    return access.sees_all_units(user) and access.can_see_employee(session, user, employee)


def scan_withdrawals(session: Session, scans: list[Scan]) -> dict[int, Scan]:
    """The rows that withdrew any of ``scans``, by the id of the scan withdrawn."""
    ids = [scan.id for scan in scans]
    return {w.supersedes_id: w for w in session.scalars(
        select(Scan).where(Scan.supersedes_id.in_(ids), Scan.reason == WITHDRAWN))} if ids else {}


def withdraw_scan(session: Session, scan: Scan, *, reason: str, by: str, now: datetime) -> Scan:
    """Withdraw an accepted scan that is not the employee's presence (their badge shown by
    someone else, as the evidence photo proves); the withdrawal, a row of the same chain
    that supersedes it (see :class:`attendance.models.Scan`). Never commits.

    The scan and its photo stay on record; reports, the violation log and the history stop
    counting it at once (its day's stored findings are marked stale).
    """
    reason = _withdrawal_reason(reason)
    if scan.status != ACCEPTED or scan.employee_id is None:
        raise WithdrawalError("chỉ hủy được lượt quét đã được chấp nhận")
    lock_head(session, scan.stream)  # a second withdrawal of the same scan waits here
    if session.scalar(select(Scan.id).where(Scan.supersedes_id == scan.id)) is not None:
        raise WithdrawalError("lượt quét này đã được hủy")
    withdrawal = append(session, Scan(
        source=f"withdrawal:{by}"[:120], station_id=scan.station_id, event_id=str(scan.id),
        employee_id=scan.employee_id, badge_serial=scan.badge_serial, status=REJECTED,
        reason=WITHDRAWN, payload=reason, scanned_at=scan.scanned_at, station_time=None,
        received_at=now, flags="", supersedes_id=scan.id), scan.stream)
    findings.mark_stale(session, [(scan.employee_id, scan.scanned_at)])
    session.flush()
    audit(session, actor=by, action="scan.withdrawn", at=now,
          target=f"employee:{scan.employee.code}",
          details={"scan": scan.id, "withdrawal": withdrawal.id, "source": scan.source,
                   "scanned_at": scan.scanned_at.isoformat(), "reason": reason})
    return withdrawal
