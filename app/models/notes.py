"""A user's own notes on a question, and their own version of its answer or takeaway.

One ``QuestionNote`` row per user and question, holding any of three texts (markdown as
written, and its sanitised HTML rendered on save): a note, the user's answer and the
user's takeaway. The bank's ``Question`` row is never touched, so a re-import of the bank
updates the bank's version beside the user's, and "the answer changed"
(``Card.answer_changed_at``) keeps comparing the bank with itself. A row whose three texts
are all empty is deleted rather than kept.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class QuestionNote(Base):
    __tablename__ = "question_notes"
    __table_args__ = (UniqueConstraint("user_id", "question_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Questions are archived, never deleted: a note outlives its question leaving the bank.
    question_id: Mapped[str] = mapped_column(ForeignKey("questions.id"), index=True)
    note_md: Mapped[str | None] = mapped_column(Text)
    note_html: Mapped[str | None] = mapped_column(Text)
    answer_md: Mapped[str | None] = mapped_column(Text)
    answer_html: Mapped[str | None] = mapped_column(Text)
    takeaway_md: Mapped[str | None] = mapped_column(Text)
    takeaway_html: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
