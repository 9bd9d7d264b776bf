"""The units kept in memory (attendance.org.org_tree): the same tree while the org version
is the same; every change to the units, made through the ORM, is seen at once."""

from __future__ import annotations

from sqlalchemy import delete, select

from attendance.models import OrgVersion, Unit
from attendance.org import org_tree
from factories import make_unit


def test_the_tree_is_kept_until_the_units_change(session_factory):
    with session_factory() as session:
        make_unit(session, "PROV", "UBND tỉnh")
        session.commit()
        first = org_tree(session)
        assert org_tree(session) is first  # no unit changed: no second read
        assert [u.name for u in first.units.values()] == ["UBND tỉnh"]

    with session_factory() as session:  # another request renames it
        session.scalar(select(Unit)).name = "Ủy ban nhân dân tỉnh"
        session.commit()
    with session_factory() as session:
        renamed = org_tree(session)
        assert [u.name for u in renamed.units.values()] == ["Ủy ban nhân dân tỉnh"]

        make_unit(session, "SNV", "Sở Nội vụ", parent=session.scalar(select(Unit)))
        grown = org_tree(session)  # the transaction's own change, flushed, is seen too
        assert sorted(u.code for u in grown.units.values()) == ["PROV", "SNV"]
        session.rollback()
        assert [u.code for u in org_tree(session).units.values()] == ["PROV"]  # rolled back


def test_without_a_version_the_units_are_read_each_time(session_factory):
    with session_factory() as session:
        make_unit(session, "PROV", "UBND tỉnh")
        session.execute(delete(OrgVersion))  # as a writer outside the ORM would leave it
        session.commit()
        assert org_tree(session) is not org_tree(session)
