"""End-to-end fixtures: the real app on 127.0.0.1 over the demo province, driven by Chromium.

One server per test session: a fresh database (SQLite, or PostgreSQL in the suite's
PostgreSQL run) loaded with the demo province of ``config/example-province.toml`` as of
Monday 23/11/2026 10:00 (the app's clock is fixed there, so "who is expected now" and
"today" do not depend on when the suite runs), plus an employee named like a spreadsheet
formula with a late arrival on 20/11. Werkzeug serves the app from a thread. Chromium is
Debian's (``/usr/bin/chromium``), driven by Playwright; the suite never downloads a browser.
"""

from __future__ import annotations

import os
import threading
from datetime import date, datetime

import pytest

playwright_sync = pytest.importorskip("playwright.sync_api")

from e2e_helpers import (  # noqa: E402
    CHROMIUM, CHROMIUM_ARGS, EXAMPLE, FORMULA_CODE, FORMULA_NAME, NOW, PASSWORD, TODAY,
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def e2e_server(tmp_path_factory, session_database_url):
    """(base URL, session factory, config) of the running app."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium; make test does)")
    from werkzeug.serving import make_server

    from attendance.config import load_config
    from attendance.db import make_engine, make_session_factory
    from attendance.demo import load_demo
    from web import create_app

    folder = tmp_path_factory.mktemp("e2e")
    previous = os.environ.get("ATTENDANCE_INSTANCE")
    os.environ["ATTENDANCE_INSTANCE"] = str(folder / "instance")
    engine = make_engine(session_database_url)
    config = load_config(EXAMPLE)
    factory = make_session_factory(engine)
    with factory() as session:
        load_demo(session, config, today=TODAY, now=NOW, badges=False)
        _formula_employee(session, config)
        session.commit()
    app = create_app({"DATABASE_URL": session_database_url, "DOMAIN_CONFIG": config,
                      "CLOCK": lambda: NOW, "SECRET_KEY": "e2e-secret",
                      "DASHBOARD_REFRESH_SECONDS": 2})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", factory, config
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["attendance"]["engine"].dispose()
        engine.dispose()
        if previous is None:
            os.environ.pop("ATTENDANCE_INSTANCE", None)
        else:
            os.environ["ATTENDANCE_INSTANCE"] = previous


def _formula_employee(session, config) -> None:
    """An employee of the unit head's unit named like a formula, who joined on 20/11 and was
    late that day (07:50)."""
    from sqlalchemy import select

    from attendance.models import Employee, Scan, Unit, User
    from attendance.models.chain import append

    head = session.scalar(select(User).where(User.username == "thutruong"))
    unit = session.get(Unit, head.unit_id)
    employee = Employee(code=FORMULA_CODE, full_name=FORMULA_NAME, unit_id=unit.id,
                        position="-Chuyên viên", category="CC",
                        start_date=date(2026, 11, 20))
    session.add(employee)
    session.flush()
    for hms in ("07:50", "16:40"):
        at = datetime.combine(date(2026, 11, 20), datetime.strptime(hms, "%H:%M").time(),
                              config.tz)
        append(session, Scan(source="import:e2e", event_id=f"e2e-{hms}", employee_id=employee.id,
                             status="accepted", scanned_at=at, station_time=at, received_at=at,
                             flags=""), "scan:import")


@pytest.fixture(scope="session")
def browser():
    with playwright_sync.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def sign_in(browser, e2e_server):
    """``sign_in(username, **context options)`` → a page signed in on the home page."""
    base, _, _ = e2e_server
    contexts = []

    def open_as(username: str, **options):
        options.setdefault("viewport", {"width": 1280, "height": 860})
        context = browser.new_context(base_url=base, locale="vi-VN", accept_downloads=True,
                                      **options)
        contexts.append(context)
        page = context.new_page()
        page.goto("/auth/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        return page

    yield open_as
    for context in contexts:
        context.close()
