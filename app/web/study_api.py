"""The JSON API for studying: next due card, rate, undo, queue stats, study settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from app.content.queries import get_question
from app.study import review
from app.web.csrf import same_origin
from app.web.deps import CurrentUserDep, FilterDep, SessionDep, session_and_user
from app.web.schemas import QuestionPublic

router = APIRouter(prefix="/api", tags=["study"], dependencies=[Depends(same_origin)])


class OutcomePublic(BaseModel):
    label: str = Field(description="The interval as Anki shows it, e.g. '10m', '3d'")
    due: dt.datetime
    interval_seconds: int


class ShownCardPublic(BaseModel):
    question: QuestionPublic
    version: int = Field(description="Send it back with the rating")
    state: int = Field(description="0 new, 1 learning, 2 review, 3 relearning")
    previews: dict[int, OutcomePublic] = Field(description="Rating 1-4 -> its outcome")


class QueueCountsPublic(BaseModel):
    due_today: int
    new_left_today: int
    new_available: int
    reviewed_today: int
    streak_days: int


class NextCardPublic(BaseModel):
    card: ShownCardPublic | None
    counts: QueueCountsPublic


class RateCreate(BaseModel):
    question_id: str = Field(max_length=200)
    rating: int = Field(ge=1, le=4, description="1 Again, 2 Hard, 3 Good, 4 Easy")
    # Integer column: a version past 32 bits was never shown (and PostgreSQL can't hold it).
    version: int = Field(ge=0, lt=2**31, description="The version the card was shown with")
    duration_ms: int | None = Field(default=None, ge=0, le=24 * 3600 * 1000)


class RatePublic(BaseModel):
    question_id: str
    due: dt.datetime
    interval_seconds: int
    label: str
    state: int
    version: int
    duplicate: bool = Field(description="True when this showing was already rated")


class UndoPublic(BaseModel):
    question_id: str | None


class StudySettingsPublic(BaseModel):
    new_per_day: int
    desired_retention: float
    timezone: str
    quiz_feeds_reviews: bool
    leech_threshold: int


class StudySettingsUpdate(BaseModel):
    new_per_day: int | None = Field(default=None, ge=0, le=9999)
    desired_retention: float | None = Field(default=None, ge=0.7, le=0.99)
    timezone: str | None = Field(default=None, max_length=64)
    quiz_feeds_reviews: bool | None = Field(
        default=None, description="A wrong quiz answer counts as an Again"
    )
    leech_threshold: int | None = Field(
        default=None, ge=1, le=100, description="Lapses that make a card a leech"
    )


def _outcome(o: Any) -> OutcomePublic:
    return OutcomePublic(label=o.label, due=o.due, interval_seconds=int(o.interval.total_seconds()))


def _json(model: BaseModel) -> Response:
    """``model`` as the response body, serialised once: FastAPI would validate a returned
    model against ``response_model`` again before serialising it."""
    return Response(model.model_dump_json(), media_type="application/json")


# The review loop's two endpoints resolve the session and user in their (sync) body:
# one thread-pool hop per request rather than four (see ``deps.session_and_user``).
# ``response_model`` keeps the documented schema; the body is serialised by ``_json``.
@router.get("/review/next", response_model=NextCardPublic)
def next_card(request: Request, flt: FilterDep) -> Response:
    """The next card to review under the filters (due cards first, then new ones)."""
    now = dt.datetime.now(dt.UTC)
    with session_and_user(request) as (session, user):
        shown = review.next_card(session=session, user=user, flt=flt, now=now)
        counts = QueueCountsPublic.model_validate(
            review.queue_counts(session=session, user=user, flt=flt, now=now),
            from_attributes=True,
        )
        if shown is None:
            return _json(NextCardPublic(card=None, counts=counts))
        question = QuestionPublic.model_validate(
            get_question(session=session, question_id=shown.question_id)
        )
    card = ShownCardPublic(
        question=question,
        version=shown.version,
        state=int(shown.state),
        previews={int(r): _outcome(o) for r, o in shown.previews.items()},
    )
    return _json(NextCardPublic(card=card, counts=counts))


@router.post("/review/rate", response_model=RatePublic)
def rate(request: Request, body: RateCreate) -> Response:
    """Rate the shown card. A second rating of the same showing records nothing new."""
    with session_and_user(request) as (session, user):
        result = review.rate(
            session=session,
            user=user,
            question_id=body.question_id,
            rating=body.rating,
            version=body.version,
            duration_ms=body.duration_ms,
            now=dt.datetime.now(dt.UTC),
        )
    return _json(
        RatePublic(
            question_id=result.question_id,
            due=result.due,
            interval_seconds=int(result.interval.total_seconds()),
            label=result.label,
            state=result.state,
            version=result.version,
            duplicate=result.duplicate,
        )
    )


@router.post("/review/undo")
def undo(session: SessionDep, user: CurrentUserDep) -> UndoPublic:
    """Undo the last rating: the card gets back exactly its previous state."""
    undone = review.undo_last(session=session, user=user, now=dt.datetime.now(dt.UTC))
    return UndoPublic(question_id=undone.question_id if undone else None)


@router.get("/stats")
def stats(session: SessionDep, user: CurrentUserDep, flt: FilterDep) -> QueueCountsPublic:
    """Today's queue: due, new left, reviewed, and the streak."""
    counts = review.queue_counts(session=session, user=user, flt=flt, now=dt.datetime.now(dt.UTC))
    return QueueCountsPublic.model_validate(counts, from_attributes=True)


@router.get("/settings")
def get_study_settings(user: CurrentUserDep) -> StudySettingsPublic:
    return StudySettingsPublic.model_validate(user, from_attributes=True)


@router.put("/settings")
def put_study_settings(
    body: StudySettingsUpdate, session: SessionDep, user: CurrentUserDep
) -> StudySettingsPublic:
    """Change the daily new-card limit, desired retention, time zone, quiz feeding or
    the leech threshold."""
    review.set_study_settings(
        session=session,
        user=user,
        new_per_day=body.new_per_day,
        desired_retention=body.desired_retention,
        timezone=body.timezone,
        quiz_feeds_reviews=body.quiz_feeds_reviews,
        leech_threshold=body.leech_threshold,
    )
    return StudySettingsPublic.model_validate(user, from_attributes=True)
