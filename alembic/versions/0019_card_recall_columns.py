"""Cards keep fsrs's stability and last review as columns (derived from ``cards.fsrs``).

The stats page's coverage matrix computes every card's recall now from the two fields
fsrs's retrievability reads. Taken out of the JSON they cost SQLite 13 ms for 7,320 cards
(each row's JSON parsed twice) and Python 6 ms more (an ISO string parsed per card); as
plain columns the recall is computed in SQL (``app.study.coverage.recall_now``).

``stability`` (float) and ``last_review`` (aware UTC datetime), both NULL while a card has
never been reviewed. Added as nullable columns (``ALTER TABLE ADD COLUMN`` on SQLite
too: no table rebuild, so no trigger or index is lost), then filled from each card's JSON
in Python, in batches, as ``app.models.study.fsrs_columns`` does (the ISO time with its
offset, taken to UTC): exact on both databases, whatever offset a stored time carries.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 23:30:00
"""

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5_000
CARDS = sa.table(
    "cards",
    sa.column("id", sa.Integer),
    sa.column("fsrs", sa.JSON),
    sa.column("stability", sa.Float),
    sa.column("last_review", sa.DateTime(timezone=True)),
)


def _columns(card: dict[str, Any]) -> tuple[float | None, dt.datetime | None]:
    """The card's stability and last review (aware UTC), as the model derives them then."""
    stability, last = card.get("stability"), card.get("last_review")
    when = None if last is None else dt.datetime.fromisoformat(last)
    if when is not None:
        when = when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
    return (None if stability is None else float(stability)), when


def upgrade() -> None:
    op.add_column("cards", sa.Column("stability", sa.Float(), nullable=True))
    op.add_column("cards", sa.Column("last_review", sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    fill = (
        sa.update(CARDS)
        .where(CARDS.c.id == sa.bindparam("card_id"))
        .values(stability=sa.bindparam("s"), last_review=sa.bindparam("t"))
    )
    after = 0
    while True:
        rows = bind.execute(
            sa.select(CARDS.c.id, CARDS.c.fsrs)
            .where(CARDS.c.id > after)
            .order_by(CARDS.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        values = []
        for card_id, card in rows:
            stability, when = _columns(card)
            if stability is not None or when is not None:
                values.append({"card_id": card_id, "s": stability, "t": when})
        if values:
            bind.execute(fill, values)
        after = rows[-1][0]


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not batch mode: rebuilding
    # ``cards`` would drop it, and with foreign keys on that deletes its review log.
    op.drop_column("cards", "last_review")
    op.drop_column("cards", "stability")
