"""The JSON API under /api."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from app.content.queries import chapter_summaries
from app.web.deps import SessionDep

router = APIRouter(prefix="/api", tags=["api"])


class ChapterPublic(BaseModel):
    slug: str
    title: str
    description: str | None
    questions: int


@router.get("/chapters")
def list_chapters(session: SessionDep) -> list[ChapterPublic]:
    return [ChapterPublic(**vars(c)) for c in chapter_summaries(session=session)]


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}
