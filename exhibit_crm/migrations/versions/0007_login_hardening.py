"""login hardening: session generations per user, login attempts looked up by client address

`session_generation` on staff and exhibitor users is bumped on sign-out and password reset; a session cookie of an
older generation no longer signs anybody in. Login throttling now counts failures per account and address and per
address over all accounts, so login attempts get an index on (ip, at).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 20:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

USER_TABLES = ("staff_user", "exhibitor_user")


def upgrade() -> None:
    for table in USER_TABLES:
        op.add_column(table, sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False))
    op.create_index("ix_login_attempt_ip_at", "login_attempt", ["ip", "at"])


def downgrade() -> None:
    op.drop_index("ix_login_attempt_ip_at", table_name="login_attempt")
    for table in USER_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("session_generation")
