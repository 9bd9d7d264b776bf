"""Citizens' feedback on an officer's service (góp ý về thái độ phục vụ), and who reads it.

A citizen who scans an officer's badge with a phone lands on the badge's public page and may
rate the service (1–5), leave a comment and, if they wish, a way to reach them. Unit heads
read the feedback on their units; inspectors and admins read all of it.

Rate limits, counted in the database so that they hold across gunicorn workers and restarts:

- per address: ``PER_ADDRESS_LIMIT`` submissions within ``PER_ADDRESS_WINDOW`` (sliding);
- per badge: ``PER_BADGE_LIMIT`` submissions within ``PER_BADGE_WINDOW`` (sliding), so one
  officer cannot be flooded from many addresses either.

The counts are of stored feedback (a refused attempt stores nothing). Two submissions that
race each other cannot both slip under a limit: on PostgreSQL the address is serialized by a
transaction-level advisory lock and the badge by a row lock on the badge; on SQLite
``attendance.db.lock_for_write`` takes the database's write lock first.

The address itself is never stored: ``hash_ip`` keys it with a deployment secret (HMAC-SHA256),
so the stored value still counts submissions from one address but cannot be turned back into
the address by trying all 2³² IPv4 addresses without the secret.

Feedback is kept for ``feedback_retention_days`` of the config (default a year); the nightly
purge (``purge_feedback``) deletes what is older, contact details with it.

Functions take a session and never commit; time is an argument.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session, joinedload

from attendance import audit
from attendance.config import Config
from attendance.db import lock_for_write
from attendance.models import Badge, Employee, ServiceFeedback

RATINGS = {
    1: "Rất không hài lòng",
    2: "Không hài lòng",
    3: "Bình thường",
    4: "Hài lòng",
    5: "Rất hài lòng",
}
MAX_COMMENT = 1000
MAX_CONTACT = 200

PER_ADDRESS_LIMIT = 5
PER_ADDRESS_WINDOW = timedelta(hours=1)
PER_BADGE_LIMIT = 20
PER_BADGE_WINDOW = timedelta(days=1)

# First key of the two-key advisory locks (its own key space, apart from one-key locks).
_LOCK_NAMESPACE = 0x47594B  # "GYK", góp ý kiến

# C0/C1 control characters except tab and newline: PostgreSQL refuses NUL in text, and the
# others only serve to garble what a reader sees.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class FeedbackError(ValueError):
    """Feedback that cannot be accepted as given; the message is one Vietnamese sentence."""


@dataclass(frozen=True)
class Limits:
    per_address: int = PER_ADDRESS_LIMIT
    address_window: timedelta = PER_ADDRESS_WINDOW
    per_badge: int = PER_BADGE_LIMIT
    badge_window: timedelta = PER_BADGE_WINDOW


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class RateLimited:
    """A refusal: ``scope`` is ``"address"`` or ``"badge"``; ``retry_after`` in seconds."""

    scope: str
    retry_after: int

    @property
    def message(self) -> str:
        if self.scope == "address":
            return "Bạn đã gửi quá nhiều góp ý trong thời gian ngắn, vui lòng thử lại sau."
        return "Cán bộ này đã nhận quá nhiều góp ý trong hôm nay, vui lòng thử lại sau."


def hash_ip(address: str, secret: str | bytes) -> str:
    """The stored stand-in for a client address: HMAC-SHA256 (hex) keyed by ``secret``."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(key, address.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()


def clean_text(value: str | None, limit: int, what: str) -> str | None:
    """``value`` as stored: NFC, control characters removed, trimmed; None when empty."""
    if value is None:
        return None
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    value = _CONTROL.sub("", value).strip()
    if len(value) > limit:
        raise FeedbackError(f"{what} dài quá {limit} ký tự")
    return value or None


def _lock_address(session: Session, ip_hash: str) -> None:
    lock_for_write(session)
    if session.get_bind().dialect.name == "postgresql":
        key = int(ip_hash[:7], 16)  # 28 bits: fits the signed int4 of the two-key form
        session.execute(text("SELECT pg_advisory_xact_lock(:ns, :key)"),
                        {"ns": _LOCK_NAMESPACE, "key": key})


