"""Review totals per user and UTC quarter hour, kept by the database as reviews are
written (the stats page).

One row per user and quarter hour holding at least one flashcard review
(``ReviewLog.source == "review"``): how many, their answer time, how many were of a
mature card and how many of those passed. ``slot`` numbers quarter hours from the Unix
epoch, so a study day (every zone's days start on a quarter hour) is a range of slots.
Triggers on ``review_logs`` (migration 0017) keep the rows equal to the log: a rating's
insert, an undo's delete and a user-data import's rewrite update them in the same
statement, so no writer has to remember them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class ReviewTotal(Base):
    __tablename__ = "review_totals"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # Quarter hours since 1970-01-01 00:00 UTC.
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    reviews: Mapped[int] = mapped_column(Integer, default=0)
    # The sum of the reviews' durations (a review without one adds 0).
    duration_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    # Reviews of mature cards (``app.study.review_totals.is_mature``) and those of them
    # rated Hard, Good or Easy.
    mature: Mapped[int] = mapped_column(Integer, default=0)
    passed: Mapped[int] = mapped_column(Integer, default=0)
