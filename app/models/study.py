"""Flashcard state (FSRS) and the review log.

A question a user has never reviewed has no ``Card`` row: it is new. ``Card.fsrs`` holds
``fsrs.Card.to_dict()``; ``due`` and ``state`` are copied out of it for queries. Each
review appends a ``ReviewLog`` row with the card as it was before (so undo restores it
exactly) and after.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class Card(Base):
    __tablename__ = "cards"
    __table_args__ = (
        UniqueConstraint("user_id", "question_id"),
        Index("ix_cards_user_id_due", "user_id", "due"),  # the review queue
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(ForeignKey("questions.id"), index=True)
    fsrs: Mapped[dict[str, Any]] = mapped_column(JSON)
    due: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    # fsrs.State: 1 learning, 2 review, 3 relearning.
    state: Mapped[int] = mapped_column(Integer)
    reps: Mapped[int] = mapped_column(Integer, default=0)
    # Times the card was forgotten (Again) after it had graduated to review.
    lapses: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped by every review and undo: a rating names the version it was shown, so two
    # ratings of the same showing (double click, two tabs) record one review.
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the card lapses ``User.leech_threshold`` times: a leech leaves the review
    # queue (listed on the stats page) until the user puts it back.
    leech_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Set when a re-import changed the question's answer substantially: the card offers
    # to relearn it. Cleared by relearning or by keeping the schedule.
    answer_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Interview(Base):
    """An upcoming interview the user prepares for: the review queue aims at its date."""

    __tablename__ = "interviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    company: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(200))
    stage: Mapped[str | None] = mapped_column(String(100))
    date: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReviewLog(Base):
    __tablename__ = "review_logs"
    __table_args__ = (
        Index("ix_review_logs_user_id_reviewed_at", "user_id", "reviewed_at"),
        # A list's last grade per question (card_states), from the index (0018).
        Index("ix_review_logs_user_id_question_id", "user_id", "question_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(ForeignKey("questions.id"), index=True)
    # fsrs.Rating: 1 Again, 2 Hard, 3 Good, 4 Easy.
    rating: Mapped[int] = mapped_column(Integer)
    reviewed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    # The card before this review (None: it was new) and after it.
    # none_as_null: a new card stores SQL NULL, so "card_before IS NULL" finds first reviews.
    card_before: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    card_after: Mapped[dict[str, Any]] = mapped_column(JSON)
    lapses_before: Mapped[int] = mapped_column(Integer, default=0)
    # Predicted recall probability at the time of the review (None for a new card).
    retrievability: Mapped[float | None] = mapped_column(Float)
    # Where the rating came from: "review" or (later) "quiz".
    source: Mapped[str] = mapped_column(String(16), default="review")
