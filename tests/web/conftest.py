"""Fixtures of the web tests: an app on the test database, a small province, a user per role.

The province:  PROV ─┬─ SNV ── SNV-P1      (head: head_snv, unit SNV)
                     └─ STC                (another branch)
Employees: e_snv (SNV, the staff user's own record), e_p1 (SNV-P1), e_stc (STC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from argon2 import PasswordHasher

from attendance import access
from factories import make_employee, make_station, make_unit, make_user
from web import create_app
from web_helpers import PASSWORD, login  # noqa: F401

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)  # Monday 10:00 in Hà Nội


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """Argon2 with tiny parameters: the tests check behaviour, not the hashing cost."""
    monkeypatch.setattr(access, "password_hasher",
                        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    monkeypatch.setattr(access, "_dummy_hash", None)


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def app_with(database_url, clock):
    """``app_with(config)``: the test app on a domain config of the test's own (a local
    holiday, named schedules); its engine is let go after the test."""
    made = []

    def make(config):
        made.append(create_app({
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "DOMAIN_CONFIG": config,
            "CLOCK": clock,
        }))
        return made[-1]

    yield make
    for app in made:
        app.extensions["attendance"]["engine"].dispose()


@pytest.fixture
def app(app_with, config):
    return app_with(config)


@pytest.fixture
def client(app):
    return app.test_client()


@dataclass
class Province:
    ids: dict[str, int]
    station_key: str

    def __getitem__(self, name: str) -> int:
        return self.ids[name]


@pytest.fixture
def province(session_factory) -> Province:
    with session_factory() as session:
        prov = make_unit(session, "PROV", "UBND tỉnh")
        snv = make_unit(session, "SNV", "Sở Nội vụ", parent=prov)
        p1 = make_unit(session, "SNV-P1", "Phòng Công chức", parent=snv)
        stc = make_unit(session, "STC", "Sở Tài chính", parent=prov)
        e_snv = make_employee(session, snv, "E-SNV", "Trần Thị Bình")
        e_p1 = make_employee(session, p1, "E-P1", "Lê Văn Cường")
        e_stc = make_employee(session, stc, "E-STC", "Phạm Minh Dũng")
        make_user(session, "admin", "admin")
        make_user(session, "inspector", "inspector")
        make_user(session, "head_snv", "unit_head", unit=snv)
        make_user(session, "staff_snv", "staff", employee=e_snv)
        make_user(session, "retired", "inspector", active=False)
        station, key = make_station(session, snv, "CONG-SNV")
        session.commit()
        ids = {"PROV": prov.id, "SNV": snv.id, "SNV-P1": p1.id, "STC": stc.id,
               "e_snv": e_snv.id, "e_p1": e_p1.id, "e_stc": e_stc.id, "station": station.id}
    return Province(ids, key)


@pytest.fixture
def login_as(client, province):
    def sign_in(username: str):
        response = login(client, username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return sign_in
