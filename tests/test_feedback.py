"""attendance.feedback: storing citizens' feedback, the rate limits, and who reads what.

On a real database (SQLite, and PostgreSQL with ATTENDANCE_TEST_DATABASE_URL); the race test
runs submissions from threads with their own sessions and commits, as gunicorn workers do.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from factories import make_employee, make_unit
from sqlalchemy import func, select

from attendance import feedback as service
from attendance import jobs
from attendance.config import ConfigError, parse_config
from attendance.models import AuditEntry, Badge, ServiceFeedback

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
SECRET = "deployment-secret"


def address(n: int) -> str:
    return service.hash_ip(f"198.51.100.{n}", SECRET)


@pytest.fixture
def world(db_session):
    prov = make_unit(db_session, "PROV", "UBND tỉnh")
    snv = make_unit(db_session, "SNV", "Sở Nội vụ", parent=prov)
    p1 = make_unit(db_session, "SNV-P1", "Phòng Công chức", parent=snv)
    stc = make_unit(db_session, "STC", "Sở Tài chính", parent=prov)
    people = {
        "snv": make_employee(db_session, snv, "E-SNV", "Trần Thị Bình"),
        "p1": make_employee(db_session, p1, "E-P1", "Lê Văn Cường"),
        "stc": make_employee(db_session, stc, "E-STC", "Phạm Minh Dũng"),
    }
    serials = {}
    for key, employee in people.items():
        serial = f"SER{key.upper()}"[:8].ljust(8, "X")
        db_session.add(Badge(serial=serial, employee_id=employee.id, key_id="KEY1",
                             issued_at=NOW - timedelta(days=10)))
        serials[key] = serial
    db_session.flush()
    units = {"PROV": prov.id, "SNV": snv.id, "SNV-P1": p1.id, "STC": stc.id}
    return {"people": people, "serials": serials, "units": units}


def submit(session, serial, *, rating=4, comment="Tận tình", contact=None, ip=1, now=NOW,
           **kwargs):
    return service.submit_feedback(session, serial=serial, rating=rating, comment=comment,
                                   contact=contact, ip_hash=address(ip), now=now, **kwargs)


def test_feedback_is_stored_on_the_badge_holder(db_session, world):
    row = submit(db_session, world["serials"]["p1"], rating=5, contact="  0912\t345 678 ",
                 comment="  Hướng dẫn\r\nrất rõ\x00 ràng\x1b  ")
    assert isinstance(row, ServiceFeedback)
    assert row.employee_id == world["people"]["p1"].id
    assert (row.badge_serial, row.rating, row.created_at) == (world["serials"]["p1"], 5, NOW)
    # Control characters go (PostgreSQL refuses NUL in text); line breaks stay.
    assert row.comment == "Hướng dẫn\nrất rõ ràng"
    assert row.contact == "0912 345 678"
    assert submit(db_session, world["serials"]["p1"], comment="   ", ip=2).comment is None


def test_hash_ip_is_keyed_and_never_the_address():
    hashed = service.hash_ip("203.0.113.7", SECRET)
    assert len(hashed) == 64 and "203" not in hashed
    assert hashed == service.hash_ip("203.0.113.7", SECRET.encode())
    assert hashed != service.hash_ip("203.0.113.7", "another deployment")
    assert hashed != service.hash_ip("203.0.113.8", SECRET)


@pytest.mark.parametrize("rating", [0, 6, -1, True, "5", 4.0, None])
def test_rating_must_be_one_to_five(db_session, world, rating):
    with pytest.raises(service.FeedbackError):
        submit(db_session, world["serials"]["p1"], rating=rating)


def test_text_limits(db_session, world):
    serial = world["serials"]["p1"]
    with pytest.raises(service.FeedbackError):
        submit(db_session, serial, comment="ý" * 1001)
    with pytest.raises(service.FeedbackError):
        submit(db_session, serial, contact="1" * 201)
    assert len(submit(db_session, serial, comment="ý" * 1000).comment) == 1000


def test_only_an_active_badge_takes_feedback(db_session, world):
    badge = db_session.scalar(select(Badge).where(Badge.serial == world["serials"]["p1"]))
    badge.revoked_at = NOW - timedelta(hours=1)
    with pytest.raises(service.FeedbackError):
        submit(db_session, badge.serial)
    with pytest.raises(service.FeedbackError):
        submit(db_session, "NOSUCHXX")
    assert db_session.scalar(select(func.count()).select_from(ServiceFeedback)) == 0


def test_per_address_limit_slides_with_time(db_session, world):
    serial = world["serials"]["p1"]
    times = [NOW + timedelta(minutes=m) for m in (0, 10, 20, 30, 40)]
    for at in times:
        assert isinstance(submit(db_session, serial, now=at), ServiceFeedback)
    refused = submit(db_session, serial, now=NOW + timedelta(minutes=50))
    assert refused == service.RateLimited("address", 10 * 60)
    assert "quá nhiều góp ý" in refused.message
    # The limit is per address and across badges: another badge is refused too, another
    # address is not.
    assert isinstance(submit(db_session, world["serials"]["stc"], now=NOW + timedelta(minutes=50)),
                      service.RateLimited)
    assert isinstance(submit(db_session, serial, ip=2, now=NOW + timedelta(minutes=50)),
                      ServiceFeedback)
    # One hour after the first, one more fits; then it is full again until the second ages.
    assert isinstance(submit(db_session, serial, now=NOW + timedelta(hours=1)), ServiceFeedback)
    again = submit(db_session, serial, now=NOW + timedelta(hours=1, minutes=1))
    assert again == service.RateLimited("address", 9 * 60)
    assert db_session.scalar(select(func.count()).select_from(ServiceFeedback)) == 7


def test_per_badge_limit(db_session, world):
    serial = world["serials"]["p1"]
    for n in range(20):
        assert isinstance(submit(db_session, serial, ip=n, now=NOW + timedelta(minutes=n)),
                          ServiceFeedback)
    refused = submit(db_session, serial, ip=99, now=NOW + timedelta(hours=2))
    assert refused == service.RateLimited("badge", int(timedelta(hours=22).total_seconds()))
    assert "Cán bộ này" in refused.message
    # Other officers are not affected.
    assert isinstance(submit(db_session, world["serials"]["snv"], ip=99,
                             now=NOW + timedelta(hours=2)), ServiceFeedback)
    assert isinstance(submit(db_session, serial, ip=99, now=NOW + timedelta(days=1)),
                      ServiceFeedback)


def test_limits_are_configurable(db_session, world):
    limits = service.Limits(per_address=1, address_window=timedelta(minutes=5))
    serial = world["serials"]["p1"]
    assert isinstance(submit(db_session, serial, limits=limits), ServiceFeedback)
    assert submit(db_session, serial, limits=limits) == service.RateLimited("address", 300)


def _race(session_factory, calls) -> list[object]:
    """Run each call (session -> result) in its own thread and session at the same moment,
    committing as a request would; the results, or the exceptions raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = []
    lock = threading.Lock()

    def worker(call) -> None:
        with session_factory() as session:
            barrier.wait()
            try:
                result = call(session)
                session.commit()
            except Exception as exc:  # noqa: BLE001 -- recorded; the caller asserts none
                session.rollback()
                result = exc
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == len(calls)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    return outcomes


