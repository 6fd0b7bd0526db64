"""The first new card from an index seek: a per-user mark kept by triggers.

``queue_sql.first_new`` walked the questions in bank order and probed each for a card
of the user, so it cost more the further the user was through the bank (about 2 ms per
1,500 cards). ``new_card_marks`` holds, per user, a place in bank order (source_file,
position) before which every active question has a card of the user, valid while its
``bank`` equals ``bank_version.version`` (0018: any write to the bank raises it, so a
question added, moved or unarchived makes every mark stale, and a stale mark counts as
the start of the bank). The query seeks there with a row-value comparison and walks on
as before: the answer is the same (the first active question under the filter without a
card), the walk starts after the user's leading run of cards.

Triggers, so that every writer keeps it without knowing of it (the review, quizzes,
mock interviews, undo, a user-data import):

- a user inserted gets a mark at the start (existing users get one here);
- a card inserted moves its user's mark to the first active question at or after the
  mark (the start when stale) without a card, reading the bank version as it goes;
  left as it is when every question has one;
- a card deleted (or moved to another user or question) brings the mark back to that
  question when the question sorts before it.

PostgreSQL (READ COMMITTED, the default the app uses): both card triggers lock the
user's mark row first and only then read (each statement of a plpgsql function takes a
new snapshot), so of a card inserted and a card deleted in concurrent transactions, the
second to lock sees the first committed: a deletion is either seen by the move or lowers
the moved mark after it. A bank write is seen or not with its version (one snapshot).

A later migration that rebuilds ``cards`` or ``users`` on SQLite (a batch copy) drops
these triggers and must recreate them (``tests/study/test_new_card_mark.py`` checks
they are there at head).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 21:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VERSION = "(SELECT b.version FROM bank_version b WHERE b.id = 1)"
_CURRENT = f"new_card_marks.bank = {_VERSION}"
# The mark's start: itself when current, else the start of the bank.
_START = (
    f"(CASE WHEN {_CURRENT} THEN new_card_marks.source_file ELSE '' END, "
    f"CASE WHEN {_CURRENT} THEN new_card_marks.position ELSE -1 END)"
)


def _advance(user: str) -> str:
    """Move ``user``'s mark to the first active question without a card at or after it
    (the start when stale), an index seek from there. With none left every active
    question has a card: the mark stays where it is, current."""

    def first(column: str) -> str:
        return (
            f"(SELECT q.{column} FROM questions q WHERE q.archived_at IS NULL "
            f"AND (q.source_file, q.position) >= {_START} "
            "AND NOT EXISTS (SELECT 1 FROM cards c "
            f"WHERE c.user_id = {user} AND c.question_id = q.id) "
            "ORDER BY q.source_file, q.position LIMIT 1)"
        )

    return (
        f"UPDATE new_card_marks SET source_file = coalesce({first('source_file')}, source_file), "
        f"position = coalesce({first('position')}, position), bank = {_VERSION} "
        f"WHERE user_id = {user}"
    )


def _lower(user: str, question: str) -> str:
    """Bring ``user``'s mark back to ``question`` when it sorts before the mark."""
    key = f"(SELECT q.source_file, q.position FROM questions q WHERE q.id = {question})"
    return (
        f"UPDATE new_card_marks SET (source_file, position) = {key} "
        f"WHERE user_id = {user} AND (source_file, position) > {key}"
    )


_START_MARK = "INSERT INTO new_card_marks (user_id, source_file, position, bank) "

SQLITE_UP = (
    "CREATE TRIGGER new_card_marks_user AFTER INSERT ON users BEGIN "
    f"{_START_MARK} VALUES (new.id, '', -1, -1); END",
    f"CREATE TRIGGER new_card_marks_card_insert AFTER INSERT ON cards BEGIN "
    f"{_advance('new.user_id')}; END",
    "CREATE TRIGGER new_card_marks_card_delete AFTER DELETE ON cards BEGIN "
    f"{_lower('old.user_id', 'old.question_id')}; END",
    "CREATE TRIGGER new_card_marks_card_update AFTER UPDATE OF user_id, question_id ON cards "
    f"BEGIN {_lower('old.user_id', 'old.question_id')}; END",
)
SQLITE_DOWN = tuple(
    f"DROP TRIGGER IF EXISTS new_card_marks_{name}"
    for name in ("user", "card_insert", "card_delete", "card_update")
)
PG_UP = (
    "CREATE FUNCTION new_card_marks_user() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"{_START_MARK} VALUES (NEW.id, '', -1, -1); RETURN NULL; END $$",
    "CREATE FUNCTION new_card_marks_card_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "PERFORM 1 FROM new_card_marks WHERE user_id = NEW.user_id FOR UPDATE; "
    f"{_advance('NEW.user_id')}; RETURN NULL; END $$",
    "CREATE FUNCTION new_card_marks_card_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "PERFORM 1 FROM new_card_marks WHERE user_id = OLD.user_id FOR UPDATE; "
    f"{_lower('OLD.user_id', 'OLD.question_id')}; RETURN NULL; END $$",
    "CREATE TRIGGER new_card_marks_user AFTER INSERT ON users "
    "FOR EACH ROW EXECUTE FUNCTION new_card_marks_user()",
    "CREATE TRIGGER new_card_marks_card_insert AFTER INSERT ON cards "
    "FOR EACH ROW EXECUTE FUNCTION new_card_marks_card_insert()",
    "CREATE TRIGGER new_card_marks_card_delete AFTER DELETE OR UPDATE OF user_id, question_id "
    "ON cards FOR EACH ROW EXECUTE FUNCTION new_card_marks_card_delete()",
)
PG_DOWN = (
    "DROP TRIGGER IF EXISTS new_card_marks_card_delete ON cards",
    "DROP TRIGGER IF EXISTS new_card_marks_card_insert ON cards",
    "DROP TRIGGER IF EXISTS new_card_marks_user ON users",
    "DROP FUNCTION IF EXISTS new_card_marks_card_delete()",
    "DROP FUNCTION IF EXISTS new_card_marks_card_insert()",
    "DROP FUNCTION IF EXISTS new_card_marks_user()",
)


def upgrade() -> None:
    op.create_table(
        "new_card_marks",
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("source_file", sa.String(500), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("bank", sa.BigInteger(), nullable=False),
    )
    bind = op.get_bind()
    bind.exec_driver_sql(f"{_START_MARK} SELECT id, '', -1, -1 FROM users")
    statements = {"sqlite": SQLITE_UP, "postgresql": PG_UP}.get(bind.dialect.name, ())
    for statement in statements:
        bind.exec_driver_sql(statement)


def downgrade() -> None:
    bind = op.get_bind()
    statements = {"sqlite": SQLITE_DOWN, "postgresql": PG_DOWN}.get(bind.dialect.name, ())
    for statement in statements:
        bind.exec_driver_sql(statement)
    op.drop_table("new_card_marks")
