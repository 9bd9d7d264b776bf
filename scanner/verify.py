"""Checking badges at the station, offline, against the last trust bundle synced.

The server's ``GET /api/v1/station/sync`` hands out the public keys, retired key ids,
revoked serials and employee names. ``TrustStore`` keeps the last one in
``<data dir>/trust.json`` (written atomically, fsynced), so a station that restarts while
the server is down still checks badges as of its last sync; a revocation reaches the
station at its next sync. ``TrustStore.check`` runs the pure
``attendance.badges.verify`` and never raises.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from attendance.badges import REASONS, UNKNOWN_FORMAT, parse, verify

log = logging.getLogger(__name__)

TRUST_FILE = "trust.json"

# Refusals the station adds to those of attendance.badges (Vietnamese, for the screen).
NOT_UTF8 = "not_utf8"
NOT_SYNCED = "not_synced"
STATION_REASONS = {
    **REASONS,
    NOT_UTF8: "mã không đọc được (không phải văn bản UTF-8)",
    NOT_SYNCED: "điểm quét chưa đồng bộ với máy chủ; máy chủ sẽ kiểm tra thẻ",
}


@dataclass(frozen=True)
class Verdict:
    """What the station tells the person in front of it."""

    ok: bool
    reason: str | None = None
    employee_code: str | None = None
    full_name: str | None = None
    serial: str | None = None

    @property
    def reason_text(self) -> str | None:
        if self.reason is None:
            return None
        return STATION_REASONS.get(self.reason, self.reason)

    @property
    def unchecked(self) -> bool:
        """Never synced, the station cannot check a badge: not a refusal (the scan is
        uploaded and the server decides), so the person is not turned away. A code that is
        not a badge at all is refused all the same."""
        return self.reason == NOT_SYNCED

    @property
    def title(self) -> str:
        if self.ok:
            return "Hợp lệ"
        return "Chưa kiểm tra được" if self.unchecked else "Không hợp lệ"

    def line(self) -> str:
        """One Vietnamese line: ``Hợp lệ — Nguyễn Văn A (E001)`` or the refusal reason."""
        if self.ok:
            who = self.full_name or ""
            return f"{self.title} — {who} ({self.employee_code})".replace(" — ()", "")
        text = f"{self.title}: {self.reason_text}"
        if self.employee_code:
            text += f" — {self.full_name or ''} ({self.employee_code})"
        return text


def _fsync_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    try:
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


class TrustStore:
    """The station's copy of the trust bundle, cached on disk."""

    def __init__(self, data_dir: str | Path) -> None:
        self.path = Path(data_dir) / TRUST_FILE
        self._lock = threading.Lock()
        self.bundle: dict | None = None
        self.etag: str | None = None
        self._prepare(None)
        if self.path.is_file():
            try:
                stored = json.loads(self.path.read_text(encoding="utf-8"))
                self._prepare(stored["bundle"])
                self.etag = stored.get("etag")
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("bỏ qua tệp hỏng %s: %s", self.path, exc)

    def _prepare(self, bundle: dict | None) -> None:
        bundle = bundle or {}
        keys = bundle.get("public_keys") or {}
        employees = bundle.get("employees")
        with self._lock:
            self.bundle = bundle or None
            self._keys = dict(keys)
            self._retired = frozenset(bundle.get("retired_key_ids") or ())
            self._revoked = frozenset(bundle.get("revoked_serials") or ())
            self._names = dict(employees) if isinstance(employees, dict) else {}
            # Without an employee list the station cannot know who left: let the server say.
            self._employees = frozenset(self._names) if isinstance(employees, dict) else None

    @property
    def synced(self) -> bool:
        return bool(self._keys)

    @property
    def station(self) -> dict:
        return (self.bundle or {}).get("station") or {}

    def update(self, bundle: dict, etag: str | None = None) -> None:
        """Take a new bundle from the server and keep it on disk."""
        self._prepare(bundle)
        self.etag = etag
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _fsync_write(self.path, json.dumps({"etag": etag, "bundle": bundle},
                                           ensure_ascii=False))

    def name_of(self, code: str | None) -> str | None:
        return self._names.get(code) if code else None

    def employees(self) -> dict[str, str]:
        return dict(self._names)

    def check(self, payload: str | None) -> Verdict:
        """The verdict for a QR text (``None``: a code whose bytes are not UTF-8)."""
        if payload is None:
            return Verdict(False, NOT_UTF8)
        with self._lock:
            keys, retired, revoked, employees = (self._keys, self._retired, self._revoked,
                                                 self._employees)
        if not keys:
            # The format needs no key: what the server would call unknown_format is red now.
            return Verdict(False, NOT_SYNCED if parse(payload) else UNKNOWN_FORMAT)
        result = verify(payload, keys, revoked, retired_key_ids=retired, employees=employees)
        return Verdict(result.ok, result.reason, result.employee_code,
                       self.name_of(result.employee_code), result.serial)
