"""users: a username is unique whatever its case (a unique index on lower(username))

The admin's form and ``attendance user add`` refuse a name taken in another case, but two
creations at the same moment (head_stc, HEAD_STC) could both pass that check. With the
index the database refuses the second. A database made before the rule may hold such
accounts: the upgrade then stops, naming them, and changes nothing until one of each is
renamed (``attendance user rename OLD NEW``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from itertools import groupby

import sqlalchemy as sa
from alembic import op

from attendance.migrate import MigrationRefused

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    clashing = op.get_bind().execute(sa.text(
        "SELECT username FROM users WHERE lower(username) IN (SELECT lower(username) "
        "FROM users GROUP BY lower(username) HAVING count(*) > 1) "
        "ORDER BY lower(username), id")).scalars().all()
    if clashing:
        groups = "; ".join(", ".join(names) for _, names in groupby(clashing, key=str.lower))
        raise MigrationRefused(
            "tên đăng nhập phải khác nhau dù viết hoa hay viết thường, nhưng các tài khoản "
            f"sau chỉ khác nhau ở chữ hoa, chữ thường: {groups}. Hãy đổi tên cho mỗi nhóm "
            "chỉ còn một tài khoản (`attendance user rename TÊN_CŨ TÊN_MỚI`, rồi báo tên "
            "mới cho người dùng), sau đó chạy lại `attendance init-db`; cơ sở dữ liệu chưa "
            "thay đổi gì (usernames differing only in case)")
    op.create_index('uq_users_username_lower', 'users', [sa.text('lower(username)')],
                    unique=True)


def downgrade() -> None:
    op.drop_index('uq_users_username_lower', table_name='users')
