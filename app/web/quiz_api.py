"""The JSON API for quizzes: create one over a slice, answer its items, read results."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from app.content.filters import QuestionFilter
from app.models import Quiz, QuizItem
from app.quiz import service
from app.quiz.build import ALL_TYPES, QuestionType
from app.quiz.results import quiz_results
from app.web.csrf import same_origin
from app.web.deps import CurrentUserDep, IdPath, PositionPath, SessionDep

router = APIRouter(prefix="/api/quizzes", tags=["quizzes"], dependencies=[Depends(same_origin)])
# Payload keys that give the answer away: hidden until the item is answered (a
# takeaway choice's question id would point at the right one).
SECRET_KEYS = ("answer", "key_terms", "explanation")


class QuizCreate(BaseModel):
    company: list[str] = Field(default_factory=list)
    role: list[str] = Field(default_factory=list)
    stage: list[str] = Field(default_factory=list)
    tag: list[str] = Field(default_factory=list)
    chapter: list[str] = Field(default_factory=list)
    q: str = Field(default="", max_length=200)
    focus: Literal["all", "due_soon", "weakest"] = "all"
    count: int = Field(default=10, ge=1, le=service.MAX_QUESTIONS)
    types: list[QuestionType] = Field(default_factory=lambda: list(ALL_TYPES))
    seed: int | None = Field(default=None, ge=0, lt=2**31, description="Makes it repeatable")

    def spec(self) -> service.QuizSpec:
        flt = QuestionFilter.from_params(
            self.model_dump(include=set(QuestionFilter.__annotations__))
        )
        return service.QuizSpec(
            flt=flt, focus=self.focus, count=self.count, types=tuple(self.types)
        )


class QuizItemPublic(BaseModel):
    position: int
    question_id: str
    type: str
    payload: dict[str, Any]
    answered: bool
    verdict: str | None
    correct: bool | None


class QuizPublic(BaseModel):
    id: int
    created_at: dt.datetime
    finished_at: dt.datetime | None
    requested: int
    size: int
    current: int | None = Field(description="Position of the first unanswered item")
    items: list[QuizItemPublic]


class AnswerCreate(BaseModel):
    choice: int | None = Field(default=None, ge=0, le=9, description="takeaway: the index")
    text: str = Field(default="", max_length=5000, description="recall and cloze")
    self_grade: bool | None = Field(default=None, description="recall: did you know it?")
    duration_ms: int | None = Field(default=None, ge=0, le=24 * 3600 * 1000)


class AnswerPublic(BaseModel):
    position: int
    verdict: str | None
    correct: bool | None
    expected: str
    finished: bool


class CoveragePublic(BaseModel):
    term: str
    covered: bool


def _item_public(item: QuizItem) -> QuizItemPublic:
    payload = dict(item.payload)
    if item.answered_at is None:
        for key in SECRET_KEYS:
            payload.pop(key, None)
        if "choices" in payload:
            payload["choices"] = [{"html": c["html"]} for c in payload["choices"]]
    return QuizItemPublic(
        position=item.position,
        question_id=item.question_id,
        type=item.type,
        payload=payload,
        answered=item.answered_at is not None,
        verdict=item.verdict,
        correct=item.correct,
    )


def quiz_public(quiz: Quiz) -> QuizPublic:
    current = service.current_item(quiz)
    return QuizPublic(
        id=quiz.id,
        created_at=quiz.created_at,
        finished_at=quiz.finished_at,
        requested=int(quiz.spec.get("count", len(quiz.items))),
        size=len(quiz.items),
        current=current.position if current is not None else None,
        items=[_item_public(i) for i in quiz.items],
    )


@router.post("")
def create_quiz(body: QuizCreate, session: SessionDep, user: CurrentUserDep) -> QuizPublic:
    """A quiz over the slice; ``size`` < ``requested`` when fewer questions match."""
    quiz = service.create_quiz(
        session=session, user=user, spec=body.spec(), now=dt.datetime.now(dt.UTC), seed=body.seed
    )
    return quiz_public(quiz)


@router.get("/{quiz_id}")
def get_quiz(quiz_id: IdPath, session: SessionDep, user: CurrentUserDep) -> QuizPublic:
    return quiz_public(service.get_quiz(session=session, user=user, quiz_id=quiz_id))


@router.post("/{quiz_id}/items/{position}/check")
def check_recall(
    quiz_id: IdPath,
    position: PositionPath,
    body: AnswerCreate,
    session: SessionDep,
    user: CurrentUserDep,
) -> list[CoveragePublic]:
    """Which key terms a written answer covers (before the self-grade)."""
    covered = service.check_recall(
        session=session, user=user, quiz_id=quiz_id, position=position, text=body.text
    )
    return [CoveragePublic(term=t, covered=c) for t, c in covered]


@router.post("/{quiz_id}/items/{position}/answer")
def answer(
    quiz_id: IdPath,
    position: PositionPath,
    body: AnswerCreate,
    session: SessionDep,
    user: CurrentUserDep,
) -> AnswerPublic:
    """Grade and save an answer; answering again changes nothing."""
    response: dict[str, Any] = {"text": body.text}
    if body.choice is not None:
        response["choice"] = body.choice
    if body.self_grade is not None:
        response["self_grade"] = body.self_grade
    item = service.answer_item(
        session=session,
        user=user,
        quiz_id=quiz_id,
        position=position,
        response=response,
        now=dt.datetime.now(dt.UTC),
        duration_ms=body.duration_ms,
    )
    quiz = service.get_quiz(session=session, user=user, quiz_id=quiz_id)
    return AnswerPublic(
        position=item.position,
        verdict=item.verdict,
        correct=item.correct,
        expected=service.grade_response(item, item.response or {}).expected,
        finished=quiz.finished_at is not None,
    )


@router.get("/{quiz_id}/results")
def results(quiz_id: IdPath, session: SessionDep, user: CurrentUserDep) -> dict[str, Any]:
    """Score, time, mistakes with the reference, accuracy per tag and company, trend."""
    r = quiz_results(session=session, user=user, quiz_id=quiz_id, now=dt.datetime.now(dt.UTC))
    return {
        "quiz_id": r.quiz_id,
        "finished": r.finished,
        "total": r.total,
        "correct": r.correct,
        "score": r.score,
        "seconds": r.seconds,
        "mistakes": [
            {
                "position": m.position,
                "question_id": m.question_id,
                "title": m.title,
                "type": m.type,
                "verdict": m.verdict,
                "expected": m.expected,
                "response": m.response,
            }
            for m in r.mistakes
        ],
        "per_tag": [{"tag": a.name, "correct": a.correct, "total": a.total} for a in r.per_tag],
        "per_company": [
            {"company": a.name, "correct": a.correct, "total": a.total} for a in r.per_company
        ],
        "trend": [
            {"quiz_id": t.quiz_id, "finished_at": t.finished_at.isoformat(), "score": t.score}
            for t in r.trend
        ],
    }
