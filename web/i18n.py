"""UI language: Vietnamese by default, English on request.

Strings are written in Vietnamese in templates and views, ``_("Đăng nhập")``, and looked up
in ``EN`` when the user chose English (``web/translations_en.py``). A missing entry falls
back to Vietnamese; ``tests/web/test_i18n.py`` checks that every string used has one.
Placeholders use ``str.format``: ``_("Trang {page}", page=2)``.

The domain's Vietnamese (errors, holiday names) comes through ``_()`` too: a
``attendance.messages.Message`` is looked up by its template, with its values; a
``Translated`` brings its own English. ``error_text(exc)`` gives a domain error's message.

Where English words one Vietnamese text in two ways, a ``context`` tells the uses apart:
``_("Đơn vị", context="list")`` looks up ``"list|Đơn vị"`` ("Units", the page of all units,
a kind of data) before ``"Đơn vị"`` ("Unit", one unit's column or field).

Vietnamese nouns have no plural; English ones say it in the placeholder:
``"late on {late:day|days} or more"`` gives "late on 1 day or more", "late on 3 days or more"
(the number, a space, then the singular for exactly 1 and the plural otherwise).
"""

from __future__ import annotations

import string

from flask import Flask, g, session
from flask_login import current_user

from attendance.messages import Message, Translated
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


class _Formatter(string.Formatter):
    def format_field(self, value, format_spec: str) -> str:
        if "|" in format_spec:  # never part of a standard format spec
            singular, plural = format_spec.split("|", 1)
            return f"{value} {singular if value == 1 and not isinstance(value, bool) else plural}"
        return super().format_field(value, format_spec)


_formatter = _Formatter()


def _(text: str, context: str | None = None, **values) -> str:
    if isinstance(text, Message):  # from the domain: its template, and its parts translated
        values = {key: _(value) if isinstance(value, (Message, Translated)) else value
                  for key, value in text.values.items()}
        text = text.template
    if current_language() == "en":
        if isinstance(text, Translated):
            return text.translations.get("en", text)
        text = EN.get(f"{context}|{text}" if context else text) or EN.get(text, text)
    if not values:
        return text
    return _formatter.vformat(text, (), values) if "|" in text else text.format(**values)


def error_text(exc: Exception) -> str:
    """A domain error's message (a plain sentence or an ``attendance.messages.Message``) in
    the user's language."""
    return _(exc.args[0]) if exc.args and isinstance(exc.args[0], str) else str(exc)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(_=_, current_language=current_language, LANGUAGES=LANGUAGES)
