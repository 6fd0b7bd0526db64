"""The JSON API for mock interviews: start one, show, answer and grade its questions,
read its report and a question's attempt history. The same services as the pages."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from app.content.queries import get_question
from app.mock import service
from app.mock.report import AttemptView, attempt_history, mock_report
from app.models import MockAttempt, MockInterview
from app.web.csrf import same_origin
from app.web.deps import CurrentUserDep, IdPath, PositionPath, SessionDep

router = APIRouter(prefix="/api", tags=["mock interviews"], dependencies=[Depends(same_origin)])


class MockCreate(BaseModel):
    company: str | None = Field(default=None, max_length=200, description="None: any")
    stage: str | None = Field(default=None, max_length=100, description="e.g. 一面")
    interview_id: int | None = Field(
        default=None, ge=1, le=2**62, description="An interview of your plan: its company and stage"
    )
    count: int = Field(default=5, description=f"1 to {service.MAX_COUNT}")
    minutes: int = Field(default=30, description=f"1 to {service.MAX_MINUTES}")
    seed: int | None = Field(default=None, ge=0, lt=2**31, description="Makes it repeatable")


class AttemptPublic(BaseModel):
    position: int
    question_id: str
    tier: int = Field(description="1 asked at this round, 2 by this company, 3 topic, 4 other")
    shown_at: dt.datetime | None
    answered_at: dt.datetime | None
    duration_ms: int | None = Field(description="Measured by the server: answered - shown")
    text: str | None
    points: list[str] = Field(description="The key points (known once answered)")
    matched: list[bool] = Field(description="Found in the answer by the recall matcher")
    covered: list[bool] | None = Field(description="As graded: matched or ticked by hand")
    rating: int | None


class MockPublic(BaseModel):
    id: int
    company: str | None
    stage: str | None
    interview_id: int | None
    requested: int
    limit_s: int
    share_s: int
    created_at: dt.datetime
    finished_at: dt.datetime | None
    current: int | None = Field(description="Position of the first question not graded")
    attempts: list[AttemptPublic]


class AnswerCreate(BaseModel):
    text: str = Field(default="", max_length=service.MAX_TEXT)


class GradeCreate(BaseModel):
    rating: int = Field(description="1 Again, 2 Hard, 3 Good, 4 Easy")
    covered: list[int] = Field(
        default_factory=list, max_length=1000, description="Indexes of the points covered"
    )


class ItemReportPublic(BaseModel):
    position: int
    question_id: str
    title: str
    seconds: float | None
    over: bool
    covered: int
    points: int
    rating: int | None


class TopicReportPublic(BaseModel):
    tag: str
    questions: int
    score: float


class ReportPublic(BaseModel):
    mock_id: int
    finished: bool
    seconds: float
    limit_s: int
    share_s: int
    covered: int
    points: int
    items: list[ItemReportPublic]
    weakest: list[TopicReportPublic]
    review_next: list[ItemReportPublic]


def attempt_public(attempt: MockAttempt) -> AttemptPublic:
    return AttemptPublic.model_validate(attempt, from_attributes=True)


def mock_public(mock: MockInterview) -> MockPublic:
    current = service.current_attempt(mock)
    return MockPublic(
        id=mock.id,
        company=mock.company,
        stage=mock.stage,
        interview_id=mock.interview_id,
        requested=mock.count,
        limit_s=mock.limit_s,
        share_s=service.share_s(mock),
        created_at=mock.created_at,
        finished_at=mock.finished_at,
        current=current.position if current is not None else None,
        attempts=[attempt_public(a) for a in mock.attempts],
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@router.post("/mock", status_code=201)
def create_mock(body: MockCreate, session: SessionDep, user: CurrentUserDep) -> MockPublic:
    """A new mock interview; fewer questions than requested when the bank has fewer."""
    spec = service.MockSpec(
        company=body.company,
        stage=body.stage,
        interview_id=body.interview_id,
        count=body.count,
        minutes=body.minutes,
    )
    mock = service.create_mock(session=session, user=user, spec=spec, now=_now(), seed=body.seed)
    return mock_public(mock)


@router.get("/mock/{mock_id}")
def get_mock(mock_id: IdPath, session: SessionDep, user: CurrentUserDep) -> MockPublic:
    return mock_public(service.get_mock(session=session, user=user, mock_id=mock_id))


@router.post("/mock/{mock_id}/items/{position}/show")
def show(
    mock_id: IdPath, position: PositionPath, session: SessionDep, user: CurrentUserDep
) -> AttemptPublic:
    """Start the question's clock (the first call only)."""
    attempt = service.show(
        session=session, user=user, mock_id=mock_id, position=position, now=_now()
    )
    return attempt_public(attempt)


@router.post("/mock/{mock_id}/items/{position}/answer")
def answer(
    mock_id: IdPath,
    position: PositionPath,
    body: AnswerCreate,
    session: SessionDep,
    user: CurrentUserDep,
) -> AttemptPublic:
    """Record the answer, its time and the key points it matches; again: no change."""
    attempt = service.answer(
        session=session, user=user, mock_id=mock_id, position=position, text=body.text, now=_now()
    )
    return attempt_public(attempt)


@router.post("/mock/{mock_id}/items/{position}/grade")
def grade(
    mock_id: IdPath,
    position: PositionPath,
    body: GradeCreate,
    session: SessionDep,
    user: CurrentUserDep,
) -> AttemptPublic:
    """Grade an answered question and feed its flashcard; again: no change."""
    attempt = service.grade(
        session=session,
        user=user,
        mock_id=mock_id,
        position=position,
        rating=body.rating,
        covered=body.covered,
        now=_now(),
    )
    return attempt_public(attempt)


def _item(item: object) -> ItemReportPublic:
    return ItemReportPublic.model_validate(item, from_attributes=True)


@router.get("/mock/{mock_id}/report")
def report(mock_id: IdPath, session: SessionDep, user: CurrentUserDep) -> ReportPublic:
    """Time per question, points covered, weakest topics, what to review next."""
    r = mock_report(session=session, user=user, mock_id=mock_id)
    return ReportPublic(
        mock_id=r.mock.id,
        finished=r.finished,
        seconds=r.seconds,
        limit_s=r.limit_s,
        share_s=r.share_s,
        covered=r.covered,
        points=r.points,
        items=[_item(i) for i in r.items],
        weakest=[TopicReportPublic.model_validate(t, from_attributes=True) for t in r.weakest],
        review_next=[_item(i) for i in r.review_next],
    )


@router.get("/questions/{question_id}/attempts")
def attempts(question_id: str, session: SessionDep, user: CurrentUserDep) -> list[AttemptView]:
    """Every mock interview answer to the question, newest first (the report's own
    ``AttemptView``s, as the question page lists them)."""
    get_question(session=session, question_id=question_id)  # 404 for an unknown id
    return attempt_history(session=session, user=user, question_id=question_id)