@pytest.fixture
def racing_badges(session_factory) -> list[str]:
    with session_factory() as session:
        unit = make_unit(session, "SNV", "Sở Nội vụ")
        serials = []
        for n in range(12):
            employee = make_employee(session, unit, f"E-{n}", f"Trần Thị Bình {n}")
            serials.append(f"RACE{n:04d}")
            session.add(Badge(serial=serials[-1], employee_id=employee.id, key_id="KEY1",
                              issued_at=NOW))
        session.commit()
    return serials


def _stored(session_factory) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(ServiceFeedback))


def test_racing_submissions_from_one_address_store_no_more_than_its_limit(session_factory,
                                                                          racing_badges):
    # Twelve different officers, one address: only the address lock keeps them apart.
    outcomes = _race(session_factory, [
        lambda session, serial=serial: submit(session, serial, ip=7) for serial in racing_badges
    ])
    assert sum(isinstance(o, service.RateLimited) for o in outcomes) == 12 - 5
    assert _stored(session_factory) == 5


def test_racing_submissions_on_one_badge_store_no_more_than_its_limit(session_factory,
                                                                      racing_badges):
    limits = service.Limits(per_badge=3)
    outcomes = _race(session_factory, [
        lambda session, n=n: submit(session, racing_badges[0], ip=n, limits=limits)
        for n in range(10)
    ])
    assert [o.scope for o in outcomes if isinstance(o, service.RateLimited)] == ["badge"] * 7
    assert _stored(session_factory) == 3


