"""Badge credentials (thẻ công chức): the signed QR text, signing keys, issue and revocation.

The QR code of a badge holds a *credential*::

    TCC1|<employee>|<serial>|<key id>|<signature>

- ``TCC1`` names the format (thẻ công chức, version 1);
- ``<employee>`` is the employee code as is when it is made of ``A-Z a-z 0-9 _ -`` only,
  otherwise ``~`` followed by the base64url (no padding) of its UTF-8 bytes, so the payload
  stays ASCII and URL-safe whatever the code;
- ``<serial>`` is the badge's serial, 8 characters of an unambiguous base32 alphabet;
- ``<key id>`` names the Ed25519 key that signed it (4 characters, from its fingerprint);
- ``<signature>`` is the Ed25519 signature (64 bytes, 86 characters base64url, no padding)
  of the ASCII text before the last ``|``.

Length: 106 + len(<employee>) characters, so an employee code of up to 24 plain characters
keeps the payload within 130 characters (``NV000123``: 114). Longer codes still work; the QR
only gets denser.

When the deployment sets ``public_base_url``, the payload is a URL that a citizen's phone
opens: ``<base>/b/<token>``, where the token is the same five fields joined with ``.``
(every field is URL-safe, so the token needs no escaping). The signature always covers the
``|`` form, so the two forms carry the same credential and a station accepts both.

Only the server holds private keys (``keys_dir()``, files with mode 0600). Stations get the
public keys (``Keyring.public_keys()``: key id → base64 of the raw 32-byte key), the ids of
retired keys and the revocation list (``trust_bundle``) and check badges offline with the
pure :func:`verify`, which never raises. A badge signed with an older key stays valid
until it is reissued or that key is retired.

Service functions (``issue_badges``, ``revoke_badge``, ``reissue_badge``) take a session,
write an audit entry for every change, and never commit.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import os
import re
import secrets
import stat
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from attendance.audit import record
from attendance.db import instance_path
from attendance.messages import Message
from attendance.models.badges import Badge
from attendance.models.org import Employee, Unit

PREFIX = "TCC1"
SEPARATOR = "|"
URL_SEPARATOR = "."
URL_PATH = "/b/"
SERIAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0, 1: read aloud or typed safely
SERIAL_LENGTH = 8
KEY_ID_LENGTH = 4
SIGNATURE_CHARS = 86
PAYLOAD_TARGET = 130
FIXED_LENGTH = len(PREFIX) + SERIAL_LENGTH + KEY_ID_LENGTH + SIGNATURE_CHARS + 4
MAX_INPUT = 2048  # anything longer is refused before any parsing

KEYS_DIR_ENV = "ATTENDANCE_KEYS_DIR"
MANIFEST = "keyring.json"
AUDIT_STREAM = "audit"

# Reasons a payload is refused (stable identifiers, shown to inspectors and stations).
UNKNOWN_FORMAT = "unknown_format"
BAD_SIGNATURE = "bad_signature"
REVOKED = "revoked"
UNKNOWN_EMPLOYEE = "unknown_employee"
RETIRED_KEY = "retired_key"
REASONS = {
    UNKNOWN_FORMAT: "không phải thẻ công chức (sai định dạng)",
    BAD_SIGNATURE: "thẻ không hợp lệ (sai chữ ký)",
    REVOKED: "thẻ đã thu hồi",
    UNKNOWN_EMPLOYEE: "không có cán bộ, công chức này",
    RETIRED_KEY: "thẻ ký bằng khóa đã ngừng dùng, cần cấp lại",
}

_PLAIN_CODE = re.compile(r"[A-Za-z0-9_-]+")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_FIELDS = re.compile(
    r"TCC1(?P<sep>[|.])"
    r"(?P<employee>[A-Za-z0-9_-]{1,120}|~[A-Za-z0-9_-]{2,240})(?P=sep)"
    r"(?P<serial>[A-Z0-9]{4,20})(?P=sep)"
    r"(?P<key_id>[A-Z0-9]{1,16})(?P=sep)"
    r"(?P<signature>[A-Za-z0-9_-]{86})"
)
_URL = re.compile(r"https?://[A-Za-z0-9.\-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~\-]+)*/b/(?P<token>.+)")


class BadgeError(Exception):
    """A badge operation that cannot be done; the message is one Vietnamese sentence."""


class KeyringError(BadgeError):
    """The signing keys are missing, unsafe or inconsistent."""


# --- credential text -------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes | None:
    """Decode canonical unpadded base64url; None for anything else (so no two texts decode
    to the same bytes, and changing any character changes the result or is refused)."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        return None
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return data if _b64url(data) == text else None


