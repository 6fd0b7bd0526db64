"""Mock interviews: a timed run of questions for one company and round, answered in
the user's own words, then compared with the reference answer and graded.

A ``MockInterview`` remembers how it was chosen (company, stage, the interview from the
plan it practises for, its length and time limit) and its seed; its ``MockAttempt``
rows are the questions in the order they are asked. An attempt is shown (``shown_at``,
set by the server the first time the question is on screen), answered (``answered_at``,
the text, the key points the matcher found) and graded (``rating``, the points the user
ticked). Attempts are the per-question history too: every answered attempt of a
question, across mock interviews, is one entry of it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime


class MockInterview(Base):
    __tablename__ = "mock_interviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The interview from the plan it practises for (kept when that interview is deleted).
    interview_id: Mapped[int | None] = mapped_column(
        ForeignKey("interviews.id", ondelete="SET NULL"), index=True
    )
    # None: questions from any company (then weighted by weak topics alone).
    company: Mapped[str | None] = mapped_column(String(200))
    stage: Mapped[str | None] = mapped_column(String(100))
    # The questions asked for: the mock has fewer when the bank has fewer.
    count: Mapped[int] = mapped_column(Integer)
    # The whole interview's time limit; each question's share is limit / count.
    limit_s: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    # Whether grades feed the flashcards (the user's quiz_feeds_reviews when created).
    feeds_reviews: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    attempts: Mapped[list[MockAttempt]] = relationship(
        back_populates="mock", order_by="MockAttempt.position", cascade="all, delete-orphan"
    )


class MockAttempt(Base):
    __tablename__ = "mock_attempts"
    __table_args__ = (
        UniqueConstraint("mock_id", "position"),
        # A question's attempt history, newest first.
        Index("ix_mock_attempts_user_id_question_id", "user_id", "question_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mock_id: Mapped[int] = mapped_column(
        ForeignKey("mock_interviews.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[str] = mapped_column(ForeignKey("questions.id"), index=True)
    # Why it was picked: 1 asked at this company and round, 2 asked by this company,
    # 3 shares a topic with those, 4 any other question.
    tier: Mapped[int] = mapped_column(Integer)
    shown_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # answered_at - shown_at, measured by the server; the page's own timer is only shown.
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    # The question's key terms when answered, and for each whether the matcher found it.
    points: Mapped[list[str]] = mapped_column(JSON, default=list)
    matched: Mapped[list[bool]] = mapped_column(JSON, default=list)
    # For each point whether it counts as covered once graded (matched or ticked by hand).
    covered: Mapped[list[bool] | None] = mapped_column(JSON(none_as_null=True))
    # fsrs.Rating the user gave: 1 Again, 2 Hard, 3 Good, 4 Easy; None until graded.
    rating: Mapped[int | None] = mapped_column(Integer)
    graded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    mock: Mapped[MockInterview] = relationship(back_populates="attempts")
