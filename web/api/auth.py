"""Who is calling the API: a station with its bearer key, or a signed-in user.

- ``station_from_request()`` → the active station whose ``key_hash`` is the SHA-256 of the
  ``Authorization: Bearer <key>`` header, as a :class:`CallingStation`, else ``None``. It
  is looked up on every request (one indexed query, no cache), so a deactivated station or
  a replaced key is refused from the next request on;
- ``station_required`` puts it in ``g.station`` or answers 401, and after the view moves
  the station's ``last_seen_at`` when it is a minute or more old — also when the view
  answers with a client error, since a station that sends a bad request is still alive.
  Admins see "last seen" to the minute; a station's requests do not each rewrite its row
  (and on SQLite the request's write transaction starts as late as it can);
- ``api_roles_required(*roles)`` → 401 without a signed-in user, 403 for another role.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps

from flask import current_app, g, request
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlalchemy import bindparam, select, update
from wtforms import ValidationError

from attendance.access import hash_station_key
from attendance.models import Station
from web.db import get_db, now
from web.errors import ApiError
from web.security import ROLES, current_account

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


LAST_SEEN_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class CallingStation:
    """What the API needs of the station behind a request (a plain row, not an ORM object)."""

    id: int
    code: str
    name: str | None
    unit_id: int
    last_seen_at: datetime  # as it will be recorded for this request
    seen_now: bool  # this request moves last_seen_at


_BY_KEY = (select(Station.id, Station.code, Station.name, Station.unit_id, Station.last_seen_at)
           .where(Station.key_hash == bindparam("key_hash"), Station.active.is_(True)))
_MARK_SEEN = (update(Station.__table__).where(Station.__table__.c.id == bindparam("station_id"))
              .values(last_seen_at=bindparam("seen_at")))


def station_from_request() -> CallingStation | None:
    token = bearer_token()
    if token is None or len(token) > 512:
        return None
    # The stored value is a hash, so looking it up by equality leaks nothing useful by timing.
    row = get_db().connection().execute(_BY_KEY, {"key_hash": hash_station_key(token)}).first()
    if row is None:
        return None
    moment = now()
    if row.last_seen_at is not None and abs(moment - row.last_seen_at) < LAST_SEEN_EVERY:
        return CallingStation(row.id, row.code, row.name, row.unit_id, row.last_seen_at, False)
    return CallingStation(row.id, row.code, row.name, row.unit_id, moment, True)


def _mark_seen(station: CallingStation) -> None:
    get_db().connection().execute(_MARK_SEEN, {"station_id": station.id,
                                               "seen_at": station.last_seen_at})


def station_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args, **kwargs):
        station = station_from_request()
        if station is None:
            raise ApiError(401, "a valid station key is required (Authorization: Bearer <key>)")
        g.station = station
        try:
            response = view(*args, **kwargs)
        except ApiError as exc:
            if exc.code < 500 and station.seen_now:
                _commit_last_seen(station)
            raise
        if station.seen_now:
            _mark_seen(station)  # committed with the request
        return response

    wrapped.station_only = True
    return wrapped


def _commit_last_seen(station: CallingStation) -> None:
    """``web.db`` rolls a request back on any status ≥ 400: record the sighting apart."""
    db = get_db()
    db.rollback()
    try:
        _mark_seen(station)
        db.commit()
    except Exception:  # the error answer matters more than the timestamp
        db.rollback()
        current_app.logger.exception("could not record last_seen_at")


def api_roles_required(*roles: str) -> Callable:
    roles = roles or ROLES

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = current_account()
            if user is None:
                raise ApiError(401, "sign in first")
            if request.method not in SAFE_METHODS:
                try:
                    validate_csrf(request.headers.get("X-CSRFToken"))
                except (ValidationError, CSRFError):
                    raise ApiError(403, "missing or invalid X-CSRFToken header") from None
            if user.role not in roles:
                raise ApiError(403, "forbidden")
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(roles)
        return wrapped

    return decorator