def encode_employee(code: str) -> str:
    """The employee field of a credential: the code itself, or ``~`` + base64url of it."""
    if _PLAIN_CODE.fullmatch(code):
        return code
    return "~" + _b64url(code.encode("utf-8"))


def decode_employee(field: str) -> str | None:
    """Inverse of :func:`encode_employee`; None unless ``field`` is the canonical encoding."""
    if not field.startswith("~"):
        return field if _PLAIN_CODE.fullmatch(field) else None
    raw = _unb64url(field[1:])
    if raw is None:
        return None
    try:
        code = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return code if code and encode_employee(code) == field else None


def signed_message(employee_code: str, serial: str, key_id: str) -> bytes:
    """The bytes a badge's signature covers: the ``|`` form without the signature."""
    return SEPARATOR.join((PREFIX, encode_employee(employee_code), serial, key_id)).encode("ascii")


def format_payload(employee_code: str, serial: str, key_id: str, signature: bytes,
                   base_url: str | None = None) -> str:
    """The QR text: the plain credential, or ``<base_url>/b/<token>`` when a base is set."""
    fields = (PREFIX, encode_employee(employee_code), serial, key_id, _b64url(signature))
    if base_url:
        return base_url.rstrip("/") + URL_PATH + URL_SEPARATOR.join(fields)
    return SEPARATOR.join(fields)


def payload_length(employee_code: str) -> int:
    """Length of the plain payload for ``employee_code`` (the bound documented above)."""
    return FIXED_LENGTH + len(encode_employee(employee_code))


@dataclass(frozen=True)
class Credential:
    """The fields of a well-formed payload, not yet checked."""

    employee_code: str
    serial: str
    key_id: str
    signature: bytes

    @property
    def message(self) -> bytes:
        return signed_message(self.employee_code, self.serial, self.key_id)


def parse(payload: object, base_url: str | None = None) -> Credential | None:
    """The credential in ``payload`` (str or bytes; plain, bare token or URL), or None.

    With ``base_url`` the URL form must start with exactly that base; without it any
    http(s) URL whose path ends in ``/b/<token>`` is accepted (the signature is what counts).
    """
    if isinstance(payload, (bytes, bytearray, memoryview)):
        if len(payload) > MAX_INPUT:
            return None
        try:
            payload = bytes(payload).decode("ascii")
        except UnicodeDecodeError:
            return None
    if not isinstance(payload, str) or len(payload) > MAX_INPUT or not payload.isascii():
        return None
    text = payload
    if not text.startswith(PREFIX):
        if base_url:
            prefix = base_url.rstrip("/") + URL_PATH
            if not text.startswith(prefix):
                return None
            text = text[len(prefix):]
        else:
            url = _URL.fullmatch(text)
            if url is None:
                return None
            text = url["token"]
        if not text.startswith(PREFIX + URL_SEPARATOR):
            return None
    match = _FIELDS.fullmatch(text)
    if match is None:
        return None
    employee_code = decode_employee(match["employee"])
    signature = _unb64url(match["signature"])
    if employee_code is None or signature is None or len(signature) != 64:
        return None
    return Credential(employee_code, match["serial"], match["key_id"], signature)


# --- verification (pure; what a station runs) ------------------------------------------


@dataclass(frozen=True)
class Verification:
    """The outcome of checking a payload. ``employee_code`` and ``serial`` are set only when
    the signature was checked and is genuine (so a forged code is never reported as a name)."""

    ok: bool
    reason: str | None = None
    employee_code: str | None = None
    serial: str | None = None
    key_id: str | None = None

    @property
    def message(self) -> str:
        """The outcome in Vietnamese, for a screen or a log line."""
        return "Hợp lệ" if self.ok else f"Không hợp lệ: {REASONS.get(self.reason, self.reason)}"


