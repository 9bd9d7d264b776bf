"""The request's database session and the deployment's config, for views.

``get_db()`` opens one session per request on first use. After the response is built it is
committed when the status is below 400 and rolled back otherwise, then closed: views and the
domain operations they call never commit. A failing commit becomes a 500 answer.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from attendance.config import Config


def get_db() -> Session:
    if "db_session" not in g:
        g.db_session = current_app.extensions["attendance"]["session_factory"]()
    return g.db_session


def domain_config() -> Config:
    return current_app.extensions["attendance"]["config"]


def now() -> datetime:
    """The current instant (aware, UTC); tests replace ``app.config["CLOCK"]``."""
    return current_app.config["CLOCK"]()


def init_app(app: Flask) -> None:
    @app.after_request
    def _commit(response):
        session: Session | None = g.get("db_session")
        if session is not None and session.in_transaction():  # not when the view committed
            if response.status_code < 400:
                session.commit()
            else:
                session.rollback()
        return response

    @app.teardown_request
    def _close(_exc):
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.close()  # rolls back anything left after an error
