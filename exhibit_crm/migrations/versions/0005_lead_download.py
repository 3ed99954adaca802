"""lead download: one row per lead list an exhibitor user downloads

"Only new since my last download" reads the user's latest row here instead of searching the audit log. The
downloads already in the audit log are copied in, so the lists stay exactly as new as they were; the audit log keeps
its entries (every download still writes one).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 19:48:06.558737
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

import exhibit_crm.models.types

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

DOWNLOADED = "exporters.leads.downloaded"


def upgrade() -> None:
    lead_download = op.create_table('lead_download',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exhibitor_id', sa.Integer(), nullable=False),
    sa.Column('exhibitor_user_id', sa.Integer(), nullable=False),
    sa.Column('downloaded_at', exhibit_crm.models.types.UTCDateTime(), nullable=False),
    sa.Column('format', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('filters', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['exhibitor_id'], ['exhibitor.id'], name=op.f('fk_lead_download_exhibitor_id_exhibitor')),
    sa.ForeignKeyConstraint(['exhibitor_user_id'], ['exhibitor_user.id'], name=op.f('fk_lead_download_exhibitor_user_id_exhibitor_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_download'))
    )
    with op.batch_alter_table('lead_download', schema=None) as batch_op:
        batch_op.create_index('ix_lead_download_user', ['exhibitor_id', 'exhibitor_user_id', 'downloaded_at'], unique=False)
    _copy_downloads_from_the_audit_log(lead_download)


def _copy_downloads_from_the_audit_log(lead_download: sa.Table) -> None:
    audit = sa.table('audit_log', sa.column('at', exhibit_crm.models.types.UTCDateTime()), sa.column('action'),
                     sa.column('actor_type'), sa.column('actor_id'), sa.column('object_type'),
                     sa.column('object_id'), sa.column('data', sa.JSON()))
    users, exhibitors = sa.table('exhibitor_user', sa.column('id')), sa.table('exhibitor', sa.column('id'))
    # the entries of users and exhibitors still there (the foreign keys want them)
    found = op.get_bind().execute(
        sa.select(audit.c.object_id, audit.c.actor_id, audit.c.at, audit.c.data)
        .join(users, users.c.id == audit.c.actor_id).join(exhibitors, exhibitors.c.id == audit.c.object_id)
        .where(audit.c.action == DOWNLOADED, audit.c.actor_type == 'exhibitor_user',
               audit.c.object_type == 'exhibitor')
        .order_by(audit.c.at)).all()
    rows = [{"exhibitor_id": exhibitor_id, "exhibitor_user_id": user_id, "downloaded_at": at,
             "format": str((data or {}).get("format", ""))[:10], "filters": (data or {}).get("filters") or {},
             "rows": int((data or {}).get("rows") or 0)} for exhibitor_id, user_id, at, data in found]
    if rows:
        op.bulk_insert(lead_download, rows)


def downgrade() -> None:
    with op.batch_alter_table('lead_download', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_download_user')

    op.drop_table('lead_download')
