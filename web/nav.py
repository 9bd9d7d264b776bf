"""The navigation bar: which links each role sees.

A feature adds its page with ``NAV.append(NavItem(endpoint, label, roles, order))`` in its
blueprint package; the label is Vietnamese and translated like any UI string.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for

ALL_ROLES = frozenset({"admin", "inspector", "unit_head", "staff"})


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    roles: frozenset[str]
    order: int = 50
    context: str | None = None  # see web.i18n: "list" names a collection ("Units")


NAV: list[NavItem] = []


def nav_for(role: str | None) -> list[tuple[str, str, str]]:
    """(url, label, endpoint) of the links ``role`` sees, in order."""
    from web.i18n import _

    items = sorted((i for i in NAV if role in i.roles), key=lambda i: (i.order, i.endpoint))
    return [(url_for(i.endpoint), _(i.label, context=i.context), i.endpoint) for i in items]
