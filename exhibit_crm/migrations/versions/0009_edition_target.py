"""edition target: per edition, what the organiser aims at (visitors, trade visitors, exhibitors, net m² sold,
exhibitor rebooking rate), for the post-show statistics to show target, actual and gap

Every target is nullable: a target not set is NULL. The checks keep the counts and the square metres non-negative
and the rebooking rate a share from 0 to 1; the limits are spelled out here rather than imported, so that this
revision stays what it was when the models change. A row goes with its edition (ON DELETE CASCADE).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 18:30:00.000000
"""
import sqlalchemy as sa
from alembic import op

import exhibit_crm.models.types

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('edition_target',
    sa.Column('visitors', sa.Integer(), nullable=True),
    sa.Column('trade_visitors', sa.Integer(), nullable=True),
    sa.Column('exhibitors', sa.Integer(), nullable=True),
    sa.Column('net_sqm', sa.Float(), nullable=True),
    sa.Column('rebooking_rate', sa.Float(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('edition_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', exhibit_crm.models.types.UTCDateTime(), nullable=False),
    sa.CheckConstraint('visitors >= 0', name=op.f('ck_edition_target_visitors')),
    sa.CheckConstraint('trade_visitors >= 0', name=op.f('ck_edition_target_trade_visitors')),
    sa.CheckConstraint('exhibitors >= 0', name=op.f('ck_edition_target_exhibitors')),
    sa.CheckConstraint('net_sqm >= 0 AND net_sqm <= 10000000', name=op.f('ck_edition_target_net_sqm')),
    sa.CheckConstraint('rebooking_rate >= 0 AND rebooking_rate <= 1', name=op.f('ck_edition_target_rebooking_rate')),
    sa.ForeignKeyConstraint(['edition_id'], ['edition.id'], name=op.f('fk_edition_target_edition_id_edition'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_edition_target')),
    sa.UniqueConstraint('edition_id', name=op.f('uq_edition_target_edition_id'))
    )


def downgrade() -> None:
    op.drop_table('edition_target')
