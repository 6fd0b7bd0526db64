"""Study fixtures: a small two-chapter bank imported into a fresh migrated SQLite file
database, the local user, and helpers to rate and inspect cards."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.content.filters import QuestionFilter
from app.content.importer import import_paths
from app.models import Card, Question, ReviewLog, User
from app.study import review
from app.users.service import local_user
from tests.conftest import WriteMd

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
MINUTE = dt.timedelta(minutes=1)
ALL = QuestionFilter()

CHAPTER_A = """
# 第一章
## 小节
### Q. 问题一
> **Company**: 阿里 | **Round**: 算法工程师 一面 | **Date**: 2025-08-01 | **Tags**: [LoRA, PEFT]
答案一
### Q. 问题二
> **Company**: 美团 | **Round**: 算法工程师 二面 | **Date**: 2025-08-02 | **Tags**: [LORA]
答案二
### Q. 问题三
> **Company**: 阿里 | **Round**: 算法工程师 二面 | **Date**: 2025-08-03 | **Tags**: [RLHF]
答案三
"""
CHAPTER_B = """
# 第二章
### Q. 问题四
> **Company**: 腾讯 | **Tags**: [量化]
答案四
### Q. 问题五
> **Company**: 快手 | **Tags**: [量化]
答案五
"""


def load(factory: sessionmaker[Session], content_dir: Path, now: dt.datetime = T0) -> None:
    with factory() as session, session.begin():
        report = import_paths(session, paths=[content_dir], content_dir=content_dir, now=now)
    assert report.ok, report.errors


@pytest.fixture
def session(
    session_factory: sessionmaker[Session], write_md: WriteMd, content_dir: Path
) -> Iterator[Session]:
    write_md("a.md", CHAPTER_A)
    write_md("b.md", CHAPTER_B)
    load(session_factory, content_dir)
    with session_factory() as session:
        yield session


@pytest.fixture
def user(session: Session) -> User:
    return local_user(session=session)


def qid(session: Session, title: str) -> str:
    return session.scalars(select(Question.id).where(Question.title == title)).one()


def card_row(session: Session, question_id: str) -> Card | None:
    return session.scalars(
        select(Card)
        .where(Card.question_id == question_id)
        .execution_options(populate_existing=True)
    ).first()


def log_count(session: Session) -> int:
    return int(session.scalar(select(func.count(ReviewLog.id))) or 0)


def rate(
    session: Session,
    user: User,
    question_id: str,
    rating: int,
    now: dt.datetime,
    version: int | None = None,
) -> review.RateResult:
    """Rate the card at its current version (the showing the caller just saw)."""
    if version is None:
        row = card_row(session, question_id)
        version = row.version if row is not None else 0
    return review.rate(
        session=session,
        user=user,
        question_id=question_id,
        rating=rating,
        version=version,
        duration_ms=1500,
        now=now,
    )
