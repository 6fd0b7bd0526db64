"""Review totals per user and UTC quarter hour (``review_totals``), kept by triggers on
``review_logs`` so the stats page reads a year of activity and true retention from a few
thousand rows (issue 19, item 5); filled here from the existing log.

What is counted (``app.study.review_totals`` restates it in Python, and the tests hold
the two equal): flashcard reviews (``source = 'review'``), their duration (none: 0), the
mature ones (the card before was in the Review state on an interval, due minus last
review, of 21 days or more) and the mature ones rated above Again. ``slot`` is the
quarter hour since the Unix epoch, UTC. A trigger does it in the statement that inserts
or deletes the review (a rating, an undo, a user-data import), so every writer keeps
the totals without knowing of them, and a rating stays two write statements.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQL for one review-log row (``{r}``: NEW, OLD, or the table itself in the backfill).
# julianday is a double: a 21-day interval may come out a few microseconds short.
_SQLITE = {
    "slot": "CAST(strftime('%s', {r}.reviewed_at) AS INTEGER) / 900",
    "mature": (
        "(CASE WHEN json_extract({r}.card_before, '$.state') = 2"
        " AND julianday(json_extract({r}.card_before, '$.due'))"
        " - julianday(json_extract({r}.card_before, '$.last_review')) >= 21 - 1e-8"
        " THEN 1 ELSE 0 END)"
    ),
}
_POSTGRESQL = {
    "slot": "floor(extract(epoch FROM {r}.reviewed_at) / 900)::integer",
    "mature": (
        "(CASE WHEN ({r}.card_before ->> 'state')::integer IS DISTINCT FROM 2 THEN 0"
        " WHEN coalesce({r}.card_before ->> 'last_review', '') = '' THEN 0"
        " WHEN ({r}.card_before ->> 'due')::timestamptz"
        " - ({r}.card_before ->> 'last_review')::timestamptz >= interval '21 days'"
        " THEN 1 ELSE 0 END)"
    ),
}


def _figures(sql: dict[str, str], r: str) -> dict[str, str]:
    mature = sql["mature"].format(r=r)
    return {
        "slot": sql["slot"].format(r=r),
        "duration": f"coalesce({r}.duration_ms, 0)",
        "mature": mature,
        "passed": f"(CASE WHEN {r}.rating > 1 THEN {mature} ELSE 0 END)",
    }


def _add(sql: dict[str, str]) -> str:
    f = _figures(sql, "NEW")
    return (
        "INSERT INTO review_totals (user_id, slot, reviews, duration_ms, mature, passed)"
        f" VALUES (NEW.user_id, {f['slot']}, 1, {f['duration']}, {f['mature']}, {f['passed']})"
        " ON CONFLICT (user_id, slot) DO UPDATE SET"
        " reviews = review_totals.reviews + excluded.reviews,"
        " duration_ms = review_totals.duration_ms + excluded.duration_ms,"
        " mature = review_totals.mature + excluded.mature,"
        " passed = review_totals.passed + excluded.passed;"
    )


def _take_back(sql: dict[str, str]) -> str:
    f = _figures(sql, "OLD")
    here = f"user_id = OLD.user_id AND slot = {f['slot']}"
    return (
        f"UPDATE review_totals SET reviews = reviews - 1, duration_ms = duration_ms -"
        f" {f['duration']}, mature = mature - {f['mature']}, passed = passed - {f['passed']}"
        f" WHERE {here};"
        f" DELETE FROM review_totals WHERE {here} AND reviews <= 0;"
    )


def upgrade() -> None:
    op.create_table(
        "review_totals",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("reviews", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.BigInteger(), nullable=False),
        sa.Column("mature", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_review_totals_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "slot", name=op.f("pk_review_totals")),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    sql = _POSTGRESQL if postgresql else _SQLITE
    f = _figures(sql, "review_logs")
    op.execute(
        "INSERT INTO review_totals (user_id, slot, reviews, duration_ms, mature, passed)"
        f" SELECT user_id, {f['slot']}, count(*), sum({f['duration']}), sum({f['mature']}),"
        f" sum({f['passed']}) FROM review_logs WHERE source = 'review'"
        f" GROUP BY user_id, {f['slot']}"
    )
    if postgresql:
        op.execute(
            "CREATE FUNCTION review_totals_count() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN"
            f" IF TG_OP <> 'INSERT' AND OLD.source = 'review' THEN {_take_back(sql)} END IF;"
            f" IF TG_OP <> 'DELETE' AND NEW.source = 'review' THEN {_add(sql)} END IF;"
            " RETURN NULL;"
            " END $$"
        )
        op.execute(
            "CREATE TRIGGER review_totals_count AFTER INSERT OR UPDATE OR DELETE"
            " ON review_logs FOR EACH ROW EXECUTE FUNCTION review_totals_count()"
        )
        return
    for event, when, body in (
        ("INSERT", "NEW.source = 'review'", _add(sql)),
        ("DELETE", "OLD.source = 'review'", _take_back(sql)),
        ("UPDATE", "OLD.source = 'review'", _take_back(sql)),
        ("UPDATE", "NEW.source = 'review'", _add(sql)),
    ):
        name = f"review_totals_{event.lower()}_{'new' if when.startswith('NEW') else 'old'}"
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON review_logs FOR EACH ROW"
            f" WHEN {when} BEGIN {body} END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER review_totals_count ON review_logs")
        op.execute("DROP FUNCTION review_totals_count()")
    else:
        for name in (
            "review_totals_insert_new",
            "review_totals_delete_old",
            "review_totals_update_old",
            "review_totals_update_new",
        ):
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("review_totals")
