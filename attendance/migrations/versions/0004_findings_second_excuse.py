"""daily_findings.second_excuse_id: an absence excused by a morning and an afternoon excuse

A day made whole by two half-day excuses has one absence finding, excused by both; the
stored row named only the morning's. The column holds the afternoon's. Rows stored before
it are computed again by the scheduler (the rules' code changed, so every day's
fingerprint did).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('daily_findings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('second_excuse_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('daily_findings', schema=None) as batch_op:
        batch_op.drop_column('second_excuse_id')
