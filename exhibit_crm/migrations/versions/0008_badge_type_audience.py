"""badge_type.audience: whom a badge type is for (trade_visitor, public_visitor, exhibitor_staff, press, organiser);
statistics count only trade and public visitors as visitors

Existing badge types get the audience their code names: the code itself when it is one of the five, else the first
rule of AUDIENCE_BY_WORD whose word the code contains ("vip_buyer" → trade_visitor, "media" → press, "contractor" →
organiser), else trade_visitor. Check the result on each edition's admin page. The audiences are spelled out here
rather than imported, so that this revision stays what it was when the models change.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 16:00:00.000000
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

AUDIENCES = ("trade_visitor", "public_visitor", "exhibitor_staff", "press", "organiser")
# in this order: "exhibitor_staff" is exhibitor staff before it is staff, "trade_press" press before trade
AUDIENCE_BY_WORD = (
    (("exhibitor",), "exhibitor_staff"),
    (("press", "media", "journalist"), "press"),
    (("staff", "organiser", "organizer", "contractor", "service", "crew"), "organiser"),
    (("vip", "buyer", "trade"), "trade_visitor"),
    (("public",), "public_visitor"),
)
FALLBACK = "trade_visitor"


def audience_of(code: str) -> str:
    """The audience an existing badge type's code names."""
    code = code.lower()
    if code in AUDIENCES:
        return code
    return next((audience for words, audience in AUDIENCE_BY_WORD if any(word in code for word in words)), FALLBACK)


def _fill(bind) -> None:
    rows = bind.execute(sa.text("SELECT id, code FROM badge_type")).all()
    for audience in AUDIENCES:
        ids = [row.id for row in rows if audience_of(row.code) == audience]
        if ids:
            bind.execute(sa.text("UPDATE badge_type SET audience = :audience WHERE id IN :ids")
                         .bindparams(sa.bindparam("ids", expanding=True)), {"audience": audience, "ids": ids})


def upgrade() -> None:
    op.add_column('badge_type', sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
    _fill(op.get_bind())
    # on SQLite the table is copied (exhibit_crm.migrate turns foreign keys off while it migrates)
    with op.batch_alter_table('badge_type', schema=None) as batch_op:
        batch_op.alter_column('audience', existing_type=sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False)
        batch_op.create_check_constraint(op.f('ck_badge_type_audience'),
                                         "audience IN (" + ", ".join(f"'{a}'" for a in AUDIENCES) + ")")


def downgrade() -> None:
    with op.batch_alter_table('badge_type', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_badge_type_audience'), type_='check')
        batch_op.drop_column('audience')
