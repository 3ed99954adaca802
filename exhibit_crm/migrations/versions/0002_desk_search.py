"""desk search index

The desk finds a person by any part of their name (two-character Chinese names too), company, e-mail or phone
digits, as they type. A prefix search over every suffix of a text is a substring search over the text, and a prefix
search is one index range; so each contact's folded name, e-mail and phone digits, and each company's folded name,
are cut into suffixes (desk_search_term, desk_search_company_term). Triggers on contact and company keep them current
whoever writes, in the writer's own transaction; this migration fills them for the rows already there.

Names are folded (NFKC, lower case, no whitespace) by desk_search_fold(): an SQL function on PostgreSQL, created here;
on SQLite, which has no Unicode folding, the Python function that exhibit_crm.models.search registers on every
connection. E-mails and phones are stored normalised already (lower case; E.164), so they are cut as they are.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

from exhibit_crm.models.search import register_sqlite_functions

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# Copies of exhibit_crm.models.search's constants: a migration must not change when the models do.
NAME, NAME_INSIDE, EMAIL, PHONE, COMPANY, COMPANY_INSIDE = 1, 2, 3, 4, 5, 6
SEQ_MAX = 300
TERM_MAX = 400  # characters: at most 1,600 bytes, under PostgreSQL's 2,704 for a b-tree entry
# no length: folding may lengthen a text (NFKC writes "㈱" as "(株)")
TERM = sa.String().with_variant(sa.String(collation="C"), "postgresql")
CONTACT_COLUMNS = ("full_name", "email", "phone")
TRIGGERS = [f"desk_search_{table}_{event}" for table in ("contact", "company") for event in ("insert", "update", "delete")]

# Upper-case letters that lower() leaves alone in a PostgreSQL database whose locale is C: Latin, Greek, Cyrillic.
_UPPER = [chr(cp) for cp in [*range(0xC0, 0x180), *range(0x386, 0x3AC), *range(0x400, 0x430)]
          if len(chr(cp).lower()) == 1 and chr(cp).lower() != chr(cp)]

# the same fold as exhibit_crm.models.search.fold: NFKC, lower case, no whitespace
PG_FUNCTIONS = [
    f"""CREATE FUNCTION desk_search_fold(value text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT regexp_replace(lower(translate(normalize(value, NFKC), '{"".join(_UPPER)}',
                                          '{"".join(c.lower() for c in _UPPER)}')), '\\s', '', 'g')
    $$""",
]


# The terms of a set of rows: `rows` is a FROM item ("contact AS c", a transition table, NEW's values) named c.

# Keeps the database from merging the subquery into the join, which would fold the name once per position.
FENCE = {"sqlite": " LIMIT -1", "postgresql": " OFFSET 0"}


def _term(dialect: str, expression: str) -> str:
    # the term column compares in "C" on PostgreSQL; the computed text must too, or "=" cannot choose a collation
    return f'{expression} COLLATE "C"' if dialect == "postgresql" else expression


def _suffixes(dialect: str, kinds: tuple[int, int], column: str, rows: str) -> str:
    """The whole folded text (first kind), then each suffix of two characters or more after the first (second)."""
    # Cut at TERM_MAX, a term fits a PostgreSQL index entry however much folding lengthened the text; two cut terms of
    # one text can then be equal ("株式会社" repeated), which DISTINCT settles.
    return (f"SELECT DISTINCT CASE WHEN s.n = 1 THEN {kinds[0]} ELSE {kinds[1]} END AS kind, "
            f"{_term(dialect, f'substr(v.t, s.n, {TERM_MAX})')} AS term, v.id AS id "
            f"FROM (SELECT c.id AS id, desk_search_fold(c.{column}) AS t FROM {rows}{FENCE[dialect]}) AS v "
            f"JOIN desk_search_seq AS s ON s.n <= length(v.t) AND (s.n = 1 OR s.n < length(v.t))")


def _contact_terms(dialect: str, rows: str) -> str:
    at = "strpos(c.email, '@')" if dialect == "postgresql" else "instr(c.email, '@')"
    # E-mails are stored normalised (NFKC and lower case; a CHECK holds them to lower case), so as they are. Terms:
    # the e-mail from its start, from each part of the local part (after . _ - +), from "@" and from the domain.
    email = (f"SELECT {EMAIL}, {_term(dialect, 'substr(c.email, s.n)')}, c.id "
             f"FROM {rows} JOIN desk_search_seq AS s ON s.n <= length(c.email) "
             f"AND (s.n = 1 OR substr(c.email, s.n, 1) = '@' OR substr(c.email, s.n - 1, 1) = '@' "
             f"OR (s.n < {at} AND substr(c.email, s.n - 1, 1) IN ('.', '_', '-', '+')))")
    # Phones are stored in E.164 (a CHECK holds them to "+" and digits): every run of four digits or more that
    # ends the number, so any 4+ consecutive digits are the start of one term.
    phone = (f"SELECT {PHONE}, {_term(dialect, 'substr(c.phone, s.n)')}, c.id "
             f"FROM {rows} JOIN desk_search_seq AS s ON s.n >= 2 AND s.n <= length(c.phone) - 3")
    return " UNION ALL ".join([_suffixes(dialect, (NAME, NAME_INSIDE), "full_name", rows), email, phone])


def _company_terms(dialect: str, rows: str) -> str:
    return _suffixes(dialect, (COMPANY, COMPANY_INSIDE), "name", rows)


# (index table, its owner column, the terms, the indexed columns, the kinds) for contact and company
INDEXED = {
    "contact": ("desk_search_term", "contact_id", _contact_terms, CONTACT_COLUMNS, (NAME, NAME_INSIDE, EMAIL, PHONE)),
    "company": ("desk_search_company_term", "company_id", _company_terms, ("name",), (COMPANY, COMPANY_INSIDE)),
}


def _insert(table: str, dialect: str, rows: str) -> str:
    # The terms of one text are distinct, so the new rows never collide. Only a fold that changed under
    # existing rows (a new Unicode version) could leave one behind that the delete no longer names: SQLite ignores
    # it for free; PostgreSQL's ON CONFLICT would cost a bulk insert a fifth more, so there a writer would fail and
    # the index be rebuilt (the backfill below).
    target, owner, terms, _, _ = INDEXED[table]
    ignore = " OR IGNORE" if dialect == "sqlite" else ""
    return f"INSERT{ignore} INTO {target} (kind, term, {owner}) {terms(dialect, rows)}"


def _delete(table: str, dialect: str, rows: str, row_id: str = "") -> str:
    target, owner, terms, _, kinds = INDEXED[table]
    if dialect == "sqlite":
        # SQLite looks a row-value IN up by the primary key only in this shape; (kind, term, id) IN (…) scans
        return (f"DELETE FROM {target} WHERE kind IN ({', '.join(map(str, kinds))}) "
                f"AND term IN (SELECT term FROM ({terms(dialect, rows)})) AND {owner} = {row_id}")
    return f"DELETE FROM {target} WHERE (kind, term, {owner}) IN ({terms(dialect, rows)})"


# SQLite: row triggers over NEW and OLD

def _sqlite_triggers() -> list[str]:
    statements = []
    for table, (_, _, _, columns, _) in INDEXED.items():
        new, old = (f"(SELECT {', '.join(f'{row}.{c} AS {c}' for c in ('id', *columns))}) AS c"
                    for row in ("NEW", "OLD"))
        statements += [
            f"CREATE TRIGGER desk_search_{table}_insert AFTER INSERT ON {table} BEGIN "
            f"{_insert(table, 'sqlite', new)}; END",
            f"CREATE TRIGGER desk_search_{table}_update AFTER UPDATE OF {', '.join(columns)} ON {table} BEGIN "
            f"{_delete(table, 'sqlite', old, 'OLD.id')}; {_insert(table, 'sqlite', new)}; END",
            f"CREATE TRIGGER desk_search_{table}_delete AFTER DELETE ON {table} BEGIN "
            f"{_delete(table, 'sqlite', old, 'OLD.id')}; END",
        ]
    return statements


# PostgreSQL: statement triggers over the transition tables, so a bulk insert indexes all its rows in one statement

def _pg_trigger(name: str, table: str, event: str, transitions: str, body: str) -> list[str]:
    return [
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body}; RETURN NULL; END $$",
        f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {transitions} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
    ]


def _pg_triggers() -> list[str]:
    d = "postgresql"
    statements = list(PG_FUNCTIONS)
    for table, (_, _, _, columns, _) in INDEXED.items():
        # an UPDATE statement trigger sees every updated row; only those whose indexed columns changed are redone
        changed = ("(SELECT {}.* FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE "
                   + " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in columns) + ") AS c")
        statements += [
            *_pg_trigger(f"desk_search_{table}_insert", table, "INSERT", "NEW TABLE AS new_rows",
                         _insert(table, d, "new_rows AS c")),
            *_pg_trigger(f"desk_search_{table}_update", table, "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                         f"{_delete(table, d, changed.format('o'))}; {_insert(table, d, changed.format('n'))}"),
            *_pg_trigger(f"desk_search_{table}_delete", table, "DELETE", "OLD TABLE AS old_rows",
                         _delete(table, d, "old_rows AS c")),
        ]
    return statements


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # this connection may have been opened before exhibit_crm.models.search registered the functions
        register_sqlite_functions(op.get_bind().connection.dbapi_connection)
    op.create_table('desk_search_seq',
    sa.Column('n', sa.Integer(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('n', name=op.f('pk_desk_search_seq'))
    )
    op.create_table('desk_search_term',
    sa.Column('kind', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('term', TERM, nullable=False),
    sa.Column('contact_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('kind', 'term', 'contact_id', name=op.f('pk_desk_search_term')),
    sqlite_with_rowid=False
    )
    op.create_table('desk_search_company_term',
    sa.Column('kind', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('term', TERM, nullable=False),
    sa.Column('company_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('kind', 'term', 'company_id', name=op.f('pk_desk_search_company_term')),
    sqlite_with_rowid=False
    )
    op.bulk_insert(sa.table('desk_search_seq', sa.column('n', sa.Integer())),
                   [{"n": n} for n in range(1, SEQ_MAX + 1)])
    for statement in _pg_triggers() if dialect == "postgresql" else _sqlite_triggers():
        op.execute(statement)
    # the contacts and companies written before this revision
    op.execute(_insert("contact", dialect, "contact AS c"))
    op.execute(_insert("company", dialect, "company AS c"))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in TRIGGERS:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {name.split('_')[2]}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS desk_search_fold(text)")
    op.drop_table('desk_search_company_term')
    op.drop_table('desk_search_term')
    op.drop_table('desk_search_seq')
