"""Views of the public badge page: the page, the holder's photo, the feedback form.

States of a badge as the page shows them:

- ``valid``: a genuine, current badge of an employee in service → 200, the card's fields;
- ``revoked``: a genuine badge that was revoked or replaced → 200, no personal data;
- ``invalid``: anything else (not a credential, forged, signed with a retired key, an
  employee unknown or no longer in service) → 404, no personal data;
- ``unavailable``: the server has no keyring, so nothing can be checked → 503.

The page shows exactly the fields ``attendance.cards`` prints on the card: agency, unit,
kind of card, full name, position, card number, badge serial and the photo. The photo is
served by serial, and only while the badge is currently valid.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass
from datetime import date

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import select

from attendance import badges, cards, photos
from attendance import feedback as service
from attendance.db import instance_path
from attendance.models import Badge, Employee
from web.db import domain_config, get_db, now
from web.i18n import _
from web.org.employee import keyring
from web.public import bp
from web.public.forms import FeedbackForm

VALID, REVOKED, INVALID, UNAVAILABLE = "valid", "revoked", "invalid", "unavailable"
STATUS_CODES = {VALID: 200, REVOKED: 200, INVALID: 404, UNAVAILABLE: 503}
MAX_TOKEN = 512  # a genuine token is about 110 characters


@dataclass(frozen=True)
class PublicCard:
    """What the printed card shows (``attendance.cards.make_card``), minus the QR code."""

    agency: str
    unit: str
    department: str
    title: str
    full_name: str
    position: str
    card_number: str
    serial: str
    photo_url: str | None


def _nfc(text: str | None) -> str:
    return unicodedata.normalize("NFC", text or "").strip()


def _today() -> date:
    return now().astimezone(domain_config().tz).date()


def _card(badge: Badge) -> PublicCard:
    employee: Employee = badge.employee
    has_photo = photos.photo_file(employee.photo, instance_path()) is not None
    agency = _nfc(domain_config().agency)
    unit, department = cards.card_units(employee.unit, agency)
    # Same values, same fallbacks as attendance.cards.make_card.
    return PublicCard(
        agency=agency,
        unit=unit,
        department=department,
        title=cards.CARD_TITLES.get(employee.category or "CC", cards.CARD_TITLES["CC"]),
        full_name=_nfc(employee.full_name),
        position=_nfc(employee.position),
        card_number=_nfc(employee.card_number or employee.code),
        serial=badge.serial,
        photo_url=url_for("public.photo", serial=badge.serial) if has_photo else None,
    )


def _check(token: str) -> tuple[str, Badge | None]:
    """The state of the badge behind ``token`` and, when valid, its record."""
    if len(token) > MAX_TOKEN or badges.parse(token) is None:
        return INVALID, None  # refused before the keyring is even read
    db = get_db()
    try:
        result = badges.check_payload(db, token, keyring(), today=_today())
    except badges.KeyringError:
        current_app.logger.error("public badge page: no usable keyring")
        return UNAVAILABLE, None
    if result.ok:
        badge = db.scalar(select(Badge).where(Badge.serial == result.serial))
        if badge is not None:
            return VALID, badge
    if result.reason == badges.REVOKED:
        return REVOKED, None
    return INVALID, None


def _render(state: str, badge: Badge | None, token: str, form: FeedbackForm | None = None,
            *, status: int | None = None, refusal: str | None = None):
    card = _card(badge) if state == VALID else None
    body = render_template(
        "public/badge.html", state=state, card=card, token=token,
        form=form or (FeedbackForm() if state == VALID else None),
        ratings=service.RATINGS, refusal=refusal, checked_at=now(),
        agency=domain_config().agency,
    )
    response = make_response(body, status or STATUS_CODES[state])
    # Validity can change at any moment: never serve this page from a cache. Officers'
    # pages are not for search engines.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.route("/b/<token>")
def badge(token: str):
    state, record = _check(token)
    return _render(state, record, token)


def _address_secret() -> bytes:
    """The key of ``hash_ip``: derived from the app's secret key, never stored with the data."""
    configured = current_app.config.get("FEEDBACK_IP_SECRET")
    if configured:
        return configured.encode("utf-8") if isinstance(configured, str) else configured
    return hmac.new(str(current_app.config["SECRET_KEY"]).encode("utf-8"),
                    b"service-feedback-ip", hashlib.sha256).digest()


@bp.route("/b/<token>/feedback", methods=["POST"])
def feedback(token: str):
    state, record = _check(token)
    if state != VALID:
        return _render(state, None, token)
    form = FeedbackForm()
    if not form.validate_on_submit():
        return _render(state, record, token, form, status=400)
    # Behind a reverse proxy, wrap the app in werkzeug's ProxyFix so this is the client's.
    ip_hash = service.hash_ip(request.remote_addr or "unknown", _address_secret())
    try:
        result = service.submit_feedback(
            get_db(), serial=record.serial, rating=int(form.rating.data),
            comment=form.comment.data, contact=form.contact.data, ip_hash=ip_hash, now=now())
    except service.FeedbackError:
        return _render(state, record, token, form, status=400,
                       refusal=_("Không gửi được góp ý, vui lòng kiểm tra lại nội dung."))
    if isinstance(result, service.RateLimited):
        if result.scope == "address":
            minutes = max(1, -(-result.retry_after // 60))
            message = _("Bạn đã gửi quá nhiều góp ý. Vui lòng thử lại sau {minutes} phút.",
                        minutes=minutes)
        else:
            message = _("Cán bộ này đã nhận quá nhiều góp ý hôm nay. Vui lòng thử lại sau.")
        response = _render(state, record, token, form, status=429, refusal=message)
        response.headers["Retry-After"] = str(result.retry_after)
        return response
    flash(_("Cảm ơn bạn đã góp ý. Ý kiến của bạn đã được gửi tới thủ trưởng đơn vị."), "success")
    return redirect(url_for("public.badge", token=token), 303)


@bp.route("/b/photo/<serial>")
def photo(serial: str):
    """The holder's photo, only while the badge with this serial is currently valid."""
    if len(serial) > 40:
        abort(404)
    db = get_db()
    record = db.scalar(select(Badge).where(Badge.serial == serial))
    if record is None or record.revoked_at is not None:
        abort(404)
    if not record.employee.is_active_on(_today()):
        abort(404)
    try:
        if record.key_id in keyring().retired_key_ids():
            abort(404)
    except badges.KeyringError:
        abort(404)
    path = photos.photo_file(record.employee.photo, instance_path())
    if path is None:
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=0, conditional=True)
    # Revalidate every time: a revoked badge's photo must stop being served at once.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
