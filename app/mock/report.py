"""A mock interview's report (time per question, key points covered, weakest topics,
what to review next) and a question's attempt history across mock interviews.

A topic's score in one mock interview is the mean, over its questions, of half the
share of key points covered and half the grade (Again 0, Hard 1/3, Good 2/3, Easy 1);
the lowest scores are the weakest topics. A question is to review next when it was
graded Again or Hard or covered under half of its key points.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.mock.service import get_mock, share_s
from app.models import MockAttempt, MockInterview, Question, QuestionTag, Tag, User

WEAKEST = 3
REVIEW_BELOW = 0.5


@dataclass(frozen=True)
class ItemReport:
    position: int
    question_id: str
    title: str
    seconds: float | None  # None: not answered
    over: bool  # took longer than its share of the time limit
    covered: int
    points: int
    rating: int | None

    @property
    def coverage(self) -> float:
        return self.covered / self.points if self.points else 1.0


@dataclass(frozen=True)
class TopicReport:
    tag: str
    questions: int
    score: float  # 0 (nothing covered, all Again) to 1


@dataclass(frozen=True)
class MockReport:
    mock: MockInterview
    items: list[ItemReport]
    seconds: float
    limit_s: int
    share_s: int
    covered: int
    points: int
    weakest: list[TopicReport]
    review_next: list[ItemReport]

    @property
    def finished(self) -> bool:
        return self.mock.finished_at is not None


def covered_count(attempt: MockAttempt) -> int:
    """Key points covered: as graded (matched or ticked), else as matched."""
    marks = attempt.covered if attempt.covered is not None else attempt.matched
    return sum(bool(m) for m in marks)


def _item(attempt: MockAttempt, title: str, share: int) -> ItemReport:
    seconds = attempt.duration_ms / 1000 if attempt.duration_ms is not None else None
    return ItemReport(
        position=attempt.position,
        question_id=attempt.question_id,
        title=title,
        seconds=seconds,
        over=seconds is not None and seconds > share,
        covered=covered_count(attempt),
        points=len(attempt.points),
        rating=attempt.rating,
    )


def _score(item: ItemReport) -> float:
    grade = (item.rating - 1) / 3 if item.rating is not None else 0.0
    return 0.5 * item.coverage + 0.5 * grade


def weakest_topics(
    items: list[ItemReport], tags: dict[str, list[str]], limit: int = WEAKEST
) -> list[TopicReport]:
    """The graded questions' topics, lowest score first (ties: by name)."""
    scores: dict[str, list[float]] = {}
    for item in items:
        if item.rating is None:
            continue
        for tag in tags.get(item.question_id, []):
            scores.setdefault(tag, []).append(_score(item))
    topics = [TopicReport(tag, len(s), sum(s) / len(s)) for tag, s in scores.items()]
    return sorted(topics, key=lambda t: (t.score, t.tag))[:limit]


def to_review(items: list[ItemReport]) -> list[ItemReport]:
    """Questions graded Again or Hard or under half covered, worst first."""
    weak = [
        i for i in items if i.rating is not None and (i.rating <= 2 or i.coverage < REVIEW_BELOW)
    ]
    return sorted(weak, key=lambda i: (i.rating or 0, i.coverage, i.position))


def _titles_and_tags(
    session: Session, question_ids: list[str]
) -> tuple[dict[str, str], dict[str, list[str]]]:
    rows = session.execute(select(Question.id, Question.title).where(Question.id.in_(question_ids)))
    titles: dict[str, str] = dict(rows.all())
    tags: dict[str, list[str]] = {}
    for question_id, name in session.execute(
        select(QuestionTag.question_id, Tag.name)
        .join(Tag, Tag.id == QuestionTag.tag_id)
        .where(QuestionTag.question_id.in_(question_ids))
        .order_by(QuestionTag.question_id, QuestionTag.position)
    ):
        tags.setdefault(question_id, []).append(name)
    return titles, tags


def mock_report(*, session: Session, user: User, mock_id: int) -> MockReport:
    mock = get_mock(session=session, user=user, mock_id=mock_id)
    ids = [a.question_id for a in mock.attempts]
    titles, tags = _titles_and_tags(session, ids)
    share = share_s(mock)
    items = [_item(a, titles.get(a.question_id, a.question_id), share) for a in mock.attempts]
    return MockReport(
        mock=mock,
        items=items,
        seconds=sum(i.seconds or 0.0 for i in items),
        limit_s=mock.limit_s,
        share_s=share,
        covered=sum(i.covered for i in items),
        points=sum(i.points for i in items),
        weakest=weakest_topics(items, tags),
        review_next=to_review(items),
    )


@dataclass(frozen=True)
class AttemptView:
    """One answered attempt of a question, as its history lists it."""

    mock_id: int
    position: int
    answered_at: dt.datetime
    seconds: float
    covered: int
    points: int
    text: str
    rating: int | None
    company: str | None
    stage: str | None


def attempt_history(*, session: Session, user: User, question_id: str) -> list[AttemptView]:
    """Every answered attempt of ``question_id`` by ``user``, newest first."""
    rows = session.execute(
        select(MockAttempt, MockInterview.company, MockInterview.stage)
        .join(MockInterview, MockInterview.id == MockAttempt.mock_id)
        .where(
            MockAttempt.user_id == user.id,
            MockAttempt.question_id == question_id,
            MockAttempt.answered_at.is_not(None),
        )
        .order_by(MockAttempt.answered_at.desc(), MockAttempt.id.desc())
    )
    views: list[AttemptView] = []
    for attempt, company, stage in rows:
        assert attempt.answered_at is not None
        views.append(
            AttemptView(
                mock_id=attempt.mock_id,
                position=attempt.position,
                answered_at=attempt.answered_at,
                seconds=(attempt.duration_ms or 0) / 1000,
                covered=covered_count(attempt),
                points=len(attempt.points),
                text=attempt.text or "",
                rating=attempt.rating,
                company=company,
                stage=stage,
            )
        )
    return views
