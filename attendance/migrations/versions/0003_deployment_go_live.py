"""deployment: the go-live of a demo database

``attendance demo`` loads four weeks of scans up to the day it runs; the month before them
showed everyone absent, since no config file can name a go-live that moves with that day.
The demo records it here (``attendance.deployment``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deployment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('records_from', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deployment'))
    )


def downgrade() -> None:
    op.drop_table('deployment')
