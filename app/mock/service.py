"""Mock interview services: create one, show its questions one at a time, record an
answer (timed by the server) and its grade. Keyword-only; they own the SQL and commit.

A question's time runs from the first time the server shows it (``shown_at``) to the
answer's arrival (``answered_at``); the page's timer only displays it, so a reload or a
closed tab neither restarts nor stops the clock.

An answer is matched against the question's key terms with the written-recall matcher
(``app.quiz.grade.recall_coverage``); the user may tick more by hand (or untick a false
match) when grading. When the mock interview feeds reviews (the user's
``quiz_feeds_reviews`` setting, as quizzes), each grade is a review of the question's
flashcard, recorded in the review log with ``source="mock"``: a mock answer is recall in
the user's own words, so Good and Easy count as well as Again and Hard.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound, Unprocessable
from app.i18n import mark as _
from app.mock import pick
from app.models import Interview, MockAttempt, MockInterview, Question, User
from app.quiz.grade import recall_coverage
from app.study import review
from app.study.scheduler import as_utc
from app.study.undo import rows_changed

MOCK_SOURCE = "mock"
MAX_COUNT = 20
MAX_MINUTES = 240
MAX_TEXT = 20_000
RATINGS = (1, 2, 3, 4)


@dataclass(frozen=True)
class MockSpec:
    """How a mock interview is chosen: a company and round typed in, or an interview
    from the plan (its company and stage), and its length."""

    company: str | None = None
    stage: str | None = None
    interview_id: int | None = None
    count: int = 5
    minutes: int = 30


def _clean(value: str | None, field: str) -> str | None:
    text = " ".join((value or "").split())
    if not text.isprintable():
        raise Unprocessable(_("%(field)s must not hold control characters"), field=field)
    return text or None


def check_spec(spec: MockSpec) -> None:
    if isinstance(spec.count, bool) or not 1 <= spec.count <= MAX_COUNT:
        raise Unprocessable(
            _("%(field)s %(value)s must be between 1 and %(limit)d"),
            field="count",
            value=spec.count,
            limit=MAX_COUNT,
        )
    if isinstance(spec.minutes, bool) or not 1 <= spec.minutes <= MAX_MINUTES:
        raise Unprocessable(
            _("%(field)s %(value)s must be between 1 and %(limit)d"),
            field="minutes",
            value=spec.minutes,
            limit=MAX_MINUTES,
        )


def _target(session: Session, user: User, spec: MockSpec) -> tuple[str | None, str | None]:
    """The company (in the bank's spelling) and stage the mock interview is for."""
    company: str | None
    if spec.interview_id is not None:
        interview = session.get(Interview, spec.interview_id)
        if interview is None or interview.user_id != user.id:
            raise NotFound(
                _("you have no interview %(id)d"), field="interview_id", id=spec.interview_id
            )
        company, stage = interview.company, interview.stage
    else:
        company, stage = _clean(spec.company, "company"), _clean(spec.stage, "stage")
    if company is None:
        return None, stage
    spelled = pick.company_spelling(session, company)
    if spelled is None:
        raise Unprocessable(
            _("no question of the bank was asked by %(company)s"), field="company", company=company
        )
    return spelled, stage


def create_mock(
    *, session: Session, user: User, spec: MockSpec, now: dt.datetime, seed: int | None = None
) -> MockInterview:
    """A new mock interview of ``spec.count`` questions (fewer when the bank has fewer)
    and ``spec.minutes`` minutes; ``seed`` makes the draw repeatable."""
    check_spec(spec)
    now = as_utc(now)
    company, stage = _target(session, user, spec)
    seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
    pool = pick.candidates(session=session, user=user, company=company, stage=stage, now=now)
    chosen = pick.choose(pool, spec.count, random.Random(seed))
    if not chosen:
        raise Unprocessable(_("the bank has no question to ask"), field="company")
    mock = MockInterview(
        user_id=user.id,
        interview_id=spec.interview_id,
        company=company,
        stage=stage,
        count=spec.count,
        limit_s=spec.minutes * 60,
        seed=seed,
        feeds_reviews=user.quiz_feeds_reviews,
        created_at=now,
    )
    mock.attempts = [
        MockAttempt(user_id=user.id, position=i, question_id=c.question_id, tier=c.tier)
        for i, c in enumerate(chosen)
    ]
    session.add(mock)
    session.commit()
    return mock


def get_mock(*, session: Session, user: User, mock_id: int) -> MockInterview:
    mock = session.get(MockInterview, mock_id)
    if mock is None or mock.user_id != user.id:
        raise NotFound(_("you have no mock interview %(id)d"), field="mock_id", id=mock_id)
    return mock


def attempt_at(mock: MockInterview, position: int) -> MockAttempt:
    if not 0 <= position < len(mock.attempts):
        raise NotFound(
            _("mock interview %(id)d has no question %(position)d"),
            field="position",
            id=mock.id,
            position=position,
        )
    return mock.attempts[position]


def current_attempt(mock: MockInterview) -> MockAttempt | None:
    """The first question not graded yet: where a closed tab resumes."""
    return next((a for a in mock.attempts if a.rating is None), None)


def share_s(mock: MockInterview) -> int:
    """Each question's share of the time limit, in seconds."""
    return mock.limit_s // max(1, len(mock.attempts))


def show(
    *, session: Session, user: User, mock_id: int, position: int, now: dt.datetime
) -> MockAttempt:
    """Start the clock of a question the first time it is shown (never again)."""
    mock = get_mock(session=session, user=user, mock_id=mock_id)
    attempt = attempt_at(mock, position)
    if attempt.shown_at is None:
        rows_changed(
            session,
            update(MockAttempt)
            .where(MockAttempt.id == attempt.id, MockAttempt.shown_at.is_(None))
            .values(shown_at=as_utc(now))
            .execution_options(synchronize_session=False),
        )
        session.commit()
        session.refresh(attempt)
    return attempt


def answer(
    *, session: Session, user: User, mock_id: int, position: int, text: str, now: dt.datetime
) -> MockAttempt:
    """Record the answer to a question, its time and the key points it matches.
    Answering an answered question changes nothing (double click, second tab)."""
    if len(text) > MAX_TEXT:
        raise Unprocessable(
            _("%(field)s is %(length)d characters long; at most %(limit)d are allowed"),
            field="text",
            length=len(text),
            limit=MAX_TEXT,
        )
    now = as_utc(now)
    mock = get_mock(session=session, user=user, mock_id=mock_id)
    attempt = attempt_at(mock, position)
    if attempt.answered_at is not None:
        return attempt
    shown = attempt.shown_at or now
    question = session.get(Question, attempt.question_id)
    terms = list(question.key_terms) if question is not None else []
    matched = [hit for _, hit in recall_coverage(text, terms)]
    recorded = rows_changed(
        session,
        update(MockAttempt)
        .where(MockAttempt.id == attempt.id, MockAttempt.answered_at.is_(None))
        .values(
            shown_at=shown,
            answered_at=now,
            duration_ms=max(0, int((now - shown).total_seconds() * 1000)),
            text=text,
            points=terms,
            matched=matched,
        )
        .execution_options(synchronize_session=False),
    )
    if recorded:
        session.commit()
    else:
        session.rollback()
    session.refresh(attempt)
    return attempt


def _check_covered(attempt: MockAttempt, covered: Sequence[int]) -> list[bool]:
    bad = [i for i in covered if isinstance(i, bool) or not 0 <= i < len(attempt.points)]
    if bad:
        raise Unprocessable(
            _("%(field)s %(value)s: this question has %(count)d key points"),
            field="covered",
            value=bad[0],
            count=len(attempt.points),
        )
    chosen = set(covered)
    return [i in chosen for i in range(len(attempt.points))]


def grade(
    *,
    session: Session,
    user: User,
    mock_id: int,
    position: int,
    rating: int,
    covered: Sequence[int],
    now: dt.datetime,
) -> MockAttempt:
    """Record the user's grade of an answer (1 Again .. 4 Easy) and the key points it
    covered (indexes into ``attempt.points``: the matched ones, ticked or unticked by
    hand); feed the flashcard. Grading a graded question changes nothing."""
    if isinstance(rating, bool) or rating not in RATINGS:
        raise Unprocessable(
            _("%(field)s %(value)s is not one of 1 (Again), 2 (Hard), 3 (Good), 4 (Easy)"),
            field="rating",
            value=rating,
        )
    now = as_utc(now)
    mock = get_mock(session=session, user=user, mock_id=mock_id)
    attempt = attempt_at(mock, position)
    if attempt.answered_at is None:
        raise Conflict(
            _("question %(position)d is not answered yet: answer it first"),
            field="position",
            position=position,
        )
    if attempt.rating is not None:
        return attempt
    points = _check_covered(attempt, covered)
    recorded = rows_changed(
        session,
        update(MockAttempt)
        .where(MockAttempt.id == attempt.id, MockAttempt.rating.is_(None))
        .values(rating=rating, covered=points, graded_at=now)
        .execution_options(synchronize_session=False),
    )
    if not recorded:
        session.rollback()
        session.refresh(attempt)
        return attempt
    session.commit()
    for each in mock.attempts:  # the UPDATE bypassed the loaded rows
        session.expire(each)
    if current_attempt(mock) is None and mock.finished_at is None:
        mock.finished_at = now
        session.commit()
    if mock.feeds_reviews:
        _feed(session, user, attempt, rating, now)
    session.refresh(attempt)
    return attempt


def _feed(
    session: Session, user: User, attempt: MockAttempt, rating: int, now: dt.datetime
) -> None:
    """The grade as a review of the question's flashcard (``source="mock"``)."""
    question_id = attempt.question_id
    duration = attempt.duration_ms
    if duration is not None:
        duration = min(duration, review.MAX_DURATION_MS)
    version = review.current_version(session=session, user=user, question_id=question_id)
    try:
        review.rate(
            session=session,
            user=user,
            question_id=question_id,
            rating=rating,
            version=version,
            duration_ms=duration,
            now=now,
            source=MOCK_SOURCE,
        )
    except (Conflict, NotFound):
        session.rollback()  # archived or rated meanwhile: the grade itself is kept


def past_mocks(*, session: Session, user: User, limit: int = 20) -> list[MockInterview]:
    """The user's latest mock interviews, newest first."""
    return list(
        session.scalars(
            select(MockInterview)
            .where(MockInterview.user_id == user.id)
            .order_by(MockInterview.created_at.desc(), MockInterview.id.desc())
            .limit(limit)
        )
    )
