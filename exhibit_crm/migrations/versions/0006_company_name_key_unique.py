"""company: one company per name key (a unique index), so two first registrations from one new company at the same
moment cannot make it twice

Companies that already share a key are merged first: the oldest row (lowest id) stays, with its own details, and
every row that referred to a younger one (contacts, exhibitors, anything with a foreign key to company) refers to it
instead. When a merge would break another constraint (say both rows exhibit at the same edition), the upgrade stops
and names the companies: merge them by hand, then upgrade again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 20:00:00.000000
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import IntegrityError

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def _references(bind) -> list[tuple[str, str]]:
    """(table, column) of every single-column foreign key to company.id."""
    inspector = sa.inspect(bind)
    return [(table, fk["constrained_columns"][0]) for table in inspector.get_table_names()
            for fk in inspector.get_foreign_keys(table)
            if fk["referred_table"] == "company" and len(fk["constrained_columns"]) == 1]


def _merge_duplicates(bind) -> None:
    duplicates = bind.execute(sa.text("SELECT name_key, min(id) FROM company GROUP BY name_key HAVING count(*) > 1"))
    references = None
    for key, keep in duplicates.all():
        references = references if references is not None else _references(bind)
        younger = [row[0] for row in bind.execute(sa.text("SELECT id FROM company WHERE name_key = :key AND id > :keep"),
                                                  {"key": key, "keep": keep})]
        moved = sa.bindparam("younger", younger, expanding=True)
        for table, column in references:
            try:
                bind.execute(sa.text(f"UPDATE {table} SET {column} = :keep WHERE {column} IN :younger")
                             .bindparams(moved), {"keep": keep})
            except IntegrityError as exc:
                raise RuntimeError(f"companies {[keep, *younger]} share the name key {key!r} and cannot be merged "
                                   f"automatically ({table}.{column}: {exc.orig}); merge them by hand and upgrade "
                                   "again") from None
        bind.execute(sa.text("DELETE FROM company WHERE id IN :younger").bindparams(moved))


def upgrade() -> None:
    _merge_duplicates(op.get_bind())
    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_company_name_key'))
        batch_op.create_index(batch_op.f('ix_company_name_key'), ['name_key'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_company_name_key'))
        batch_op.create_index(batch_op.f('ix_company_name_key'), ['name_key'], unique=False)
