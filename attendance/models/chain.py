"""Hash chains that make append-only records tamper-evident.

Each chained record belongs to a *stream* (one per station, per unit, or the audit log) and
carries its position ``seq`` in that stream, the hash of the previous record and its own
hash over its content. ``ChainHead`` keeps the last position of each stream; appending locks
only that one row, so writes to different streams never wait for each other.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timezone
from collections.abc import Mapping
from typing import Any, ClassVar

from sqlalchemy import (
    String, UniqueConstraint, bindparam, event, insert, inspect, select, text, update,
)
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column

from attendance.db import Base, lock_for_write

GENESIS = "0" * 64
# Columns of a chained record that may change after the fact: housekeeping, not evidence.
MUTABLE_COLUMNS = {"evidence_path"}


class AppendOnlyError(RuntimeError):
    """An attempt to change or delete a record of an append-only log."""


class ChainHead(Base):
    __tablename__ = "chain_heads"

    stream: Mapped[str] = mapped_column(String(120), primary_key=True)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    return value


class Chained:
    """Mixin for append-only records. Subclasses list the columns that the hash covers."""

    chain_fields: ClassVar[tuple[str, ...]]

    stream: Mapped[str] = mapped_column(String(120))
    seq: Mapped[int]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    @declared_attr.directive
    def __table_args__(cls):  # noqa: N805 - SQLAlchemy's declared_attr takes the class
        return (UniqueConstraint("stream", "seq"),)

    def content(self) -> dict[str, Any]:
        return {name: _canonical(getattr(self, name)) for name in self.chain_fields}

    def compute_hash(self) -> str:
        body = json.dumps(
            {"stream": self.stream, "seq": self.seq, "prev": self.prev_hash, "content": self.content()},
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(body.encode()).hexdigest()


# INSERT a stream's first head or, when it exists, rewrite it unchanged; RETURNING the row.
# One statement (the same on PostgreSQL and SQLite) that both creates a missing head and
# locks it for the rest of the transaction: a row lock on PostgreSQL (a second writer waits,
# then reads what the first committed), the database's write lock on SQLite. Two writers
# starting a new stream at once do not fail either: the second waits, then finds the row.
_LOCK_HEAD = text(
    "INSERT INTO chain_heads (stream, seq, hash) VALUES (:stream, 0, :genesis) "
    "ON CONFLICT (stream) DO UPDATE SET seq = chain_heads.seq RETURNING stream, seq, hash"
).bindparams(genesis=GENESIS).columns(ChainHead.stream, ChainHead.seq, ChainHead.hash)


def lock_head(session: Session, stream: str) -> ChainHead:
    """The stream's head row (created when missing), locked until the caller commits.

    One statement; the ORM object in the session is refreshed with what the database holds.
    """
    return session.scalars(select(ChainHead).from_statement(_LOCK_HEAD), {"stream": stream},
                           execution_options={"populate_existing": True}).one()


def _link(head: ChainHead, record, stream: str) -> None:
    record.stream = stream
    record.seq = head.seq + 1
    record.prev_hash = head.hash
    record.hash = record.compute_hash()
    head.seq = record.seq
    head.hash = record.hash


def append(session: Session, record: Chained, stream: str) -> Chained:
    """Link ``record`` to the end of ``stream`` and add it to the session.

    The stream's head row is locked (:func:`lock_head`) until the caller commits.
    """
    _apply_defaults(record)
    _link(lock_head(session, stream), record, stream)
    session.add(record)
    return record


def _apply_defaults(record: Chained) -> None:
    """Fill scalar column defaults now, so that the hash covers the values that are stored."""
    for column in record.__table__.columns:
        default = column.default
        if default is not None and default.is_scalar and getattr(record, column.key) is None:
            setattr(record, column.key, default.arg)


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_evidence(session: Session, _context, _instances) -> None:
    for obj in session.deleted:
        if isinstance(obj, Chained):
            raise AppendOnlyError(f"{type(obj).__name__} {obj.id} cannot be deleted")
    for obj in session.dirty:
        if isinstance(obj, Chained) and session.is_modified(obj):
            changed = {attr.key for attr in _changed_attributes(obj)}
            if changed - MUTABLE_COLUMNS:
                raise AppendOnlyError(
                    f"{type(obj).__name__} {obj.id} is append-only; record a correction instead"
                    f" (changed: {', '.join(sorted(changed))})")


def _changed_attributes(obj):
    return [attr for attr in inspect(obj).attrs if attr.history.has_changes()]


class _RowView:
    """A plain row seen as a chained record, so that its hash is computed the same way."""

    content = Chained.content
    compute_hash = Chained.compute_hash

    def __init__(self, model: type, values: Mapping[str, Any]):
        self.chain_fields = model.chain_fields
        self.__dict__.update(values)


_ROW_DEFAULTS: dict[type, dict[str, Any]] = {}


def _link_row(head: Any, model: type, values: dict[str, Any], stream: str) -> dict[str, Any]:
    """``values`` completed with the columns' scalar defaults and linked after ``head``."""
    defaults = _ROW_DEFAULTS.get(model)
    if defaults is None:
        defaults = _ROW_DEFAULTS[model] = {
            column.key: column.default.arg if column.default is not None
            and column.default.is_scalar else None
            for column in model.__table__.columns if not column.primary_key}
    values = {**defaults, **values}
    view = _RowView(model, values)
    _link(head, view, stream)
    values.update(stream=view.stream, seq=view.seq, prev_hash=view.prev_hash, hash=view.hash)
    return values