@lru_cache(maxsize=64)
def _public_key(raw: str | bytes) -> Ed25519PublicKey | None:
    try:
        data = raw if isinstance(raw, bytes) else base64.b64decode(raw, validate=True)
        if len(data) != 32:
            return None
        return Ed25519PublicKey.from_public_bytes(data)
    except Exception:  # any malformed key is simply a key that verifies nothing
        return None


def _as_public_key(value: object) -> Ed25519PublicKey | None:
    if isinstance(value, Ed25519PublicKey):
        return value
    if isinstance(value, (str, bytes)):
        return _public_key(value)
    return None


def _contains(container: Container[str] | None, item: str) -> bool:
    try:
        return container is not None and item in container
    except Exception:  # a container that cannot answer holds nothing
        return False


def verify(
    payload: object,
    public_keys: Mapping[str, str | bytes | Ed25519PublicKey],
    revoked_serials: Container[str] = frozenset(),
    *,
    retired_key_ids: Container[str] = frozenset(),
    employees: Container[str] | None = None,
    base_url: str | None = None,
) -> Verification:
    """Check a QR text offline. Pure, and never raises, whatever ``payload`` is.

    ``public_keys`` maps key ids to keys (base64 of the raw key, as ``Keyring.public_keys()``
    exports them, raw bytes or key objects). ``revoked_serials`` is the revocation list;
    ``retired_key_ids`` the keys no longer honoured; ``employees``, when given, the codes of
    the employees who may carry a badge. Reasons, in the order they are checked:
    ``unknown_format``, ``bad_signature`` (also for a key id nobody knows), ``retired_key``,
    ``revoked``, ``unknown_employee``.
    """
    try:
        credential = parse(payload, base_url)
        if credential is None:
            return Verification(False, UNKNOWN_FORMAT)
        key_id = credential.key_id
        try:
            key = _as_public_key(public_keys.get(key_id))
        except Exception:
            key = None
        if key is None:
            reason = RETIRED_KEY if _contains(retired_key_ids, key_id) else BAD_SIGNATURE
            return Verification(False, reason, key_id=key_id)
        try:
            key.verify(credential.signature, credential.message)
        except InvalidSignature:
            return Verification(False, BAD_SIGNATURE, key_id=key_id)
        found = dict(employee_code=credential.employee_code, serial=credential.serial,
                     key_id=key_id)
        if _contains(retired_key_ids, key_id):
            return Verification(False, RETIRED_KEY, **found)
        if _contains(revoked_serials, credential.serial):
            return Verification(False, REVOKED, **found)
        if employees is not None and not _contains(employees, credential.employee_code):
            return Verification(False, UNKNOWN_EMPLOYEE, **found)
        return Verification(True, None, **found)
    except Exception:  # the contract is "never raises"; anything unforeseen is a refusal
        return Verification(False, UNKNOWN_FORMAT)


# --- signing keys ----------------------------------------------------------------------


def keys_dir() -> Path:
    """Where the signing keys live: ``ATTENDANCE_KEYS_DIR``, else ``<instance>/keys``."""
    configured = os.environ.get(KEYS_DIR_ENV)
    return Path(configured).resolve() if configured else instance_path() / "keys"


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    public_key: str  # base64 (standard, padded) of the raw 32-byte Ed25519 public key
    created_at: datetime
    retired_at: datetime | None
    current: bool

    @property
    def retired(self) -> bool:
        return self.retired_at is not None