def test_list_feedback_is_scoped_filtered_and_newest_first(db_session, world):
    serials, units = world["serials"], world["units"]
    submit(db_session, serials["snv"], rating=1, comment="<script>alert(1)</script>", ip=1,
           now=NOW)
    submit(db_session, serials["p1"], rating=5, comment="Rất tốt", ip=2,
           now=NOW + timedelta(hours=1))
    submit(db_session, serials["stc"], rating=2, comment="Chờ lâu", ip=3,
           now=NOW + timedelta(hours=2))

    everything = service.list_feedback(db_session, None)
    assert [f.comment for f in everything] == ["Chờ lâu", "Rất tốt", "<script>alert(1)</script>"]
    assert everything[0].employee.unit.code == "STC"  # loaded with the row

    head_of_snv = {units["SNV"], units["SNV-P1"]}
    assert {f.comment for f in service.list_feedback(db_session, head_of_snv)} == {
        "Rất tốt", "<script>alert(1)</script>"}
    assert service.list_feedback(db_session, set()) == []
    assert [f.rating for f in service.list_feedback(db_session, None, max_rating=2)] == [2, 1]
    window = service.list_feedback(db_session, None, since=NOW + timedelta(hours=1),
                                   until=NOW + timedelta(hours=2))
    assert [f.comment for f in window] == ["Rất tốt"]
    mine = service.list_feedback(db_session, None, employee_id=world["people"]["p1"].id)
    assert [f.comment for f in mine] == ["Rất tốt"]
    assert len(service.list_feedback(db_session, None, limit=1)) == 1


def test_the_nightly_purge_deletes_feedback_past_its_retention(session_factory, config):
    assert config.feedback_retention_days == 365
    with session_factory() as session:
        unit = make_unit(session, "SNV", "Sở Nội vụ")
        employee = make_employee(session, unit, "E-1", "Trần Thị Bình")
        session.add(Badge(serial="SER00001", employee_id=employee.id, key_id="KEY1",
                          issued_at=NOW - timedelta(days=800)))
        ages = {"two years": timedelta(days=730),
                "a year and a second": timedelta(days=365, seconds=1),
                "a year": timedelta(days=365), "a month": timedelta(days=31),
                "today": timedelta()}
        for n, (comment, age) in enumerate(ages.items()):
            submit(session, "SER00001", comment=comment, contact="0912 345 678", ip=n,
                   now=NOW - age)
        session.commit()

    def kept() -> list[str]:
        with session_factory() as session:
            return [f.comment for f in service.list_feedback(session, None)]

    def purged() -> list[dict]:
        with session_factory() as session:
            return [json.loads(e.details) for e in session.scalars(
                select(AuditEntry).where(AuditEntry.action == "feedback.purged")
                .order_by(AuditEntry.id))]

    jobs.purge(config, session_factory, NOW)
    assert kept() == ["today", "a month", "a year"]  # a year to the second is still kept
    assert purged() == [{"rows": 2, "retention_days": 365}]

    jobs.purge(config, session_factory, NOW)  # the next night: nothing more, nothing logged
    assert kept() == ["today", "a month", "a year"] and len(purged()) == 1

    shorter = parse_config({**config.model_dump(mode="json", by_alias=True),
                            "feedback_retention_days": 30})
    jobs.purge(shorter, session_factory, NOW)
    assert kept() == ["today"]
    assert purged()[-1] == {"rows": 2, "retention_days": 30}


def test_feedback_retention_is_at_least_a_day(config):
    data = {**config.model_dump(mode="json", by_alias=True), "feedback_retention_days": 0}
    with pytest.raises(ConfigError, match="feedback_retention_days"):
        parse_config(data)
