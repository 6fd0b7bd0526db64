"""Bulk writes: an import skips the per-row triggers of 0018 and does their work once.

0018 keeps the search index (SQLite: ``questions_fts``) and ``bank_version`` by
triggers, so every writer keeps them without knowing of them. A first import paid for
them row by row. On SQLite the FTS5 insert trigger ran once per question, and a
statement inside a trigger opens a savepoint, on which FTS5 writes its pending terms out
as a new segment: one tiny segment per question, merged again and again. The questions'
``INSERT`` took 3.9 s at 10,000 questions with the triggers; now it takes 0.5-0.7 s and
one ``INSERT INTO questions_fts ... SELECT`` of the same rows 0.6 s. The bank-version
triggers raised the number once per row of five tables (48,734 times). On PostgreSQL a
statement-level trigger runs once per row too (psycopg's ``executemany`` sends a
statement per row): 14,572 bumps for 3,000 questions, 1.8 s of a 4.3 s write.

A bulk writer (``app.content.bulk``) now says so while it writes, inside its own
transaction, and then does the triggers' work itself, once: it indexes the question rows
it wrote in one statement and raises ``bank_version`` once. The triggers skip while:

- SQLite: ``bank_version.bulk`` is 1 (a column added here). Only the writer's own
  transaction ever sees it at 1: SQLite has one writer at a time, and the writer sets it
  back to 0 before it commits (a rollback undoes it too).
- PostgreSQL: the transaction-local setting ``il.bulk_write`` is ``on``
  (``set_config('il.bulk_write', 'on', true)``); no other session can see it.

Every other writer (a single question written by hand, a source's removal, a test) finds
the flag off, and the triggers keep the index and the version as before. The FTS5 delete
trigger has no condition (the importer archives, never deletes, questions).

FTS5's ``hashsize`` (the bytes of new terms it keeps in memory before writing a segment)
goes from 1 MiB to 16 MiB: indexing 10,000 questions in one statement took 0.86 CPU-s
with 1 MiB and 0.50-0.61 s with 8 to 256 MiB. A writer of one row flushes at its commit
as before. PostgreSQL's trigram GIN index stays as it is: with its pending list
(``fastupdate``, the default) 3,000 rows cost 0.74 s, with a 64 MB pending list cleaned
at the end 0.81-0.99 s, built after the insert 0.65-0.91 s, without ``fastupdate`` 2.8 s.

A later migration that rebuilds ``questions`` recreates these triggers (0018's note).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BANK_TABLES = ("questions", "asked", "question_tags", "tags", "chapters")
OPS = ("INSERT", "UPDATE", "DELETE")
BUMP = "UPDATE bank_version SET version = version + 1"
SQLITE_NOT_BULK = "WHEN (SELECT bulk FROM bank_version WHERE id = 1) IS NOT 1 "
FTS_INSERT = "INSERT INTO questions_fts(rowid, search_text) VALUES (new.rowid, new.search_text)"
FTS_DELETE = (
    "INSERT INTO questions_fts(questions_fts, rowid, search_text) "
    "VALUES ('delete', old.rowid, old.search_text)"
)
# FTS5 keeps a transaction's new terms in memory up to this many bytes (module docstring).
FTS_HASHSIZE = 16 * 1024 * 1024
PG_NOT_BULK = "WHEN (current_setting('il.bulk_write', true) IS DISTINCT FROM 'on') "


def _sqlite_triggers(when: str) -> list[str]:
    """The search-index and bank-version triggers, each insert and update one under
    ``when`` (0018's when it is empty)."""
    return [
        *(
            f"CREATE TRIGGER bank_version_{table}_{op.lower()} AFTER {op} ON {table} "
            f"{when}BEGIN {BUMP}; END"
            for table in BANK_TABLES
            for op in OPS
        ),
        f"CREATE TRIGGER questions_fts_insert AFTER INSERT ON questions {when}"
        f"BEGIN {FTS_INSERT}; END",
        f"CREATE TRIGGER questions_fts_delete AFTER DELETE ON questions BEGIN {FTS_DELETE}; END",
        f"CREATE TRIGGER questions_fts_update AFTER UPDATE OF search_text ON questions {when}"
        f"BEGIN {FTS_DELETE}; {FTS_INSERT}; END",
    ]


def _pg_triggers(when: str) -> list[str]:
    return [
        f"CREATE TRIGGER bank_version_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        f"ON {table} FOR EACH STATEMENT {when}EXECUTE FUNCTION bank_version_bump()"
        for table in BANK_TABLES
    ]


def _drop_triggers(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [
            *(
                f"DROP TRIGGER IF EXISTS bank_version_{table}_{op.lower()}"
                for table in BANK_TABLES
                for op in OPS
            ),
            *(f"DROP TRIGGER IF EXISTS questions_fts_{op.lower()}" for op in OPS),
        ]
    return [f"DROP TRIGGER IF EXISTS bank_version_{table} ON {table}" for table in BANK_TABLES]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # ALTER TABLE ADD COLUMN: no table rebuild (a rebuild would drop the triggers).
        op.add_column(
            "bank_version",
            sa.Column("bulk", sa.Integer(), nullable=False, server_default=sa.text("0")),
        )
        statements = [
            *_drop_triggers("sqlite"),
            *_sqlite_triggers(SQLITE_NOT_BULK),
            f"INSERT INTO questions_fts(questions_fts, rank) VALUES ('hashsize', {FTS_HASHSIZE})",
        ]
    elif bind.dialect.name == "postgresql":
        statements = [*_drop_triggers("postgresql"), *_pg_triggers(PG_NOT_BULK)]
    else:
        return
    for statement in statements:
        bind.exec_driver_sql(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in (*_drop_triggers("sqlite"), *_sqlite_triggers("")):
            bind.exec_driver_sql(statement)
        bind.exec_driver_sql("DELETE FROM questions_fts_config WHERE k = 'hashsize'")
        # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): no rebuild.
        bind.exec_driver_sql("ALTER TABLE bank_version DROP COLUMN bulk")
    elif bind.dialect.name == "postgresql":
        for statement in (*_drop_triggers("postgresql"), *_pg_triggers("")):
            bind.exec_driver_sql(statement)
