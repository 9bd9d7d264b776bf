"""scan ids 64-bit on PostgreSQL

A province writes tens of millions of scans a year; a country (2.5 million staff, two to
four scans a working day) passes 2**31 within two years. SQLite's integer keys are 64-bit
already, so this changes PostgreSQL only: the id, the column that refers to it and the id's
sequence (created ``AS integer`` by SERIAL, so it would stop at 2**31 - 1 too).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE scans ALTER COLUMN id TYPE bigint, "
               "ALTER COLUMN supersedes_id TYPE bigint")
    op.execute("ALTER SEQUENCE IF EXISTS scans_id_seq AS bigint")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER SEQUENCE IF EXISTS scans_id_seq AS integer")
    op.execute("ALTER TABLE scans ALTER COLUMN supersedes_id TYPE integer, "
               "ALTER COLUMN id TYPE integer")