def _key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b32encode(hashlib.sha256(raw).digest()).decode("ascii")[:KEY_ID_LENGTH]


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Keyring:
    """The server's Ed25519 signing keys in one directory.

    ``keyring.json`` lists every key (id, public key, created, retired) and names the
    current one; each key that may still sign has ``<key id>.pem`` (PKCS#8, mode 0600).
    Retiring a key deletes its private file: nothing can sign with it again.
    """

    def __init__(self, directory: str | os.PathLike | None = None):
        self.directory = Path(directory) if directory is not None else keys_dir()
        self._cache: tuple[tuple, dict, tuple[KeyInfo, ...]] | None = None

    @property
    def manifest_path(self) -> Path:
        return self.directory / MANIFEST

    @property
    def exists(self) -> bool:
        return self.manifest_path.is_file()

    # reading

    def _read(self) -> tuple[dict, tuple[KeyInfo, ...]]:
        """The parsed manifest and its keys, re-read only when the file changed (the server
        checks many scans a second; another process may rotate or retire keys meanwhile).
        The manifest is shared: callers that may change it take :meth:`_manifest`."""
        try:
            info = self.manifest_path.stat()
        except FileNotFoundError:
            raise KeyringError(
                f"chưa có khóa ký thẻ trong {self.directory} (chạy 'attendance keys init')"
            ) from None
        stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
        cached = self._cache
        if cached is None or cached[0] != stamp:
            try:
                manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise KeyringError(f"không đọc được {self.manifest_path}: {exc}") from None
            keys = tuple(
                KeyInfo(
                    key_id=entry["id"],
                    public_key=entry["public"],
                    created_at=datetime.fromisoformat(entry["created"]),
                    retired_at=datetime.fromisoformat(entry["retired"])
                    if entry.get("retired") else None,
                    current=entry["id"] == manifest["current"],
                )
                for entry in manifest["keys"]
            )
            cached = self._cache = (stamp, manifest, keys)
        return cached[1], cached[2]

    def _manifest(self) -> dict:
        return copy.deepcopy(self._read()[0])  # callers may change their copy

    def keys(self) -> list[KeyInfo]:
        return list(self._read()[1])

    @property
    def current_key_id(self) -> str:
        return self._read()[0]["current"]

    def public_keys(self, include_retired: bool = False) -> dict[str, str]:
        """Key id → base64 raw public key, for stations and :func:`verify`."""
        return {k.key_id: k.public_key for k in self.keys() if include_retired or not k.retired}

    def retired_key_ids(self) -> frozenset[str]:
        return frozenset(k.key_id for k in self.keys() if k.retired)

    def _private_key(self, key_id: str) -> Ed25519PrivateKey:
        info = next((k for k in self.keys() if k.key_id == key_id), None)
        if info is None:
            raise KeyringError(f"không có khóa {key_id}")
        if info.retired:
            raise KeyringError(f"khóa {key_id} đã ngừng dùng; cần cấp lại thẻ")
        path = self.directory / f"{key_id}.pem"
        try:
            mode = path.stat().st_mode
        except OSError:
            raise KeyringError(f"thiếu tệp khóa bí mật {path}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyringError(f"tệp khóa {path} không được để người khác đọc (chmod 600 {path})")
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey) or _key_id(key.public_key()) != key_id:
            raise KeyringError(f"tệp khóa {path} không khớp với khóa {key_id}")
        return key

    def sign(self, key_id: str, message: bytes) -> bytes:
        return self._private_key(key_id).sign(message)

    # changing

    def _write_manifest(self, manifest: dict) -> None:
        tmp = self.directory / (MANIFEST + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.manifest_path)

    def _new_key(self, manifest: dict, now: datetime) -> KeyInfo:
        taken = {entry["id"] for entry in manifest["keys"]}
        while True:  # a fingerprint prefix may collide with an old key: draw again
            private = Ed25519PrivateKey.generate()
            key_id = _key_id(private.public_key())
            if key_id not in taken:
                break
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        fd = os.open(self.directory / f"{key_id}.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        raw = private.public_key().public_bytes(serialization.Encoding.Raw,
                                                serialization.PublicFormat.Raw)
        public = base64.b64encode(raw).decode("ascii")
        manifest["keys"].append({"id": key_id, "public": public, "created": now.isoformat(),
                                 "retired": None})
        manifest["current"] = key_id
        self._write_manifest(manifest)
        return KeyInfo(key_id, public, now, None, True)

    def init(self, now: datetime | None = None) -> KeyInfo:
        """Create the directory (mode 0700) and the first key; refuses if keys exist."""
        if self.exists:
            raise KeyringError(f"đã có khóa ký thẻ trong {self.directory}")
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.directory, 0o700)
        return self._new_key({"version": 1, "current": None, "keys": []}, now or _now())

    def rotate(self, now: datetime | None = None) -> KeyInfo:
        """A new current key; badges signed with older keys stay valid."""
        return self._new_key(self._manifest(), now or _now())

    def retire(self, key_id: str, now: datetime | None = None) -> KeyInfo:
        """Stop honouring ``key_id``: its badges fail with ``retired_key`` from now on."""
        manifest = self._manifest()
        entry = next((e for e in manifest["keys"] if e["id"] == key_id), None)
        if entry is None:
            raise KeyringError(f"không có khóa {key_id}")
        if entry.get("retired"):
            raise KeyringError(f"khóa {key_id} đã ngừng dùng từ trước")
        if manifest["current"] == key_id:
            raise KeyringError(f"khóa {key_id} đang dùng để ký; hãy tạo khóa mới trước "
                               "('attendance keys rotate')")
        entry["retired"] = (now or _now()).isoformat()
        self._write_manifest(manifest)
        (self.directory / f"{key_id}.pem").unlink(missing_ok=True)
        return next(k for k in self.keys() if k.key_id == key_id)


