"""A real study history to export: reviews at injected times (new cards, learning steps,
a lapse), a quiz with wrong answers that feed the schedule, an interview, non-default
settings; mock interviews (``make_mocks``); and ``snapshot``, everything a user sees of
it, to compare two databases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.content.filters import QuestionFilter
from app.db import make_engine, migrate
from app.mock import service as mock_service
from app.mock.report import attempt_history, mock_report
from app.models import Card, Interview, MockInterview, Question, Quiz, ReviewLog, User
from app.quiz.results import quiz_results
from app.quiz.service import QuizSpec, answer_item, create_quiz
from app.study import review
from app.study.queue import queue_counts
from tests.web.conftest import import_seed

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)
# When the queue is compared: the same day, the next days, a month on.
CHECK_TIMES = (T0 + 30 * MINUTE, T0 + DAY, T0 + 3 * DAY, T0 + 9 * DAY, T0 + 40 * DAY)


def seeded_engine(settings: Settings, data_dir: Path, content_dir: Path) -> Engine:
    """A fresh migrated database in ``data_dir`` with the seed bank imported."""
    engine = make_engine(settings.model_copy(update={"data_dir": data_dir}))
    migrate(engine)
    import_seed(engine, content_dir)
    return engine


def bank_ids(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(Question.id)
            .where(Question.archived_at.is_(None))
            .order_by(Question.source_file, Question.position)
        )
    )


def rate(session: Session, user: User, question_id: str, rating: int, now: dt.datetime) -> None:
    version = review.current_version(session=session, user=user, question_id=question_id)
    review.rate(
        session=session,
        user=user,
        question_id=question_id,
        rating=rating,
        version=version,
        duration_ms=4000,
        now=now,
    )


def make_history(session: Session, user: User) -> None:
    user.timezone = "Asia/Shanghai"
    user.new_per_day = 5
    user.desired_retention = 0.92
    user.leech_threshold = 6
    session.commit()
    ids = bank_ids(session)
    for n, (qid, rating) in enumerate(zip(ids[:4], (3, 1, 4, 2), strict=True)):
        rate(session, user, qid, rating, T0 + n * MINUTE)
    rate(session, user, ids[1], 3, T0 + 12 * MINUTE)
    rate(session, user, ids[0], 3, T0 + 15 * MINUTE)
    rate(session, user, ids[3], 3, T0 + 20 * MINUTE)
    rate(session, user, ids[0], 3, T0 + 3 * DAY)
    rate(session, user, ids[2], 1, T0 + 4 * DAY)  # a lapse
    rate(session, user, ids[4], 3, T0 + 4 * DAY + MINUTE)
    spec = QuizSpec(flt=QuestionFilter(), count=3, types=("recall",))
    quiz = create_quiz(session=session, user=user, spec=spec, now=T0 + 5 * DAY, seed=11)
    for position in range(len(quiz.items)):
        answer_item(
            session=session,
            user=user,
            quiz_id=quiz.id,
            position=position,
            response={"text": "低秩分解", "self_grade": position != 1},
            now=T0 + 5 * DAY + (position + 1) * MINUTE,
            duration_ms=30_000,
        )
    card = session.scalars(select(Card).where(Card.question_id == ids[2])).one()
    card.leech_at = T0 + 4 * DAY
    session.add(
        Interview(
            user_id=user.id,
            company="美团",
            role="算法工程师",
            stage="二面",
            date=dt.date(2026, 3, 20),
            created_at=T0,
        )
    )
    session.commit()


def make_mocks(session: Session, user: User) -> None:
    """Two mock interviews after ``make_history``: one for its interview, answered and
    graded (a grade feeds the flashcards), one by company, half done."""
    interview = session.scalars(select(Interview).where(Interview.user_id == user.id)).one()
    start = T0 + 6 * DAY
    planned = mock_service.MockSpec(interview_id=interview.id, count=3, minutes=6)
    mock = mock_service.create_mock(session=session, user=user, spec=planned, now=start, seed=5)
    texts = ("低秩分解，参数更少", "", "量化后的 LORA 用 4-bit")
    for position, rating in enumerate((3, 1, 4)):
        _answer(session, user, mock, position, texts[position], start, 40 + 70 * position)
        attempt = mock.attempts[position]
        ticked = [i for i, hit in enumerate(attempt.matched) if hit]
        covered = ticked + ([len(attempt.points) - 1] if position == 2 and attempt.points else [])
        mock_service.grade(
            session=session, user=user, mock_id=mock.id, position=position, rating=rating,
            covered=sorted(set(covered)), now=start + (position + 1) * 5 * MINUTE,
        )  # fmt: skip
    later = start + DAY
    spec = mock_service.MockSpec(company="阿里国际", count=2, minutes=10)
    other = mock_service.create_mock(session=session, user=user, spec=spec, now=later, seed=3)
    _answer(session, user, other, 0, "QLoRA: 4-bit", later, 95)


def _answer(
    session: Session,
    user: User,
    mock: MockInterview,
    position: int,
    text: str,
    start: dt.datetime,
    seconds: int,
) -> None:
    shown = start + position * 5 * MINUTE
    mock_service.show(session=session, user=user, mock_id=mock.id, position=position, now=shown)
    mock_service.answer(
        session=session, user=user, mock_id=mock.id, position=position, text=text,
        now=shown + dt.timedelta(seconds=seconds),
    )  # fmt: skip


def mock_snapshot(session: Session, user: User) -> list[Any]:
    """The user's mock interviews as their report and history pages show them."""
    shots: list[Any] = []
    for mock in session.scalars(
        select(MockInterview)
        .where(MockInterview.user_id == user.id)
        .order_by(MockInterview.created_at, MockInterview.id)
    ):
        r = mock_report(session=session, user=user, mock_id=mock.id)
        planned = session.get(Interview, mock.interview_id) if mock.interview_id else None
        attempts = [
            (
                a.position, a.question_id, a.tier, a.shown_at, a.answered_at, a.duration_ms,
                a.text, a.points, a.matched, a.covered, a.rating, a.graded_at,
            )
            for a in mock.attempts
        ]  # fmt: skip
        history = [
            [(h.position, h.answered_at, h.seconds, h.covered, h.points, h.text, h.rating)
             for h in attempt_history(session=session, user=user, question_id=a.question_id)]
            for a in mock.attempts
        ]  # fmt: skip
        shots.append(
            (
                mock.company, mock.stage, planned.date if planned else None, mock.count,
                mock.limit_s, mock.seed, mock.feeds_reviews, mock.created_at, mock.finished_at,
                r.items, r.seconds, r.share_s, r.covered, r.points, r.weakest,
                [i.question_id for i in r.review_next], attempts, history,
            )
        )  # fmt: skip
    return shots


