"""Alembic environment: runs on the connection handed in by ``attendance.migrate`` or on the URL."""

from alembic import context

import attendance.models  # noqa: F401 - registers every table on the metadata
from attendance.db import Base, make_engine

target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        with make_engine(context.config.get_main_option("sqlalchemy.url")).connect() as conn:
            _run(conn)
            conn.commit()
    else:
        _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
