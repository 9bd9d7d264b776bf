"""Vietnamese text for the user that the web can show in another language.

The domain speaks Vietnamese: an error's message, a holiday's name. Both classes here are
``str``, the Vietnamese text, wherever a string is used (the command line, the API, exports,
``str(exc)``); they also keep what the web needs to show them in the user's language
(``web.i18n._`` does it):

- ``Message``: a sentence with values, ``Message("đơn đã được xử lý ({status})",
  status=Message("đã duyệt"))``. The web looks ``template`` up in its catalog like any UI
  string and fills in the values; a value that is a ``Message`` or a ``Translated`` is
  translated too, any other (a code, a name, a number, what the user typed) is shown as it
  is. A sentence without values needs no ``Message``: the web looks a plain string up too.
- ``Translated``: a text the catalog cannot list, which brings its translations along (a
  holiday's name, which the ``holidays`` library gives in English).
"""

from __future__ import annotations

from collections.abc import Iterable


class Message(str):
    template: str
    values: dict[str, object]

    def __new__(cls, template: str, /, **values: object) -> Message:
        message = super().__new__(cls, template.format(**values) if values else template)
        message.template, message.values = template, values
        return message


def join(separator: str, items: Iterable[str]) -> Message:
    """``items`` one after another, each translated on its own (a list inside a sentence)."""
    values = {f"item{i}": item for i, item in enumerate(items)}
    return Message(separator.join(f"{{{name}}}" for name in values), **values)


class Translated(str):
    translations: dict[str, str]

    def __new__(cls, text: str, /, **translations: str) -> Translated:
        translated = super().__new__(cls, text)
        translated.translations = translations
        return translated