# --- badges in the database ------------------------------------------------------------


def _new_serial(session: Session) -> str:
    while True:
        serial = "".join(secrets.choice(SERIAL_ALPHABET) for _ in range(SERIAL_LENGTH))
        if session.scalar(select(Badge.id).where(Badge.serial == serial)) is None:
            return serial


def find_employee(session: Session, ref: str) -> Employee | None:
    """An employee by code, else by card number."""
    employee = session.scalar(select(Employee).where(Employee.code == ref))
    if employee is None:
        employee = session.scalar(select(Employee).where(Employee.card_number == ref))
    return employee


def active_badge(session: Session, employee: Employee) -> Badge | None:
    """The employee's badge that is not revoked (there is at most one)."""
    return session.scalar(
        select(Badge).where(Badge.employee_id == employee.id, Badge.revoked_at.is_(None))
        .order_by(Badge.issued_at.desc(), Badge.id.desc())
    )


def _revoke(session: Session, badge: Badge, reason: str, *, now: datetime, actor: str) -> None:
    badge.revoked_at = now
    badge.revoke_reason = reason
    record(session, at=now, actor=actor, action="badge.revoke", target=badge.employee.code,
           details={"serial": badge.serial, "key_id": badge.key_id, "reason": reason})


def _issue(session: Session, employee: Employee, keyring: Keyring, *, now: datetime,
           actor: str) -> Badge:
    key_id = keyring.current_key_id
    badge = Badge(serial=_new_serial(session), employee=employee, employee_id=employee.id,
                  key_id=key_id, issued_at=now)
    session.add(badge)
    session.flush()
    record(session, at=now, actor=actor, action="badge.issue", target=employee.code,
           details={"serial": badge.serial, "key_id": key_id})
    return badge


@dataclass(frozen=True)
class IssueResult:
    issued: list[Badge]
    already_had: list[Employee]


def issue_badges(session: Session, employees: Iterable[Employee], keyring: Keyring, *,
                 now: datetime, actor: str) -> IssueResult:
    """Give a badge to each employee without a current one.

    A badge signed with a retired key is not current: it is revoked (reason "khóa đã ngừng
    dùng") and replaced. Never commits.
    """
    retired = keyring.retired_key_ids()
    keyring.current_key_id  # fail before touching the database when there is no keyring
    issued: list[Badge] = []
    already: list[Employee] = []
    for employee in employees:
        badge = active_badge(session, employee)
        if badge is not None and badge.key_id not in retired:
            already.append(employee)
            continue
        if badge is not None:
            _revoke(session, badge, "khóa ký đã ngừng dùng", now=now, actor=actor)
        issued.append(_issue(session, employee, keyring, now=now, actor=actor))
    return IssueResult(issued, already)