def _retry_after(session: Session, column, value: str, limit: int, window: timedelta,
                 now: datetime) -> int | None:
    """Seconds until one more submission fits, or None if one fits now."""
    if limit <= 0:
        return max(1, int(window.total_seconds()))
    oldest_counted = session.scalar(
        select(ServiceFeedback.created_at)
        .where(column == value, ServiceFeedback.created_at > now - window)
        .order_by(ServiceFeedback.created_at.desc(), ServiceFeedback.id.desc())
        .offset(limit - 1).limit(1)
    )
    if oldest_counted is None:
        return None
    return max(1, math.ceil((oldest_counted + window - now).total_seconds()))


def submit_feedback(session: Session, *, serial: str, rating: int, comment: str | None,
                    contact: str | None, ip_hash: str, now: datetime,
                    limits: Limits = DEFAULT_LIMITS) -> ServiceFeedback | RateLimited:
    """Store one citizen's feedback on the holder of the active badge ``serial``.

    Returns the new row, or ``RateLimited`` (and stores nothing) when the address or the
    badge has reached its limit. Raises ``FeedbackError`` for a rating outside 1–5, text
    over its length, or a badge that is not active. Never commits.
    """
    if isinstance(rating, bool) or not isinstance(rating, int) or rating not in RATINGS:
        raise FeedbackError("mức độ hài lòng phải từ 1 đến 5")
    comment = clean_text(comment, MAX_COMMENT, "Nội dung góp ý")
    contact = clean_text(contact, MAX_CONTACT, "Thông tin liên hệ")
    if contact is not None:
        contact = " ".join(contact.split())  # one line
    if not re.fullmatch(r"[0-9a-f]{64}", ip_hash or ""):
        raise ValueError("ip_hash must be hash_ip(...)")

    _lock_address(session, ip_hash)
    badge = session.scalar(select(Badge).where(Badge.serial == serial).with_for_update())
    if badge is None or badge.revoked_at is not None:
        raise FeedbackError("thẻ không còn hiệu lực")

    wait = _retry_after(session, ServiceFeedback.ip_hash, ip_hash, limits.per_address,
                        limits.address_window, now)
    if wait is not None:
        return RateLimited("address", wait)
    wait = _retry_after(session, ServiceFeedback.badge_serial, serial, limits.per_badge,
                        limits.badge_window, now)
    if wait is not None:
        return RateLimited("badge", wait)

    feedback = ServiceFeedback(employee_id=badge.employee_id, badge_serial=serial,
                               rating=rating, comment=comment, contact=contact,
                               created_at=now, ip_hash=ip_hash)
    session.add(feedback)
    session.flush()
    return feedback


def list_feedback(session: Session, unit_ids: Collection[int] | None, *,
                  since: datetime | None = None, until: datetime | None = None,
                  employee_id: int | None = None, max_rating: int | None = None,
                  limit: int = 1000) -> list[ServiceFeedback]:
    """Feedback on employees of ``unit_ids`` (None: every unit), newest first.

    ``since``/``until`` bound ``created_at`` (``since`` inclusive, ``until`` exclusive);
    ``max_rating`` keeps only ratings at or below it (e.g. 2: the complaints). Employees and
    their units are loaded with the rows.
    """
    query = (select(ServiceFeedback).join(ServiceFeedback.employee)
             .options(joinedload(ServiceFeedback.employee).joinedload(Employee.unit)))
    if unit_ids is not None:
        if not unit_ids:
            return []
        query = query.where(Employee.unit_id.in_(sorted(unit_ids)))
    if since is not None:
        query = query.where(ServiceFeedback.created_at >= since)
    if until is not None:
        query = query.where(ServiceFeedback.created_at < until)
    if employee_id is not None:
        query = query.where(ServiceFeedback.employee_id == employee_id)
    if max_rating is not None:
        query = query.where(ServiceFeedback.rating <= max_rating)
    query = query.order_by(ServiceFeedback.created_at.desc(), ServiceFeedback.id.desc())
    return list(session.scalars(query.limit(limit)))


def purge_feedback(session: Session, config: Config, now: datetime, *, actor: str) -> int:
    """Delete feedback older than ``config.feedback_retention_days``; returns rows deleted.

    What was deleted (how many, and the retention) is written to the audit log. Never commits.
    """
    cutoff = now - timedelta(days=config.feedback_retention_days)
    deleted = session.execute(
        delete(ServiceFeedback).where(ServiceFeedback.created_at < cutoff)
        .execution_options(synchronize_session=False)
    ).rowcount
    if deleted:
        audit.record(session, actor=actor, action="feedback.purged", at=now,
                     details={"rows": deleted,
                              "retention_days": config.feedback_retention_days})
    return deleted
