"""Click's own messages in Vietnamese: usage errors and the headings of ``--help``.

Click marks its messages for gettext, but each of its modules calls the ``gettext`` and
``ngettext`` functions it imported (as ``_`` and ``ngettext``), which follow the process's
locale environment and the global ``messages`` domain. ``install`` rebinds those names, in
the click modules that have them, to this catalog, whatever the locale. A message not in
the catalog stays English; ``tests/test_cli_messages.py`` runs the usual mistakes, so a
click release that rewords one shows up there.
"""

from __future__ import annotations

import importlib

MODULES = ("click.core", "click.exceptions", "click.types", "click.parser",
           "click.formatting", "click.decorators", "click.termui", "click.utils")

CATALOG = {
    "Error: {message}": "Lỗi: {message}",
    "Usage:": "Cách dùng:",
    "Try '{command} {option}' for help.": "Xem '{command} {option}' để biết cách dùng.",
    "Options": "Tùy chọn",
    "Commands": "Lệnh",
    "Show this message and exit.": "Hiện hướng dẫn này rồi thoát.",
    "Aborted!": "Đã hủy.",
    "No such command {name!r}.": "Không có lệnh {name!r}.",
    "No such option {name!r}.": "Không có tùy chọn {name!r}.",
    "Missing command.": "Thiếu lệnh.",
    "Missing argument": "Thiếu tham số",
    "Missing option": "Thiếu tùy chọn",
    "Missing parameter": "Thiếu tham số",
    "Missing {param_type}": "Thiếu {param_type}",
    "Invalid value for {param_hint}: {message}":
        "Giá trị không hợp lệ cho {param_hint}: {message}",
    "Invalid value: {message}": "Giá trị không hợp lệ: {message}",
    "{value!r} is not a valid {number_type}.": "{value!r} không phải {number_type} hợp lệ.",
    "{value} is not in the range {range}.": "{value} nằm ngoài khoảng {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}":
        "{value!r} không phải giá trị đúng/sai hợp lệ. Giá trị được nhận: {states}",
    "Option {name!r} does not take a value.": "Tùy chọn {name!r} không nhận giá trị.",
    "{name} {filename!r} does not exist.": "{name} {filename!r} không tồn tại.",
    "{name} {filename!r} is a file.": "{name} {filename!r} là một tệp.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} là một thư mục.",
    "{name} {filename!r} is not readable.": "Không đọc được {name} {filename!r}.",
    "{name} {filename!r} is not writable.": "Không ghi được {name} {filename!r}.",
    "file": "tệp",
    "directory": "thư mục",
    "path": "đường dẫn",
    "Could not open file {filename!r}: {message}": "Không mở được tệp {filename!r}: {message}",
    "default: {default}": "mặc định: {default}",
    "required": "bắt buộc",
    "env var: {var}": "biến môi trường: {var}",
    "Do you want to continue?": "Tiếp tục?",
    "Error: invalid input": "Lỗi: giá trị không hợp lệ",
    "Repeat for confirmation": "Nhập lại để xác nhận",
    "Error: The two entered values do not match.": "Lỗi: hai lần nhập không khớp nhau.",
}
# ngettext's pairs, by the English singular: (one, several).
PLURALS = {
    "Did you mean {possibility}?": ("Có phải ý bạn là {possibility}?",
                                    "(Có phải ý bạn là một trong: {possibilities}?)"),
    "{value!r} is not {choice}.": ("{value!r} không phải {choice}.",
                                   "{value!r} không thuộc {choices}."),
    "{value!r} does not match the format {format}.": (
        "{value!r} không đúng dạng {format}.", "{value!r} không đúng dạng nào trong {formats}."),
    "Option {name!r} requires an argument.": ("Tùy chọn {name!r} cần một giá trị.",
                                              "Tùy chọn {name!r} cần {nargs} giá trị."),
    "Got unexpected extra argument ({args})": ("Thừa tham số ({args})", "Thừa tham số ({args})"),
    "Takes {nargs} values but 1 was given.": ("Cần {nargs} giá trị nhưng chỉ có 1.",
                                              "Cần {nargs} giá trị nhưng có {len}."),
}


def gettext(message: str) -> str:
    return CATALOG.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return PLURALS.get(singular, (singular, plural))[0 if n == 1 else 1]


def install() -> None:
    for name in MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "_"):
            module._ = gettext
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext
