"""A quiz's results: score, time, every mistake with the reference answer, accuracy per
topic tag and per company, and the trend over the user's past quizzes."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Asked, Question, QuestionTag, Quiz, QuizItem, Tag, User
from app.quiz.grade import plain_text
from app.quiz.service import get_quiz, grade_response


@dataclass(frozen=True)
class ItemResult:
    position: int
    question_id: str
    title: str
    title_html: str
    answer_html: str
    type: str
    verdict: str | None
    correct: bool
    expected: str
    response: dict[str, object] | None
    # What the user answered, as text (the chosen takeaway's text, the typed words);
    # None for true/false (the page names the button) and for an unanswered item.
    given: str | None = None
    # True/false: the statement judged, and the measured answer (True: it holds).
    statement_html: str | None = None
    truth: bool | None = None
    explanation: str | None = None


@dataclass(frozen=True)
class Accuracy:
    name: str
    correct: int
    total: int

    @property
    def share(self) -> float:
        return self.correct / self.total if self.total else 0.0


@dataclass(frozen=True)
class TrendPoint:
    quiz_id: int
    finished_at: dt.datetime
    score: float


@dataclass
class QuizResults:
    quiz_id: int
    finished: bool
    total: int
    correct: int
    seconds: int
    items: list[ItemResult] = field(default_factory=list)
    per_tag: list[Accuracy] = field(default_factory=list)
    per_company: list[Accuracy] = field(default_factory=list)
    trend: list[TrendPoint] = field(default_factory=list)

    @property
    def score(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def mistakes(self) -> list[ItemResult]:
        return [i for i in self.items if i.verdict is not None and not i.correct]


def given_text(item: QuizItem) -> str | None:
    """What was answered to ``item``, as plain text (None: true/false, or no answer)."""
    response = item.response or {}
    if item.answered_at is None or item.type == "truefalse":
        return None
    if item.type == "takeaway":
        choice = response.get("choice")
        choices = item.payload.get("choices") or []
        if isinstance(choice, int) and 0 <= choice < len(choices):
            return plain_text(str(choices[choice].get("html", "")))
        return ""
    text = response.get("text")
    return text.strip() if isinstance(text, str) else ""


def _accuracy(groups: dict[str, list[bool]]) -> list[Accuracy]:
    rows = [Accuracy(name, sum(v), len(v)) for name, v in groups.items()]
    return sorted(rows, key=lambda a: (a.share, -a.total, a.name))


def _score(quiz: Quiz) -> float:
    answered = [i for i in quiz.items if i.correct is not None]
    return sum(bool(i.correct) for i in answered) / len(quiz.items) if quiz.items else 0.0


def quiz_results(*, session: Session, user: User, quiz_id: int, now: dt.datetime) -> QuizResults:
    quiz = get_quiz(session=session, user=user, quiz_id=quiz_id)
    ids = [i.question_id for i in quiz.items]
    questions = {q.id: q for q in session.scalars(select(Question).where(Question.id.in_(ids)))}
    tags: dict[str, list[str]] = defaultdict(list)
    for qid, name in session.execute(
        select(QuestionTag.question_id, Tag.name)
        .join(Tag, Tag.id == QuestionTag.tag_id)
        .where(QuestionTag.question_id.in_(ids))
    ):
        tags[qid].append(name)
    companies: dict[str, set[str]] = defaultdict(set)
    for qid, company in session.execute(
        select(Asked.question_id, Asked.company).where(
            Asked.question_id.in_(ids), Asked.company.is_not(None)
        )
    ):
        if company is not None:
            companies[qid].add(company)

    items: list[ItemResult] = []
    by_tag: dict[str, list[bool]] = defaultdict(list)
    by_company: dict[str, list[bool]] = defaultdict(list)
    for item in quiz.items:
        question = questions[item.question_id]
        expected = grade_response(item, item.response or {}).expected
        payload = item.payload
        truefalse = item.type == "truefalse"
        items.append(
            ItemResult(
                position=item.position,
                question_id=item.question_id,
                title=question.title,
                title_html=question.title_html,
                answer_html=question.answer_html,
                type=item.type,
                verdict=item.verdict,
                correct=bool(item.correct),
                expected=expected,
                response=item.response,
                given=given_text(item),
                statement_html=str(payload.get("statement_html", "")) if truefalse else None,
                truth=payload.get("answer") == 1 if truefalse else None,
                explanation=str(payload.get("explanation") or "") if truefalse else None,
            )
        )
        if item.correct is None:
            continue
        for tag in tags[item.question_id]:
            by_tag[tag].append(bool(item.correct))
        for company in companies[item.question_id]:
            by_company[company].append(bool(item.correct))

    end = quiz.finished_at or now
    past = session.scalars(
        select(Quiz)
        .where(Quiz.user_id == user.id, Quiz.finished_at.is_not(None))
        .order_by(Quiz.finished_at.desc())
        .limit(20)
    ).all()
    trend = [TrendPoint(q.id, q.finished_at, _score(q)) for q in reversed(past) if q.finished_at]
    return QuizResults(
        quiz_id=quiz.id,
        finished=quiz.finished_at is not None,
        total=len(quiz.items),
        correct=sum(bool(i.correct) for i in quiz.items),
        seconds=max(0, int((end - quiz.created_at).total_seconds())),
        items=items,
        per_tag=_accuracy(by_tag),
        per_company=_accuracy(by_company),
        trend=trend,
    )


def past_quizzes(*, session: Session, user: User, limit: int = 20) -> list[tuple[Quiz, int, int]]:
    """The user's recent quizzes with (answered, total) item counts, newest first."""
    quizzes = session.scalars(
        select(Quiz).where(Quiz.user_id == user.id).order_by(Quiz.created_at.desc()).limit(limit)
    ).all()
    return [(q, sum(i.answered_at is not None for i in q.items), len(q.items)) for q in quizzes]


__all__ = ["QuizItem", "QuizResults", "given_text", "past_quizzes", "quiz_results"]
