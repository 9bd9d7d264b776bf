"""The units kept in memory between requests, while the org version says they are current.

A page of the violation log or a report needs every unit (a province has 2,000): their
codes and names to show, the tree to find a unit's sub-units. ``org_tree`` reads them once
per org version (``attendance.models.org.OrgVersion``, replaced by every change to the
units in the change's own transaction) and answers later calls with one small query.

Kept apart from ``attendance.evaluation``, whose source is part of the stored findings'
fingerprint (``attendance.findings``): a change here must not call every stored day stale.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from attendance.evaluation import OrgTree
from attendance.models import OrgVersion

_CACHED: tuple[str, OrgTree] | None = None  # (org version token, the units under it)


def org_tree(session: Session) -> OrgTree:
    """The units as ``session`` sees them: the tree of an earlier call while the org
    version is the same, read afresh otherwise (and always when there is no version).
    The tree is shared: callers must not change it."""
    global _CACHED
    token = session.scalar(select(OrgVersion.token).where(OrgVersion.id == 1))
    cached = _CACHED
    if token is not None and cached is not None and cached[0] == token:
        return cached[1]
    tree = OrgTree(session)
    if token is not None:
        _CACHED = (token, tree)
    return tree
