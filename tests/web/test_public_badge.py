"""The public page of a badge (what a citizen's phone opens) and the feedback form on it.

Real badges signed with a real keyring, real photos stored by attendance.photos, the app's
own HTTP handling; the deployment sets ``public_base_url`` so badges carry URLs.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from PIL import Image
from sqlalchemy import select
from web_helpers import csrf_token

from attendance import badges, cards, photos
from attendance.db import instance_path
from attendance.models import Employee, Scan, ServiceFeedback, Unit
from attendance.models.chain import append

BASE = "https://thecongchuc.quangninh.gov.vn"
AGENCY = "UBND tỉnh Quảng Ninh"
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # the web tests' clock: 10:00 local


@pytest.fixture
def config(config):
    return config.model_copy(update={"public_base_url": BASE, "agency": AGENCY})


@pytest.fixture
def keyring(make_keyring):
    return make_keyring(NOW - timedelta(days=400))


def jpeg(color=(180, 120, 90), size=(300, 400)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def officer(session_factory, province, keyring, config):
    """An employee of SNV-P1 with every field filled, a photo, a badge and a day of scans."""
    with session_factory() as session:
        unit = session.get(Unit, province["SNV-P1"])
        employee = Employee(
            code="NV-ZX9Q7", full_name="Nguyễn Thị Hoà Bình", unit=unit,
            position="Chuyên viên chính", category="VC", card_number="QN-004217",
            email="hoabinh.nguyen@example.gov.vn", start_date=date(2019, 3, 15),
            end_date=date(2031, 12, 31), schedule="default",
        )
        session.add(employee)
        session.flush()
        employee.photo = photos.store_photo(jpeg(), instance_path(), employee.id)
        badge = badges.issue_badges(session, [employee], keyring, now=NOW - timedelta(days=30),
                                    actor="test").issued[0]
        append(session, Scan(source="station:CONG-SNV", station_id=province["station"],
                             event_id="ev-1", employee_id=employee.id, badge_serial=badge.serial,
                             status="accepted", payload="x",
                             scanned_at=datetime(2026, 11, 23, 0, 42, tzinfo=UTC),
                             received_at=datetime(2026, 11, 23, 0, 42, 5, tzinfo=UTC)),
               "scan:CONG-SNV")
        payload = badges.badge_payload(badge, keyring, config.public_base_url)
        card = cards.make_card(badge, payload, agency=config.agency)
        session.commit()
        return {"id": employee.id, "serial": badge.serial, "payload": payload, "card": card,
                "photo": (instance_path() / employee.photo).read_bytes()}


def fetch(client, url: str) -> tuple[int, str, bytes]:
    """Status, media type and body of a GET, with the response closed (files stay open
    until then)."""
    with client.get(url) as response:
        return response.status_code, response.mimetype, response.get_data()


def path_of(payload: str) -> str:
    assert payload.startswith(BASE + "/b/"), payload
    return payload[len(BASE):]


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style"}:
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in {"script", "style"} and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def test_the_public_page_shows_no_field_beyond_those_on_the_card(client, officer, session_factory):
    response = client.get(path_of(officer["payload"]))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = visible_text(html)
    assert "Thẻ đang có hiệu lực" in text

    # Every field the printed card shows (attendance.cards decides what that is) ...
    card = officer["card"]
    for shown in (card.agency, card.unit, card.department, card.title, card.full_name,
                  card.position, card.card_number, card.serial):
        assert shown in text, shown
    assert card.card_number == "QN-004217" and card.title == "THẺ VIÊN CHỨC"
    # The Sở the phòng belongs to, as the card's band names it.
    assert (card.unit, card.department) == ("Sở Nội vụ", "Phòng Công chức")

    # ... and nothing else of the record, nor any attendance data.
    with session_factory() as session:
        employee = session.get(Employee, officer["id"])
        scan = session.scalar(select(Scan).where(Scan.employee_id == employee.id))
        hidden = [employee.email, employee.email.split("@")[0],
                  employee.start_date.isoformat(), employee.end_date.isoformat(),
                  employee.start_date.strftime("%d/%m/%Y"), employee.end_date.strftime("%d/%m/%Y"),
                  "2019", "2031", "07:42", scan.scanned_at.isoformat(), "default",
                  "Sở Tài chính"]
    for secret in hidden:
        assert secret not in text, secret
        assert secret not in html, secret
    words = set(re.findall(r"[\w-]+", text))
    assert employee.code not in words  # the card prints the card number, not the code
    assert employee.category not in words  # only the title derived from it

    # The photo is the stored one, served by serial.
    photo_url = f"/b/photo/{officer['serial']}"
    assert f'src="{photo_url}"' in html
    assert fetch(client, photo_url) == (200, "image/jpeg", officer["photo"])
    assert f"/employees/{officer['id']}" not in html  # no link into the staff pages

    # Never cached, not for search engines; works without scripts, nothing from elsewhere.
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert "<script" not in html
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)
    assert fetch(client, "/public/static/public.css")[0] == 200


def test_placeholder_when_no_photo_is_on_file(client, officer, session_factory):
    with session_factory() as session:
        session.get(Employee, officer["id"]).photo = None
        session.commit()
    html = client.get(path_of(officer["payload"])).get_data(as_text=True)
    assert "<img" not in html and 'class="id-photo id-placeholder"' in html
    assert client.get(f"/b/photo/{officer['serial']}").status_code == 404


def test_a_revoked_badge_says_so_and_shows_nobody(client, officer, session_factory, keyring,
                                                  config):
    with session_factory() as session:
        employee = session.get(Employee, officer["id"])
        fresh = badges.reissue_badge(session, employee, keyring, reason="mất thẻ", now=NOW,
                                     actor="test")
        new_payload = badges.badge_payload(fresh, keyring, config.public_base_url)
        session.commit()
    response = client.get(path_of(officer["payload"]))
    assert response.status_code == 200
    text = visible_text(response.get_data(as_text=True))
    assert "Thẻ đã bị thu hồi" in text and "Thẻ đang có hiệu lực" not in text
    for personal in ("Nguyễn Thị Hoà Bình", "QN-004217", "Chuyên viên chính", "Phòng Công chức"):
        assert personal not in text
    assert client.get(f"/b/photo/{officer['serial']}").status_code == 404
    # The new badge is the valid one.
    assert "Thẻ đang có hiệu lực" in client.get(path_of(new_payload)).get_data(as_text=True)
    assert fetch(client, f"/b/photo/{fresh.serial}")[0] == 200


def _flip(text: str, index: int) -> str:
    char = text[index]
    return text[:index] + ("B" if char == "A" else "A") + text[index + 1:]


def test_tampered_and_garbage_tokens_are_invalid(client, officer):
    token = path_of(officer["payload"])[len("/b/"):]
    fields = token.split(".")
    tampered = [
        _flip(token, len(token) - 5),  # the signature
        ".".join([fields[0], "NV-ZX9Q8", *fields[2:]]),  # another employee
        ".".join([fields[0], fields[1], _flip(fields[2], 0), *fields[3:]]),  # another serial
        ".".join([*fields[:3], "ZZZZ", fields[4]]),  # a key nobody has
    ]
    garbage = ["x", "TCC1", "TCC1.....", "%3Cscript%3Ealert(1)%3C", "%F0%9F%98%80",
               "TCC1." + "A" * 3000, "TCC1%00NV", "TCC1%7CNV-ZX9Q7%7CAAAA"]
    for candidate in tampered + garbage:
        response = client.get("/b/" + candidate)
        assert response.status_code == 404, candidate
        html = response.get_data(as_text=True)
        text = visible_text(html)
        assert "Thẻ không hợp lệ" in text, candidate
        assert "Traceback" not in html and "Nguyễn Thị Hoà Bình" not in text
        assert "<script>alert" not in html
        post = client.post(f"/b/{candidate}/feedback",
                           data={"rating": "5", "csrf_token": csrf_token(client, "/auth/login")})
        assert post.status_code == 404, candidate


def test_an_employee_no_longer_in_service_has_no_valid_badge(client, officer, session_factory):
    with session_factory() as session:
        session.get(Employee, officer["id"]).end_date = date(2026, 11, 20)
        session.commit()
    response = client.get(path_of(officer["payload"]))
    assert response.status_code == 404
    text = visible_text(response.get_data(as_text=True))
    assert "Thẻ không hợp lệ" in text and "Nguyễn Thị Hoà Bình" not in text
    assert client.get(f"/b/photo/{officer['serial']}").status_code == 404


def test_without_a_keyring_the_page_says_it_cannot_check(app, client, officer, tmp_path):
    app.config["KEYS_DIR"] = str(tmp_path / "no-keys")
    response = client.get(path_of(officer["payload"]))
    assert response.status_code == 503
    text = visible_text(response.get_data(as_text=True))
    assert "Chưa kiểm tra được thẻ" in text and "Thẻ không hợp lệ" not in text


# --- feedback --------------------------------------------------------------------------------


def send(client, payload: str, address: str = "203.0.113.7", **fields):
    path = path_of(payload)
    token = csrf_token(client, path)
    data = {"rating": "4", "comment": "Cán bộ hướng dẫn tận tình.", "contact": "",
            "csrf_token": token, **fields}
    return client.post(path + "/feedback", data=data, environ_base={"REMOTE_ADDR": address})


def stored(session_factory) -> list[ServiceFeedback]:
    with session_factory() as session:
        return list(session.scalars(select(ServiceFeedback).order_by(ServiceFeedback.id)))


def test_feedback_is_stored_with_a_hashed_address(client, officer, session_factory):
    response = send(client, officer["payload"], rating="5", contact="0912 345 678",
                    comment="Rất nhiệt tình\r\nvà chu đáo")
    assert response.status_code == 303
    assert response.headers["Location"] == path_of(officer["payload"])
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Cảm ơn bạn đã góp ý" in thanks
    [row] = stored(session_factory)
    assert (row.employee_id, row.badge_serial, row.rating) == (officer["id"], officer["serial"], 5)
    assert row.comment == "Rất nhiệt tình\nvà chu đáo" and row.contact == "0912 345 678"
    assert row.created_at == NOW
    assert re.fullmatch(r"[0-9a-f]{64}", row.ip_hash) and "203.0.113.7" not in row.ip_hash


def test_feedback_needs_the_csrf_token(client, officer, session_factory):
    path = path_of(officer["payload"])
    response = client.post(path + "/feedback", data={"rating": "1", "comment": "x"})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)
    assert stored(session_factory) == []


def test_feedback_form_errors_are_vietnamese(client, officer, session_factory):
    response = send(client, officer["payload"], rating="")
    assert response.status_code == 400
    assert "Vui lòng chọn mức độ hài lòng" in response.get_data(as_text=True)
    response = send(client, officer["payload"], rating="9")
    assert response.status_code == 400
    response = send(client, officer["payload"], comment="ý" * 1001)
    assert response.status_code == 400 and "Quá dài" in response.get_data(as_text=True)
    assert stored(session_factory) == []
    assert send(client, officer["payload"], comment="ý" * 1000).status_code == 303


def test_rate_limit_per_address(client, officer, session_factory, clock):
    for _ in range(5):
        assert send(client, officer["payload"]).status_code == 303
    refused = send(client, officer["payload"])
    assert refused.status_code == 429
    assert "Bạn đã gửi quá nhiều góp ý. Vui lòng thử lại sau 60 phút." in refused.get_data(
        as_text=True)
    assert 0 < int(refused.headers["Retry-After"]) <= 3601
    assert len(stored(session_factory)) == 5
    # Another address is not held back; the first one is again an hour later.
    assert send(client, officer["payload"], address="198.51.100.9").status_code == 303
    clock.now = NOW + timedelta(hours=1, seconds=1)
    assert send(client, officer["payload"]).status_code == 303


def test_rate_limit_per_badge(client, officer, session_factory, clock):
    for i in range(20):
        clock.now = NOW + timedelta(minutes=i)
        assert send(client, officer["payload"], address=f"198.51.100.{i}").status_code == 303
    refused = send(client, officer["payload"], address="192.0.2.1")
    assert refused.status_code == 429
    assert "Cán bộ này đã nhận quá nhiều góp ý hôm nay" in refused.get_data(as_text=True)
    assert len(stored(session_factory)) == 20
    clock.now = NOW + timedelta(days=1, seconds=1)
    assert send(client, officer["payload"], address="192.0.2.1").status_code == 303


def test_no_feedback_on_a_revoked_badge(client, officer, session_factory, keyring):
    path = path_of(officer["payload"])
    token = csrf_token(client, path)
    with session_factory() as session:
        badges.revoke_badge(session, session.get(Employee, officer["id"]), "mất thẻ", now=NOW,
                            actor="test")
        session.commit()
    response = client.post(path + "/feedback", data={"rating": "1", "csrf_token": token})
    assert response.status_code == 200  # the revoked page, no form
    assert "Thẻ đã bị thu hồi" in response.get_data(as_text=True)
    assert 'name="rating"' not in response.get_data(as_text=True)
    assert stored(session_factory) == []


# --- reading feedback ------------------------------------------------------------------------


@pytest.fixture
def comments(client, officer, session_factory, keyring, province, config):
    """Feedback on the SNV-P1 officer (one with a script in it) and on e_stc (STC)."""
    send(client, officer["payload"], rating="1",
         comment='<script>alert("x")</script> Thái độ không tốt')
    send(client, officer["payload"], address="198.51.100.2", rating="5", comment="Rất tốt")
    with session_factory() as session:
        other = session.get(Employee, province["e_stc"])
        badge = badges.issue_badges(session, [other], keyring, now=NOW, actor="test").issued[0]
        payload = badges.badge_payload(badge, keyring, config.public_base_url)
        session.commit()
    send(client, payload, address="198.51.100.3", rating="2", comment="Chờ lâu ở Sở Tài chính")
    assert len(stored(session_factory)) == 3


def test_unit_head_reads_only_their_units_feedback_escaped(app, comments, login_as):
    client = login_as("head_snv")
    response = client.get("/feedback")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Thái độ không tốt" in html and "Rất tốt" in html
    assert "Chờ lâu ở Sở Tài chính" not in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "Nguyễn Thị Hoà Bình" in html
    low = client.get("/feedback?rating=low").get_data(as_text=True)
    assert "Thái độ không tốt" in low and "Rất tốt" not in low
    assert client.get("/feedback?unit=STC").status_code == 404


def test_inspector_reads_every_unit(app, comments, login_as):
    client = login_as("inspector")
    html = client.get("/feedback").get_data(as_text=True)
    for comment in ("Thái độ không tốt", "Rất tốt", "Chờ lâu ở Sở Tài chính"):
        assert comment in html
    assert "3 góp ý · Điểm trung bình: 2,7/5" in html  # (1 + 5 + 2) / 3, a decimal comma
    only_stc = client.get("/feedback?unit=STC").get_data(as_text=True)
    assert "Chờ lâu ở Sở Tài chính" in only_stc and "Rất tốt" not in only_stc


def test_staff_cannot_read_feedback(comments, login_as):
    assert login_as("staff_snv").get("/feedback").status_code == 403