def revoke_badge(session: Session, employee: Employee, reason: str, *, now: datetime,
                 actor: str) -> Badge:
    """Revoke the employee's active badge; later scans of it are refused. Never commits."""
    reason = reason.strip()
    if not reason:
        raise BadgeError("cần ghi lý do thu hồi thẻ")
    badge = active_badge(session, employee)
    if badge is None:
        raise BadgeError(Message("{code} không có thẻ đang hiệu lực", code=employee.code))
    _revoke(session, badge, reason, now=now, actor=actor)
    session.flush()
    return badge


def reissue_badge(session: Session, employee: Employee, keyring: Keyring, *, reason: str,
                  now: datetime, actor: str) -> Badge:
    """Revoke the active badge (if any) and issue a new serial. Never commits."""
    keyring.current_key_id
    badge = active_badge(session, employee)
    if badge is not None:
        _revoke(session, badge, reason or "cấp lại thẻ", now=now, actor=actor)
    return _issue(session, employee, keyring, now=now, actor=actor)


def badge_payload(badge: Badge, keyring: Keyring, base_url: str | None = None) -> str:
    """The QR text of ``badge`` (Ed25519 is deterministic: the same text every time)."""
    code = badge.employee.code
    signature = keyring.sign(badge.key_id, signed_message(code, badge.serial, badge.key_id))
    return format_payload(code, badge.serial, badge.key_id, signature, base_url)


def revoked_serials(session: Session) -> list[str]:
    """The revocation list for stations: every revoked serial."""
    return list(session.scalars(
        select(Badge.serial).where(Badge.revoked_at.is_not(None)).order_by(Badge.serial)
    ))


def trust_bundle(session: Session, keyring: Keyring) -> dict:
    """Everything a station needs to run :func:`verify` offline (JSON-serializable)."""
    return {
        "public_keys": keyring.public_keys(),
        "retired_key_ids": sorted(keyring.retired_key_ids()),
        "revoked_serials": revoked_serials(session),
    }


def check_payload(session: Session, payload: object, keyring: Keyring, *,
                  today: date | None = None, base_url: str | None = None) -> Verification:
    """Server-side check: :func:`verify`, then the badge and employee records.

    A genuine credential whose serial is not the employee's badge on record (lost from the
    database, or belonging to someone else) counts as revoked; an employee who is unknown,
    or no longer active on ``today``, is ``unknown_employee``.
    """
    result = verify(payload, keyring.public_keys(include_retired=True),
                    retired_key_ids=keyring.retired_key_ids(), base_url=base_url)
    if not result.ok:
        return result
    found = dict(employee_code=result.employee_code, serial=result.serial, key_id=result.key_id)
    badge = session.scalar(select(Badge).where(Badge.serial == result.serial))
    if badge is None or badge.employee.code != result.employee_code or badge.revoked_at:
        employee = find_employee(session, result.employee_code or "")
        if employee is None or employee.code != result.employee_code:
            return Verification(False, UNKNOWN_EMPLOYEE, **found)
        return Verification(False, REVOKED, **found)
    if today is not None and not badge.employee.is_active_on(today):
        return Verification(False, UNKNOWN_EMPLOYEE, **found)
    return result


def unit_employees(session: Session, unit_code: str, *, on: date | None = None,
                   subunits: bool = True) -> list[Employee]:
    """Employees of a unit (and its sub-units), active on ``on`` when it is given.

    Raises ``LookupError`` for an unknown unit code.
    """
    root = session.scalar(select(Unit).where(Unit.code == unit_code))
    if root is None:
        raise LookupError(unit_code)
    unit_ids, frontier = {root.id}, [root.id]
    while subunits and frontier:
        frontier = [uid for uid in session.scalars(select(Unit.id).where(Unit.parent_id.in_(frontier)))
                    if uid not in unit_ids]
        unit_ids.update(frontier)
    employees = session.scalars(
        select(Employee).where(Employee.unit_id.in_(unit_ids)).order_by(Employee.code)
    )
    return [e for e in employees if on is None or e.is_active_on(on)]