class BulkChains:
    """Append many records to their streams with one head lookup per stream.

    ``attendance.models.chain.append`` queries (and locks) the stream's head for every
    record, which costs a flush and a query per row; here each stream's head is locked
    once and then advanced in memory with the records' own hashing, so the chains are
    exactly what one ``append`` per record would give. ``append`` takes ORM objects;
    ``append_row`` takes plain column values, inserted in bulk without building objects
    (for tens of thousands of scans).
    """

    def __init__(self, session: Session):
        self.session = session
        self.heads: dict[str, ChainHead] = {}
        self.pending: list[Any] = []
        self.rows: dict[type, list[dict[str, Any]]] = {}

    def __enter__(self) -> BulkChains:
        return self

    def _head(self, stream: str) -> ChainHead:
        head = self.heads.get(stream)
        if head is None:
            head = self.heads[stream] = lock_head(self.session, stream)
        return head

    def append(self, record: Any, stream: str) -> Any:
        _apply_defaults(record)
        _link(self._head(stream), record, stream)
        self.pending.append(record)
        if len(self.pending) >= 2000:
            self.flush()
        return record

    def append_row(self, model: type, values: dict[str, Any], stream: str) -> dict[str, Any]:
        values = _link_row(self._head(stream), model, values, stream)
        rows = self.rows.setdefault(model, [])
        rows.append(values)
        if len(rows) >= 5000:
            self.flush()
        return values

    def flush(self) -> None:
        if self.pending:
            self.session.add_all(self.pending)
            self.pending = []
        self.session.flush()
        for model, rows in self.rows.items():
            if rows:
                self.session.execute(insert(model), rows)
        self.rows = {}

    def __exit__(self, exc_type, *_exc) -> None:
        if exc_type is None:
            self.flush()


class StreamHead:
    """One stream's head as plain values, for a writer that inserts its rows with core
    statements (the scan API: many small requests a second, where ORM objects and flushes
    cost more than the database's own work).

    Creating it locks the head with one statement (pending ORM changes are flushed first;
    on SQLite the database's write lock is taken first: :func:`attendance.db.lock_for_write`);
    :meth:`link_row` links rows in memory, as :meth:`BulkChains.append_row` does;
    :meth:`save` writes the head back with one more statement. A later :func:`lock_head` of
    the stream in the same session reads what was saved.
    """

    def __init__(self, session: Session, stream: str):
        session.flush()
        lock_for_write(session)
        self.connection = session.connection()
        self.stream = stream
        row = self.connection.execute(_LOCK_HEAD, {"stream": stream}).one()
        self.seq, self.hash = row.seq, row.hash
        self.saved_seq = self.seq

    def link_row(self, model: type, values: dict[str, Any]) -> dict[str, Any]:
        return _link_row(self, model, values, self.stream)

    def save(self) -> None:
        if self.seq != self.saved_seq:
            self.connection.execute(_SAVE_HEAD, {"head_stream": self.stream,
                                                 "head_seq": self.seq, "head_hash": self.hash})
            self.saved_seq = self.seq


_SAVE_HEAD = (update(ChainHead.__table__)
              .where(ChainHead.__table__.c.stream == bindparam("head_stream"))
              .values(seq=bindparam("head_seq"), hash=bindparam("head_hash")))
