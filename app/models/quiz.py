"""Quizzes: a test over a chosen slice of the bank, saved as it goes.

A ``Quiz`` remembers how it was chosen (``spec``: filters, focus, count, types) and its
seed; its ``QuizItem`` rows hold each question's type, the built payload (choices, the
cloze text), and, once answered, the response and its grade.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime


class Quiz(Base):
    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    seed: Mapped[int] = mapped_column(Integer)
    # {"filter": {...facets, "q"}, "focus": "all"|"due_soon"|"weakest", "count": n, "types": [...]}
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Whether wrong answers were fed to the review schedule as Again.
    feeds_reviews: Mapped[bool] = mapped_column(Boolean, default=True)

    items: Mapped[list[QuizItem]] = relationship(
        back_populates="quiz", order_by="QuizItem.position", cascade="all, delete-orphan"
    )


class QuizItem(Base):
    __tablename__ = "quiz_items"
    __table_args__ = (UniqueConstraint("quiz_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[str] = mapped_column(ForeignKey("questions.id"), index=True)
    # "recall", "takeaway" or "cloze"
    type: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    # "correct", "near", "wrong" or "empty"; None until answered.
    verdict: Mapped[str | None] = mapped_column(String(8))
    correct: Mapped[bool | None] = mapped_column(Boolean)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)

    quiz: Mapped[Quiz] = relationship(back_populates="items")
