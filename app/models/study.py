"""Flashcard state (FSRS) and the review log.

A question a user has never reviewed has no ``Card`` row: it is new. ``Card.fsrs`` holds
``fsrs.Card.to_dict()``; ``due``, ``state``, ``stability`` and ``last_review`` are copied
out of it for queries (``fsrs_columns``). Each review appends a ``ReviewLog`` row with the
card as it was before (so undo restores it exactly) and after.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.engine.interfaces import ExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


def fsrs_columns(card: Mapping[str, Any] | None) -> dict[str, Any]:
    """``Card.stability`` and ``Card.last_review`` for an fsrs card dict (``None``: no
    card): its own two fields, the time as an aware UTC datetime; None where the card
    has none (never reviewed)."""
    stability = None if card is None else card.get("stability")
    last = None if card is None else card.get("last_review")
    when = None if last is None else dt.datetime.fromisoformat(last)
    if when is not None:
        when = when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
    return {"stability": None if stability is None else float(stability), "last_review": when}


def _from_fsrs(name: str) -> Callable[[ExecutionContext], Any]:
    """An INSERT's default for the column ``name``: derived from the row's ``fsrs``."""

    def default(context: ExecutionContext) -> Any:
        return fsrs_columns(context.get_current_parameters().get("fsrs"))[name]  # type: ignore[attr-defined]

    return default


class Card(Base):
    """One user's flashcard of one question.

    ``fsrs`` is the source of truth, the scheduler's card (``fsrs.Card.to_dict()``).
    ``due``, ``state``, ``stability`` and ``last_review`` are derived from it, so queries
    need not decode the JSON: ``stability`` (days) and ``last_review`` (aware UTC) are
    the two fields fsrs's retrievability reads (the stats page's recall of every card),
    None while the card was never reviewed (a new or relearned card). Every statement
    that writes ``fsrs`` writes them too, from ``fsrs_columns(card)`` (the rating, undo,
    relearning; migration 0019 filled them for existing cards); an INSERT that leaves
    them out gets them from its ``fsrs`` (the column default: the user-data import,
    direct inserts). ``tests/study/test_card_columns.py`` checks they agree.
    """

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
    # fsrs's stability (days) and last review, from ``fsrs`` (see the class docstring).
    stability: Mapped[float | None] = mapped_column(Float, default=_from_fsrs("stability"))
    last_review: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, default=_from_fsrs("last_review")
    )
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
