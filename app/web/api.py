"""The JSON API under /api for the question bank. Study endpoints: ``app.web.study_api``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.content.queries import chapter_summaries, facet_values, get_question, list_questions
from app.web.csrf import same_origin
from app.web.deps import FilterDep, SessionDep
from app.web.schemas import (
    ChapterPublic,
    FacetValue,
    QuestionPage,
    QuestionPublic,
    QuestionSummaryPublic,
)

# Far past any bank, and within the database's 64-bit integers.
MAX_OFFSET = 10**9

router = APIRouter(prefix="/api", tags=["questions"], dependencies=[Depends(same_origin)])


@router.get("/chapters")
def list_chapters(session: SessionDep) -> list[ChapterPublic]:
    """Chapters with their count of active questions."""
    return [ChapterPublic.model_validate(c) for c in chapter_summaries(session=session)]


@router.get("/questions")
def api_list_questions(
    session: SessionDep,
    flt: FilterDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> QuestionPage:
    """Questions passing the filters (facets combine; values within a facet are alternatives)."""
    total, items = list_questions(session=session, flt=flt, limit=limit, offset=offset)
    return QuestionPage(
        total=total,
        limit=limit,
        offset=offset,
        items=[QuestionSummaryPublic.model_validate(i) for i in items],
    )


@router.get("/questions/{question_id}")
def api_get_question(question_id: str, session: SessionDep) -> QuestionPublic:
    """One question with its rendered answer."""
    return QuestionPublic.model_validate(get_question(session=session, question_id=question_id))


@router.get("/facets")
def api_facets(session: SessionDep) -> dict[str, list[FacetValue]]:
    """Each filter facet's values with their question counts."""
    return {
        name: [FacetValue(value=v, count=c) for v, c in values]
        for name, values in facet_values(session=session).items()
    }


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}
