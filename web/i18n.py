"""UI language: Vietnamese by default, English on request.

Strings are written in Vietnamese in templates and views, ``_("Đăng nhập")``, and looked up
in ``EN`` when the user chose English (``web/translations_en.py``). A missing entry falls
back to Vietnamese; ``tests/web/test_i18n.py`` checks that every string used has one.
Placeholders use ``str.format``: ``_("Trang {page}", page=2)``.

Where English words one Vietnamese text in two ways, a ``context`` tells the uses apart:
``_("Đơn vị", context="list")`` looks up ``"list|Đơn vị"`` ("Units", the page of all units,
a kind of data) before ``"Đơn vị"`` ("Unit", one unit's column or field).
"""

from __future__ import annotations

from flask import Flask, g, session
from flask_login import current_user

from web.translations_en import EN

LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}
DEFAULT_LANGUAGE = "vi"


def current_language() -> str:
    if "language" not in g:
        language = session.get("lang")
        if current_user and current_user.is_authenticated:
            language = current_user.record.language or language
        g.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    return g.language


def _(text: str, context: str | None = None, **values) -> str:
    if current_language() == "en":
        text = EN.get(f"{context}|{text}" if context else text) or EN.get(text, text)
    return text.format(**values) if values else text


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(_=_, current_language=current_language, LANGUAGES=LANGUAGES)