def snapshot(session: Session, user: User) -> dict[str, Any]:
    """What the user sees of their history: cards and due dates, the review log, the
    queue at several times, quiz results, interviews, settings and mock interviews (no
    row ids)."""
    session.expire_all()
    cards = {
        c.question_id: (
            c.fsrs, c.due, c.state, c.reps, c.lapses, c.version, c.created_at, c.leech_at,
            c.answer_changed_at,
        )
        for c in session.scalars(select(Card).where(Card.user_id == user.id))
    }  # fmt: skip
    logs = [
        (
            r.question_id, r.rating, r.reviewed_at, r.duration_ms, r.card_before, r.card_after,
            r.lapses_before, r.retrievability, r.source,
        )
        for r in session.scalars(
            select(ReviewLog).where(ReviewLog.user_id == user.id).order_by(ReviewLog.id)
        )
    ]  # fmt: skip
    queue = [
        queue_counts(session=session, user=user, flt=flt, now=now)
        for now in CHECK_TIMES
        for flt in (QuestionFilter(), QuestionFilter(company=("美团",)))
    ]
    quizzes = []
    for quiz_id in session.scalars(
        select(Quiz.id).where(Quiz.user_id == user.id).order_by(Quiz.id)
    ):
        res = quiz_results(session=session, user=user, quiz_id=quiz_id, now=T0 + 6 * DAY)
        quizzes.append(
            (
                res.finished, res.total, res.correct, res.seconds,
                [(i.position, i.question_id, i.type, i.verdict, i.correct, i.response)
                 for i in res.items],
                res.per_tag, res.per_company, [t.score for t in res.trend],
            )
        )  # fmt: skip
    interviews = [
        (i.company, i.role, i.stage, i.date, i.created_at)
        for i in session.scalars(select(Interview).where(Interview.user_id == user.id))
    ]
    settings = (
        user.new_per_day, user.desired_retention, user.timezone, user.quiz_feeds_reviews,
        user.leech_threshold, user.language,
    )  # fmt: skip
    return {
        "cards": cards,
        "logs": logs,
        "queue": queue,
        "quizzes": quizzes,
        "interviews": interviews,
        "settings": settings,
        "mocks": mock_snapshot(session, user),
    }
