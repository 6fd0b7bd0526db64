"""Mock interviews in the user-data file (new in version 3): their records, checks,
export and import.

Each record of ``mock_interviews`` is a ``MockInterview`` with its attempts in the order
they were asked::

    {"interview_index": 0, "company": "...", "stage": "...", "count": 5, "limit_s": 1800,
     "seed": 7, "feeds_reviews": true, "created_at": "...", "finished_at": null,
     "attempts": [{"position": 0, "question_id": "...", "tier": 1, "shown_at": "...",
                   "answered_at": "...", "duration_ms": 150000, "text": "...",
                   "points": [...], "matched": [...], "covered": [...] | null,
                   "rating": 3 | null, "graded_at": "..." | null}]}

A row id does not travel, so the interview from the plan a mock practises for is named
by its index in the file's ``interviews`` list (``interview_index``; null for none).
Checks beyond the schema (``check_mocks``): that index names an interview of the file,
one attempt per position, ``matched`` and ``covered`` as long as ``points``, a graded
attempt answered; texts within what the mock page takes (``app.mock.service.MAX_TEXT``).

On import (``write_mocks``), as quizzes: attempts of questions the bank lacks are
skipped and counted, the remaining ones renumbered; a mock interview left empty is
skipped and counted too.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from app.errors import Unprocessable
from app.export.records import INT32, Json, in_bank, iso
from app.export.records import Record as _Record
from app.i18n import mark as N_
from app.mock.service import MAX_COUNT, MAX_MINUTES, MAX_TEXT
from app.models import MockAttempt, MockInterview, User

# A question's key terms: the bank's are a few short phrases each.
MAX_POINTS = 1000
Point = Annotated[str, Field(max_length=1000)]


class MockAttemptData(_Record):
    position: int = Field(ge=0, le=10_000)
    question_id: str = Field(max_length=200)
    tier: int = Field(ge=1, le=4)
    shown_at: AwareDatetime | None = None
    answered_at: AwareDatetime | None = None
    duration_ms: int | None = Field(default=None, ge=0, le=INT32)
    text: str | None = Field(default=None, max_length=MAX_TEXT)
    points: list[Point] = Field(default_factory=list, max_length=MAX_POINTS)
    matched: list[bool] = Field(default_factory=list, max_length=MAX_POINTS)
    covered: list[bool] | None = Field(default=None, max_length=MAX_POINTS)
    rating: int | None = Field(default=None, ge=1, le=4)
    graded_at: AwareDatetime | None = None


class MockInterviewData(_Record):
    interview_index: int | None = Field(
        default=None, ge=0, description="Index in the file's interviews (null: none)"
    )
    company: str | None = Field(default=None, max_length=200)
    stage: str | None = Field(default=None, max_length=100)
    count: int = Field(ge=1, le=MAX_COUNT)
    limit_s: int = Field(ge=1, le=MAX_MINUTES * 60)
    seed: int = Field(ge=-INT32 - 1, le=INT32)
    feeds_reviews: bool
    created_at: AwareDatetime
    finished_at: AwareDatetime | None = None
    attempts: list[MockAttemptData] = Field(max_length=MAX_COUNT)


def check_mocks(mocks: list[MockInterviewData], *, interviews: int) -> None:
    """What the schema cannot say (module docstring); ``interviews``: how many the
    file's ``interviews`` list holds."""
    for n, mock in enumerate(mocks):
        where = f"mock_interviews.{n}"
        if mock.interview_index is not None and mock.interview_index >= interviews:
            raise Unprocessable(
                N_(
                    "%(where)s.interview_index: %(index)s names no interview "
                    "(the file has %(count)s)"
                ),
                field=f"{where}.interview_index",
                where=where,
                index=mock.interview_index,
                count=interviews,
            )
        positions: set[int] = set()
        for k, attempt in enumerate(mock.attempts):
            if attempt.position in positions:
                raise Unprocessable(
                    N_(
                        "%(where)s.attempts.%(k)s.position: a second attempt at "
                        "position %(position)s"
                    ),
                    field=f"{where}.attempts.{k}.position",
                    where=where,
                    k=k,
                    position=attempt.position,
                )
            positions.add(attempt.position)
            _check_attempt(attempt, f"{where}.attempts.{k}")


def _check_attempt(attempt: MockAttemptData, where: str) -> None:
    points = len(attempt.points)
    for name in ("matched", "covered"):
        marks = getattr(attempt, name)
        if marks is not None and len(marks) != points:
            raise Unprocessable(
                N_("%(where)s.%(name)s: %(marks)s marks for %(points)s key points"),
                field=f"{where}.{name}",
                where=where,
                name=name,
                marks=len(marks),
                points=points,
            )
    if attempt.rating is not None and attempt.answered_at is None:
        raise Unprocessable(
            N_("%(where)s.rating: a graded attempt must be answered (answered_at is null)"),
            field=f"{where}.rating",
            where=where,
        )


def export_mocks(*, session: Session, user: User, interview_ids: list[int]) -> list[Json]:
    """The user's mock interviews, oldest first; ``interview_ids``: the row ids of the
    interviews in the order the file lists them."""
    index = {interview_id: n for n, interview_id in enumerate(interview_ids)}
    mocks = session.scalars(
        select(MockInterview)
        .where(MockInterview.user_id == user.id)
        .options(selectinload(MockInterview.attempts))
        .order_by(MockInterview.created_at, MockInterview.id)
    ).all()
    return [
        {
            "interview_index": index.get(m.interview_id) if m.interview_id is not None else None,
            "company": m.company,
            "stage": m.stage,
            "count": m.count,
            "limit_s": m.limit_s,
            "seed": m.seed,
            "feeds_reviews": m.feeds_reviews,
            "created_at": iso(m.created_at),
            "finished_at": iso(m.finished_at),
            "attempts": [_attempt(a) for a in m.attempts],
        }
        for m in mocks
    ]


def _attempt(a: MockAttempt) -> Json:
    return {
        "position": a.position,
        "question_id": a.question_id,
        "tier": a.tier,
        "shown_at": iso(a.shown_at),
        "answered_at": iso(a.answered_at),
        "duration_ms": a.duration_ms,
        "text": a.text,
        "points": list(a.points),
        "matched": list(a.matched),
        "covered": list(a.covered) if a.covered is not None else None,
        "rating": a.rating,
        "graded_at": iso(a.graded_at),
    }


def clear_mocks(session: Session, user_id: int) -> None:
    """Delete the user's mock interviews (before their interviews: no dangling link)."""
    session.execute(delete(MockAttempt).where(MockAttempt.user_id == user_id))
    session.execute(delete(MockInterview).where(MockInterview.user_id == user_id))


def write_mocks(
    session: Session,
    user: User,
    mocks: list[MockInterviewData],
    *,
    bank: set[str],
    interview_ids: list[int],
) -> tuple[int, int]:
    """Add checked records (module docstring): how many mock interviews were written,
    and how many records were skipped for questions the bank lacks."""
    written = skipped = 0
    for m in mocks:
        kept, left_out = in_bank(m.attempts, bank)
        skipped += left_out
        if not kept:
            skipped += 1
            continue
        index = m.interview_index
        mock = MockInterview(
            user_id=user.id,
            interview_id=interview_ids[index] if index is not None else None,
            **m.model_dump(exclude={"interview_index", "attempts"}),
        )
        # Positions index the mock's pages: renumbered when an attempt was skipped.
        mock.attempts = [
            MockAttempt(user_id=user.id, **a.model_dump(exclude={"position"}), position=n)
            for n, a in enumerate(kept)
        ]
        session.add(mock)
        written += 1
    return written, skipped
