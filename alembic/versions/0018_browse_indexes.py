"""Browse at scale: a trigram search index, bank order from an index, a bank version.

``q`` is a substring search over ``questions.search_text`` (already case- and
width-folded). ``LIKE '%word%'`` read every question's text (about 10 MB at 10,000
questions) for each search.

SQLite: an FTS5 table with the ``trigram`` tokenizer over ``search_text``, its content
read from ``questions`` (external content, keyed by ``questions.rowid``), kept in step by
three triggers (insert, delete, update of ``search_text``), so every writer (the importer,
a re-import, tests) keeps it without knowing of it. ``case_sensitive 1``: both sides are
folded already, so the match is the same bytes LIKE compares. ``app.content.search``
asks it for words of three characters or more (trigrams need three); shorter words keep
``LIKE``. A later migration that rebuilds ``questions`` (a SQLite batch operation copies
the table, drops it and renames the copy) drops these triggers, and the bank-version
triggers below, and renumbers rowids: it must recreate them all and ``rebuild`` the
index, as ``upgrade`` does here (``tests/content/test_search_index.py`` checks the index
after imports at head, ``tests/web/test_filter_cache.py`` the bank version).

PostgreSQL: a pg_trgm GIN index on ``search_text``, which ``LIKE '%word%'`` uses as it
is. Where the extension cannot be created (not installed, or no right to create it) the
migration leaves the database as it was and LIKE scans the table as before.

Bank order: ``ix_questions_chapter_order`` (chapter, position, archived_at, id) lets the
browse page walk chapters in file order and stop after one page, and counts each
chapter's active questions from the index alone (both read every answer row before).

Last grades: ``ix_review_logs_user_id_question_id``. The browse page shows each row's last
grade; with only ``user_id`` indexed (and statistics from the last import, taken before
the reviews) SQLite read all of the user's reviews for it (21 ms for a year of reviews,
0.2 ms from this index).

Bank version: ``bank_version`` holds one number that every write to the bank's tables
(questions, asked, question_tags, tags, chapters) raises, by trigger (per row on SQLite,
per statement on PostgreSQL), in the writer's own transaction. The filter choices (facet
counts, chapters) are kept under it, so an import, a re-import or an archive shows at
once and nothing else recomputes them (``app.web.filter_cache``).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UP = (
    "CREATE VIRTUAL TABLE questions_fts USING fts5(search_text, content='questions', "
    "content_rowid='rowid', tokenize='trigram case_sensitive 1')",
    "CREATE TRIGGER questions_fts_insert AFTER INSERT ON questions BEGIN "
    "INSERT INTO questions_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    "CREATE TRIGGER questions_fts_delete AFTER DELETE ON questions BEGIN "
    "INSERT INTO questions_fts(questions_fts, rowid, search_text) "
    "VALUES ('delete', old.rowid, old.search_text); END",
    "CREATE TRIGGER questions_fts_update AFTER UPDATE OF search_text ON questions BEGIN "
    "INSERT INTO questions_fts(questions_fts, rowid, search_text) "
    "VALUES ('delete', old.rowid, old.search_text); "
    "INSERT INTO questions_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    "INSERT INTO questions_fts(questions_fts) VALUES ('rebuild')",
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS questions_fts_update",
    "DROP TRIGGER IF EXISTS questions_fts_delete",
    "DROP TRIGGER IF EXISTS questions_fts_insert",
    "DROP TABLE IF EXISTS questions_fts",
)
PG_INDEX = "ix_questions_search_text_trgm"
ORDER_INDEX = "ix_questions_chapter_order"
LOG_INDEX = "ix_review_logs_user_id_question_id"
BANK_TABLES = ("questions", "asked", "question_tags", "tags", "chapters")
BUMP = "UPDATE bank_version SET version = version + 1"
SQLITE_VERSION_UP = [
    f"CREATE TRIGGER bank_version_{table}_{op.lower()} AFTER {op} ON {table} BEGIN {BUMP}; END"
    for table in BANK_TABLES
    for op in ("INSERT", "UPDATE", "DELETE")
]
SQLITE_VERSION_DOWN = [
    f"DROP TRIGGER IF EXISTS bank_version_{table}_{op}"
    for table in BANK_TABLES
    for op in ("insert", "update", "delete")
]
PG_VERSION_UP = [
    "CREATE FUNCTION bank_version_bump() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN {BUMP}; RETURN NULL; END $$",
    *(
        f"CREATE TRIGGER bank_version_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bank_version_bump()"
        for table in BANK_TABLES
    ),
]
PG_VERSION_DOWN = [
    *(f"DROP TRIGGER IF EXISTS bank_version_{table} ON {table}" for table in BANK_TABLES),
    "DROP FUNCTION IF EXISTS bank_version_bump()",
]


def _bank_version_up() -> None:
    op.create_table(
        "bank_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO bank_version (id, version) VALUES (1, 0)")
    op.create_index(
        ORDER_INDEX, "questions", ["chapter_id", "position", "archived_at", "id"], unique=False
    )
    op.create_index(LOG_INDEX, "review_logs", ["user_id", "question_id"], unique=False)


def upgrade() -> None:
    bind = op.get_bind()
    _bank_version_up()
    if bind.dialect.name == "sqlite":
        for statement in (*SQLITE_UP, *SQLITE_VERSION_UP):
            bind.exec_driver_sql(statement)
    elif bind.dialect.name == "postgresql":
        for statement in PG_VERSION_UP:
            bind.exec_driver_sql(statement)
        try:
            with bind.begin_nested():  # a refusal rolls back to here, not the migration
                bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except sa.exc.DBAPIError:
            return
        bind.exec_driver_sql(
            f"CREATE INDEX {PG_INDEX} ON questions USING gin (search_text gin_trgm_ops)"
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in (*SQLITE_VERSION_DOWN, *SQLITE_DOWN):
            bind.exec_driver_sql(statement)
    elif bind.dialect.name == "postgresql":
        for statement in PG_VERSION_DOWN:
            bind.exec_driver_sql(statement)
        # The extension stays: other databases' objects may use it.
        bind.exec_driver_sql(f"DROP INDEX IF EXISTS {PG_INDEX}")
    op.drop_index(LOG_INDEX, table_name="review_logs")
    op.drop_index(ORDER_INDEX, table_name="questions")
    op.drop_table("bank_version")
