"""The question bank's ORM models.

The question bank: a ``Chapter`` per markdown file, its ``Question``s, each with one or
more ``Asked`` records (company, role, stage, date) and topic ``Tag``s. Question ids are
stable strings, so everything attached to a question survives a re-import.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow


class Chapter(Base):
    __tablename__ = "chapters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The source file's path relative to the content directory, e.g. "llm-sft.md".
    source_file: Mapped[str] = mapped_column(String(500), unique=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    questions: Mapped[list[Question]] = relationship(back_populates="chapter")


class Question(Base):
    __tablename__ = "questions"
    # Bank order (new cards are introduced in it).
    __table_args__ = (
        Index("ix_questions_source_file_position", "source_file", "position"),
        Index("ix_questions_archived_at_id", "archived_at", "id"),  # active ids (0016)
        # Bank order and chapter counts from the index (0018).
        Index("ix_questions_chapter_order", "chapter_id", "position", "archived_at", "id"),
    )

    # Stable id: "<chapter slug>-<hash of the title>", or pinned with <!-- id: slug -->.
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id"), index=True)
    section: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    answer_md: Mapped[str] = mapped_column(Text)
    # Rendered once per import: sanitised HTML with math as MathML.
    title_html: Mapped[str] = mapped_column(Text, default="")
    answer_html: Mapped[str] = mapped_column(Text, default="")
    takeaway_html: Mapped[str | None] = mapped_column(Text)
    # Case- and width-folded title, answer text, tags and companies, for substring search.
    search_text: Mapped[str] = mapped_column(Text, default="")
    # The <mark> text: the answer's key takeaway, as markdown.
    takeaway: Mapped[str | None] = mapped_column(Text)
    # Bold phrases of the answer (labels like "**方法**：" left out).
    key_terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    reference_links: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_file: Mapped[str] = mapped_column(String(500), index=True)
    source_line: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    # sha256 of everything parsed for the question: a re-import skips unchanged ones.
    content_hash: Mapped[str] = mapped_column(String(64))
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    chapter: Mapped[Chapter] = relationship(back_populates="questions")
    asked: Mapped[list[Asked]] = relationship(
        back_populates="question", order_by="Asked.position", cascade="all, delete-orphan"
    )
    tag_links: Mapped[list[QuestionTag]] = relationship(
        back_populates="question", order_by="QuestionTag.position", cascade="all, delete-orphan"
    )

    @property
    def tags(self) -> list[str]:
        return [link.tag.name for link in self.tag_links]


class Asked(Base):
    """One time the question was asked: by whom, for which role, at which stage, when."""

    __tablename__ = "asked"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[str] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    company: Mapped[str | None] = mapped_column(String(200), index=True)
    role: Mapped[str | None] = mapped_column(String(200), index=True)
    stage: Mapped[str | None] = mapped_column(String(100), index=True)
    date: Mapped[dt.date | None] = mapped_column(Date)

    question: Mapped[Question] = relationship(back_populates="asked")


class Tag(Base):
    """A topic tag. ``key`` is the case- and width-folded spelling; ``name`` is the most
    frequent spelling among the questions that carry it."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class QuestionTag(Base):
    __tablename__ = "question_tags"

    question_id: Mapped[str] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id"), primary_key=True, index=True)
    # The spelling used in this question's metadata line, e.g. "LORA".
    spelling: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)

    question: Mapped[Question] = relationship(back_populates="tag_links")
    tag: Mapped[Tag] = relationship()


class ParsedFileCache(Base):
    """The last parse of a content file (see ``app.content.cache``)."""

    __tablename__ = "parsed_files"

    source_file: Mapped[str] = mapped_column(String(500), primary_key=True)
    # sha256 of the parser's code, the file's path and its bytes.
    key: Mapped[str] = mapped_column(String(64), index=True)
    # ``app.content.cache.encode``: JSON, compressed (Zstandard).
    payload: Mapped[bytes] = mapped_column(LargeBinary)
